package dev.sparkllm.notebook.kernel;

/** A cell (or one of its snippets) does not compile; the message carries the compiler's errors with a caret. */
public final class CellCompileException extends RuntimeException {
    public CellCompileException(String message) {
        // No stack: the kernel's own frames say nothing about the user's code (Jupyter shows them in the reply).
        super(message, null, false, false);
    }
}
