package dev.sparkllm.engine.checkpoint;

/**
 * A model directory or safetensors file that cannot be used: missing or truncated files, corrupt headers,
 * tensors of the wrong shape, unsupported architectures or quantisation settings. The message names the file
 * and the problem, and where it can, what to do about it.
 */
public class CheckpointException extends RuntimeException {

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
