package dev.sparkllm.engine.tokenizer;

/**
 * Decodes generated tokens one at a time. The concatenation of everything {@link #append} returns equals
 * {@code decode(allTokens, skipSpecialTokens=true)} of the whole sequence: characters split across byte-fallback
 * tokens are held back until complete, and the leading-space rule of the decoder is applied as for the whole.
 */
public interface IncrementalDecoder {

    /** Adds a token and returns the text it completes (possibly empty). */
    String append(int tokenId);

    /** Text decoded so far. */
    String text();

    /** Flushes bytes still held back (an incomplete character at the end becomes U+FFFD, as decode does). */
    String finish();
}
