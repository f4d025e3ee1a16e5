package dev.sparkllm.engine.prompt;

import java.util.Arrays;

/**
 * A prompt ready for the engine.
 *
 * @param tokenIds        the prompt's token ids, BOS included once when the model wants one
 * @param renderedText    the template's output as text (for {@code --show-prompt} and audits)
 * @param truncated       whether content was dropped to fit the context
 * @param truncatedTokens how many tokens shorter the prompt became by truncation (0 when not truncated)
 */
public record FormattedPrompt(int[] tokenIds, String renderedText, boolean truncated, int truncatedTokens) {

    public FormattedPrompt {
        tokenIds = tokenIds.clone();
    }

    @Override
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    /** Number of prompt tokens. */
    public int length() {
        return tokenIds.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FormattedPrompt p && Arrays.equals(tokenIds, p.tokenIds)
                && renderedText.equals(p.renderedText) && truncated == p.truncated
                && truncatedTokens == p.truncatedTokens;
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(tokenIds) + renderedText.hashCode();
    }

    @Override
    public String toString() {
        return "FormattedPrompt[" + tokenIds.length + " tokens, truncated=" + truncated
                + (truncated ? " by " + truncatedTokens : "") + ", text=" + renderedText + "]";
    }
}
