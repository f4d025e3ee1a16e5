package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * GPT-2's byte-level alphabet: every byte is shown as a printable character (printable Latin-1 bytes as
 * themselves, the rest as U+0100 onwards), so a byte-level BPE never meets an unknown character.
 */
final class ByteLevel {

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];   // indexed by char; -1 where not in the alphabet

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    /** The text's UTF-8 bytes in the byte-level alphabet. */
    static String toAlphabet(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(out);
    }

    /** The pre-tokenizer: optional prefix space, optional GPT-2 word split, then bytes to the alphabet. */
    static PreTokenizer preTokenizer(JsonNode node) {
        boolean addPrefixSpace = node.path("add_prefix_space").asBoolean(true);
        boolean useRegex = node.path("use_regex").asBoolean(true);
        TextPattern words = TextPattern.regex(PreTokenizer.GPT2_PATTERN);
        return (word, out) -> {
            String s = word.text();
            if (addPrefixSpace && !s.startsWith(" ")) s = " " + s;
            List<int[]> ranges = useRegex
                    ? SplitBehavior.ISOLATED.apply(s, words.matches(s), false)
                    : List.of(new int[]{0, s.length()});
            for (int[] r : ranges) {
                out.add(new PreTokenizer.Word(toAlphabet(s.substring(r[0], r[1])), word.atStart() && r[0] == 0));
            }
        };
    }

    /**
     * The decoder: all tokens back to bytes (a token with a character outside the alphabet keeps its own UTF-8
     * bytes), then UTF-8 with malformed sequences replaced, as one string.
     */
    static List<String> decode(List<String> tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String t : tokens) {
            byte[] mapped = new byte[t.length()];
            boolean all = true;
            for (int i = 0; i < t.length() && all; i++) {
                char c = t.charAt(i);
                int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
                if (b < 0) all = false;
                else mapped[i] = (byte) b;
            }
            byte[] chunk = all ? mapped : t.getBytes(StandardCharsets.UTF_8);
            bytes.write(chunk, 0, chunk.length);
        }
        List<String> out = new ArrayList<>(1);
        out.add(Utf8.decodeLossy(bytes.toByteArray(), bytes.size()));
        return out;
    }
}
