package dev.sparkllm.engine.prompt;

import java.io.Serializable;

/**
 * How prompts are formatted.
 *
 * @param template                     a template name ({@link PromptFormatter#templateNames()}) or the path of a
 *                                     template file; null means {@code raw}
 * @param systemPrompt                 system message used when a conversation has none (and for text prompts);
 *                                     null or empty for none
 * @param truncation                   what to do with a prompt longer than the context leaves room for
 * @param allowSpecialTokensInContent  let special-token strings in data (e.g. {@code </s>}) become control tokens;
 *                                     off by default, since rows could otherwise steer the model's framing
 */
public record PromptOptions(String template, String systemPrompt, Truncation truncation,
                            boolean allowSpecialTokensInContent) implements Serializable {

    /** What happens to a prompt that does not fit into {@code contextLength - maxNewTokens} tokens. */
    public enum Truncation {
        /** Keep the template's framing and the end of the content; drop from the start of the earliest content. */
        DROP_START_OF_CONTENT,
        /** Reject the prompt with a {@link PromptException}. */
        FAIL
    }

    public PromptOptions {
        if (template == null || template.isBlank()) template = "raw";
        if (systemPrompt != null && systemPrompt.isEmpty()) systemPrompt = null;
        if (truncation == null) truncation = Truncation.DROP_START_OF_CONTENT;
    }

    /** Template {@code raw}, no system prompt, {@code DROP_START_OF_CONTENT}, special tokens in data stay text. */
    public static PromptOptions defaults() {
        return new PromptOptions("raw", null, Truncation.DROP_START_OF_CONTENT, false);
    }

    public PromptOptions withTemplate(String newTemplate) {
        return new PromptOptions(newTemplate, systemPrompt, truncation, allowSpecialTokensInContent);
    }

    public PromptOptions withSystemPrompt(String newSystemPrompt) {
        return new PromptOptions(template, newSystemPrompt, truncation, allowSpecialTokensInContent);
    }

    public PromptOptions withTruncation(Truncation newTruncation) {
        return new PromptOptions(template, systemPrompt, newTruncation, allowSpecialTokensInContent);
    }

    public PromptOptions withAllowSpecialTokensInContent(boolean allow) {
        return new PromptOptions(template, systemPrompt, truncation, allow);
    }
}
