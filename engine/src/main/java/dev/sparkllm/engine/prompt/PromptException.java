package dev.sparkllm.engine.prompt;

/**
 * A prompt that cannot be formatted because of the input itself (unknown role, an order the template cannot
 * express, an empty prompt, a prompt too long under {@link PromptOptions.Truncation#FAIL}). Batch jobs turn it
 * into an error row for that input rather than failing the task.
 */
public class PromptException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public PromptException(String message) {
        super(message);
    }

    public PromptException(String message, Throwable cause) {
        super(message, cause);
    }
}
