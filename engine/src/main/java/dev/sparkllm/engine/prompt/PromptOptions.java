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
 * @param renderLimits                 how long rendering may take and how large its output may grow; null means
 *                                     {@link RenderLimits#defaults()}
 */
public record PromptOptions(String template, String systemPrompt, Truncation truncation,
                            boolean allowSpecialTokensInContent, RenderLimits renderLimits) implements Serializable {

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
        if (renderLimits == null) renderLimits = RenderLimits.defaults();
    }

    public PromptOptions(String template, String systemPrompt, Truncation truncation, boolean allowSpecialTokensInContent) {
        this(template, systemPrompt, truncation, allowSpecialTokensInContent, null);
    }

    /** Template {@code raw}, no system prompt, {@code DROP_START_OF_CONTENT}, special tokens in data stay text, default limits. */
    public static PromptOptions defaults() {
        return new PromptOptions("raw", null, Truncation.DROP_START_OF_CONTENT, false, RenderLimits.defaults());
    }

    public PromptOptions withTemplate(String newTemplate) {
        return new PromptOptions(newTemplate, systemPrompt, truncation, allowSpecialTokensInContent, renderLimits);
    }

    public PromptOptions withSystemPrompt(String newSystemPrompt) {
        return new PromptOptions(template, newSystemPrompt, truncation, allowSpecialTokensInContent, renderLimits);
    }

    public PromptOptions withTruncation(Truncation newTruncation) {
        return new PromptOptions(template, systemPrompt, newTruncation, allowSpecialTokensInContent, renderLimits);
    }

    public PromptOptions withAllowSpecialTokensInContent(boolean allow) {
        return new PromptOptions(template, systemPrompt, truncation, allow, renderLimits);
    }

    public PromptOptions withRenderLimits(RenderLimits limits) {
        return new PromptOptions(template, systemPrompt, truncation, allowSpecialTokensInContent, limits);
    }
}
