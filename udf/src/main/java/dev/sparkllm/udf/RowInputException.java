package dev.sparkllm.udf;

/**
 * The row itself cannot be generated (empty prompt, unknown role, option out of range, prompt too long with
 * truncation off). Becomes an error row; the job goes on.
 */
public class RowInputException extends Exception {
    public RowInputException(String message) {
        super(message);
    }

    public RowInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
