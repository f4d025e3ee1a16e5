package dev.sparkllm.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Incremental decoding that reproduces the whole-sequence decode exactly. Each step decodes
 * {@code head + window} and returns what it adds beyond the text already returned:
 * <ul>
 *   <li>{@code head}: the first tokens, up to the first step that produced text. Rules that apply to the start
 *       of the text (Strip's leading spaces, Metaspace's first-token rule) act on it as in the full decode.</li>
 *   <li>{@code window}: the tokens of the last step that produced text plus those since. Keeping them gives
 *       the context rules at the end need (a trailing space that Strip removes reappears once text follows).</li>
 * </ul>
 * Text is held back while a run of byte-fallback tokens may continue (Hugging Face decodes a run as a whole,
 * so an invalid run becomes one U+FFFD per byte only once complete) and while it ends in U+FFFD (an
 * incomplete character from a byte-level decoder).
 */
final class StreamingDecoder implements IncrementalDecoder {

    private final PipelineTokenizer tokenizer;
    private List<String> head;                                // null until the first text is produced
    private final List<String> window = new ArrayList<>();
    private int windowRead;                                   // window[0..windowRead) is covered by windowText
    private String windowText = "";                           // decode(head + window[0..windowRead))
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
        String decoded = decodeWindow();
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
        return emit(decodeWindow());
    }

    private String decodeWindow() {
        if (head == null) return tokenizer.decodeTokens(window);
        List<String> all = new ArrayList<>(head.size() + window.size());
        all.addAll(head);
        all.addAll(window);
        return tokenizer.decodeTokens(all);
    }

    private String emit(String decoded) {
        if (!decoded.startsWith(windowText)) {
            throw new IllegalStateException("incremental decode diverged: '" + windowText + "' is not a prefix of '"
                    + decoded + "'; this tokenizer's decoder cannot be decoded incrementally");
        }
        String piece = decoded.substring(windowText.length());
        if (head == null && !decoded.isEmpty()) {
            head = new ArrayList<>(window);
            window.clear();
            windowRead = 0;
            windowText = decoded;
        } else if (head != null && !piece.isEmpty()) {
            window.subList(0, windowRead).clear();
            windowRead = window.size();
            windowText = decodeWindow();
        } else {
            windowRead = window.size();
            windowText = decoded;
        }
        text.append(piece);
        return piece;
    }
}
