package dev.sparkllm.engine.tokenizer;

import java.util.List;

/**
 * Text to token ids and back, with exact parity to Hugging Face {@code tokenizers} for the files it loads.
 * Knows nothing about the model.
 */
public interface Tokenizer {

    /** Size of the vocabulary including added tokens. */
    int vocabSize();

    /**
     * Hugging Face {@code encode(text, add_special_tokens)}: added and special tokens written in the text are
     * recognised; with {@code addSpecialTokens}, BOS/EOS are added as the tokenizer's config says
     * ({@code add_bos_token}, {@code add_eos_token}, or the post-processor).
     */
    int[] encode(String text, boolean addSpecialTokens);

    /**
     * Encodes a text assembled from segments as if their concatenation were encoded in one piece, except that
     * special-token strings are recognised only inside segments with {@code parseSpecial} set. Template markers
     * go in parsing segments and user data in non-parsing ones, so a literal {@code </s>} in a row's text stays
     * text while the template's own {@code </s>} becomes the real token. With no special strings in the data,
     * the result equals {@link #encode(String, boolean)} of the concatenation.
     */
    int[] encode(List<Segment> segments, boolean addSpecialTokens);

    /** Decodes ids to text, as Hugging Face {@code decode(ids, skip_special_tokens)}. */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** The token's string in the vocabulary (e.g. {@code "▁the"}, {@code "<0x0A>"}). */
    String tokenString(int id);

    /** Id of a token string in the vocabulary or among added tokens, or -1. */
    int tokenId(String token);

    /** Beginning-of-sequence id, or -1. */
    int bosId();

    /** End-of-sequence id, or -1. */
    int eosId();

    /** True when {@link #encode(String, boolean)} with special tokens adds BOS. */
    boolean addsBos();

    /** True for special tokens (those {@code decode} skips with {@code skipSpecialTokens}). */
    boolean isSpecial(int id);

    /** A fresh incremental decoder for one sequence of generated tokens. */
    IncrementalDecoder newDecoder();

    /**
     * A piece of text to encode.
     *
     * @param text         the text
     * @param parseSpecial whether special-token strings in it become special tokens
     */
    record Segment(String text, boolean parseSpecial) {
        public static Segment markup(String text) { return new Segment(text, true); }
        public static Segment content(String text) { return new Segment(text, false); }
    }
}
