package dev.sparkllm.engine.api;

/**
 * The engine (not the request) failed: device error, out of memory, engine closed. Callers should not turn
 * this into an error row: it fails the task, so Spark retries it elsewhere.
 */
public class EngineFailedException extends RuntimeException {
    public EngineFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
