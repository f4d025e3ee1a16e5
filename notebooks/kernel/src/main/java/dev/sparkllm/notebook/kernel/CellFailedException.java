package dev.sparkllm.notebook.kernel;

/**
 * A cell threw. The cause is the user's own exception object (cells run in this JVM), so its class, message,
 * causes and stack are the real ones.
 */
public final class CellFailedException extends RuntimeException {
    public CellFailedException(Throwable cause) {
        super(cause.getClass().getName() + ": " + cause.getMessage(), cause, false, false);
    }
}
