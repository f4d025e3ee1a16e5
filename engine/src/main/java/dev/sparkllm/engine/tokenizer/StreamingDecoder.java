package dev.sparkllm.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Incremental decoding over a sliding window of token strings. Each step decodes the window and returns what
 * it adds beyond the window's previous text; keeping the token before the new ones in the window preserves
 * context-dependent rules (the decoder strips the leading space of the first token only). Text is held back
 * while a run of byte-fallback tokens may continue (Hugging Face decodes a run as a whole, so an invalid run
 * turns into one U+FFFD per byte only once complete) and while it ends in U+FFFD (an incomplete character).
 */
final class StreamingDecoder implements IncrementalDecoder {

    private final PipelineTokenizer tokenizer;
    private final List<String> window = new ArrayList<>();   // token strings not yet known to be context-free
    private int windowRead;                                    // tokens of window[0..windowRead) are emitted
    private String windowText = "";                            // decode of window[0..windowRead)
    private final StringBuilder text = new StringBuilder();

    StreamingDecoder(PipelineTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    @Override
    public String append(int tokenId) {
        String token = tokenizer.decodableToken(tokenId, true);
        if (token == null) return "";   // skipped special or unknown id: decode leaves it out too
        window.add(token);
        if (ByteFallback.byteOf(token) >= 0) return "";
        String decoded = tokenizer.decodeTokens(window);
        if (decoded.endsWith("\uFFFD")) return "";
        return emit(decoded);
    }

    @Override
    public String text() {
        return text.toString();
    }

    @Override
    public String finish() {
        if (window.size() == windowRead) return "";
        return emit(tokenizer.decodeTokens(window));
    }

    private String emit(String decoded) {
        if (!decoded.startsWith(windowText)) {
            throw new IllegalStateException("incremental decode diverged: window text '" + windowText
                    + "' is not a prefix of '" + decoded + "'; the tokenizer's decoder is not prefix-stable");
        }
        String piece = decoded.substring(windowText.length());
        // Keep the new tokens as the next window: they carry the context the next token's decode needs.
        window.subList(0, windowRead).clear();
        windowRead = window.size();
        windowText = tokenizer.decodeTokens(window);
        text.append(piece);
        return piece;
    }
}
