package dev.sparkllm.notebook.kernel;

/** A cell (or one of its snippets) does not compile; the message carries the compiler's errors with a caret. */
public final class CellCompileException extends RuntimeException {
    public CellCompileException(String message) {
        super(message);
    }
}
