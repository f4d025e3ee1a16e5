package dev.sparkllm.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * SentencePiece's normaliser: its precompiled character map (a Darts double-array trie over UTF-8 bytes,
 * longest match wins; empty for the "identity" rule Llama uses), then its whitespace rules, applied per
 * normalised unit as SentencePiece does: with remove_extra_whitespaces, units that are a space at the start
 * go, a unit's leading spaces go when the previous unit ended in one, and trailing ▁ go at the end; the dummy
 * prefix puts a space in front; spaces become ▁.
 */
final class SentencePieceNormalizer implements Normalizer {

    private static final byte[] SPACE_SYMBOL = "\u2581".getBytes(StandardCharsets.UTF_8);
    private static final byte[] REPLACEMENT = "\uFFFD".getBytes(StandardCharsets.UTF_8);

    private final int[] trie;          // [units] Darts-clone double array, or null for identity
    private final byte[] replacements; // NUL-terminated normalised strings the trie's values point into
    private final boolean addDummyPrefix;
    private final boolean removeExtraWhitespaces;
    private final boolean escapeWhitespaces;

    SentencePieceNormalizer(SentencePieceModelFile model) {
        byte[] map = model.precompiledCharsmap();
        if (map.length == 0) {
            trie = null;
            replacements = new byte[0];
        } else {
            if (map.length < 4) throw new IllegalArgumentException("precompiled_charsmap is truncated");
            int trieBytes = (map[0] & 0xFF) | (map[1] & 0xFF) << 8 | (map[2] & 0xFF) << 16 | (map[3] & 0xFF) << 24;
            if (trieBytes < 0 || trieBytes % 4 != 0 || 4 + trieBytes > map.length) {
                throw new IllegalArgumentException("precompiled_charsmap trie size " + trieBytes + " does not fit its " + map.length + " bytes");
            }
            trie = new int[trieBytes / 4];
            for (int i = 0; i < trie.length; i++) {
                int o = 4 + 4 * i;
                trie[i] = (map[o] & 0xFF) | (map[o + 1] & 0xFF) << 8 | (map[o + 2] & 0xFF) << 16 | (map[o + 3] & 0xFF) << 24;
            }
            replacements = java.util.Arrays.copyOfRange(map, 4 + trieBytes, map.length);
        }
        this.addDummyPrefix = model.addDummyPrefix();
        this.removeExtraWhitespaces = model.removeExtraWhitespaces();
        this.escapeWhitespaces = model.escapeWhitespaces();
    }

    @Override
    public String normalize(String text) {
        byte[] in = text.getBytes(StandardCharsets.UTF_8);
        int pos = 0;
        long[] unit = new long[1];
        if (removeExtraWhitespaces) {
            while (pos < in.length) {
                byte[] sp = prefix(in, pos, unit);
                if (sp.length != 1 || sp[0] != ' ') break;
                pos += (int) unit[0];
            }
        }
        if (pos == in.length) return "";
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length + 8);
        byte[] space = escapeWhitespaces ? SPACE_SYMBOL : new byte[]{' '};
        if (addDummyPrefix) out.writeBytes(space);
        boolean previousSpace = removeExtraWhitespaces;
        while (pos < in.length) {
            byte[] sp = prefix(in, pos, unit);
            pos += (int) unit[0];
            int from = 0;
            if (previousSpace) while (from < sp.length && sp[from] == ' ') from++;
            if (from == sp.length) continue;
            for (int i = from; i < sp.length; i++) {
                if (sp[i] == ' ' && escapeWhitespaces) out.writeBytes(SPACE_SYMBOL);
                else out.write(sp[i]);
            }
            previousSpace = removeExtraWhitespaces && sp[sp.length - 1] == ' ';
        }
        byte[] result = out.toByteArray();
        int end = result.length;
        if (removeExtraWhitespaces) {
            while (end >= space.length && java.util.Arrays.equals(result, end - space.length, end, space, 0, space.length)) end -= space.length;
        }
        return new String(result, 0, end, StandardCharsets.UTF_8);
    }

    /** The normalised bytes of the unit at {@code pos}; its length in the input goes to {@code consumed[0]}. */
    private byte[] prefix(byte[] in, int pos, long[] consumed) {
        if (trie != null) {
            long match = longestMatch(in, pos);
            if (match >= 0) {
                consumed[0] = match >>> 32;
                int start = (int) match;
                int end = start;
                while (end < replacements.length && replacements[end] != 0) end++;
                return java.util.Arrays.copyOfRange(replacements, start, end);
            }
        }
        int len = utf8Length(in, pos);
        if (len < 0) {
            consumed[0] = 1;
            return REPLACEMENT;
        }
        consumed[0] = len;
        return java.util.Arrays.copyOfRange(in, pos, pos + len);
    }

    /** Darts-clone common-prefix search: (length << 32 | value) of the longest key at {@code pos}, or -1. */
    private long longestMatch(byte[] in, int pos) {
        int node = 0;
        int unit = trie[node];
        node ^= offset(unit);
        long best = -1;
        for (int i = pos; i < in.length; i++) {
            int label = in[i] & 0xFF;
            node ^= label;
            if (node < 0 || node >= trie.length) break;
            unit = trie[node];
            if ((unit & ((1 << 31) | 0xFF)) != label) break;
            node ^= offset(unit);
            if (((unit >>> 8) & 1) == 1 && node >= 0 && node < trie.length) {
                best = ((long) (i - pos + 1) << 32) | (trie[node] & 0x7FFFFFFF);
            }
        }
        return best;
    }

    private static int offset(int unit) {
        return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    }

    /** Length of the valid UTF-8 character at {@code pos}, or -1 when malformed. */
    private static int utf8Length(byte[] in, int pos) {
        int b = in[pos] & 0xFF;
        int len = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : -1;
        if (len < 0 || pos + len > in.length) return -1;
        for (int i = 1; i < len; i++) if ((in[pos + i] & 0xC0) != 0x80) return -1;
        return len;
    }
}
