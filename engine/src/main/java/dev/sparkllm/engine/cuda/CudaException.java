package dev.sparkllm.engine.cuda;

/**
 * A CUDA failure: no usable GPU or driver, too little memory, or an error in a kernel. {@link #sticky()} errors
 * (an illegal address, a trap) leave the context unusable: the backend closes, the engine fails, and Spark
 * retries the task elsewhere.
 */
public final class CudaException extends RuntimeException {

    private final boolean sticky;

    public CudaException(String message) {
        this(message, false);
    }

    public CudaException(String message, boolean sticky) {
        super(message);
        this.sticky = sticky;
    }

    public boolean sticky() {
        return sticky;
    }
}
