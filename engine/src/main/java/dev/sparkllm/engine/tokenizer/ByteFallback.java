package dev.sparkllm.engine.tokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Byte-fallback tokens ({@code <0x41>}): runs of them become the text their bytes spell in UTF-8. A run that is
 * not valid UTF-8 becomes one U+FFFD per byte, exactly as Hugging Face does (not one per malformed sequence).
 */
final class ByteFallback {

    private ByteFallback() {
    }

    /** The byte a token like {@code <0x0A>} stands for, or -1. */
    static int byteOf(String token) {
        if (token.length() != 6 || !token.startsWith("<0x") || token.charAt(5) != '>') return -1;
        int hi = Character.digit(token.charAt(3), 16);
        int lo = Character.digit(token.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    /** The vocabulary spelling of a byte: {@code <0x0A>}. */
    static String tokenOf(int b) {
        return String.format("<0x%02X>", b);
    }

    static List<String> decode(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        byte[] run = new byte[16];
        int n = 0;
        for (String t : tokens) {
            int b = byteOf(t);
            if (b >= 0) {
                if (n == run.length) run = java.util.Arrays.copyOf(run, n * 2);
                run[n++] = (byte) b;
                continue;
            }
            if (n > 0) flush(run, n, out);
            n = 0;
            out.add(t);
        }
        if (n > 0) flush(run, n, out);
        return out;
    }

    private static void flush(byte[] run, int n, List<String> out) {
        try {
            out.add(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(run, 0, n)).toString());
        } catch (CharacterCodingException e) {
            for (int i = 0; i < n; i++) out.add("\uFFFD");
        }
    }
}
