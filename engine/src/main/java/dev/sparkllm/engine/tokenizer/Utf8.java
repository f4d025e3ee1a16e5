package dev.sparkllm.engine.tokenizer;

/**
 * UTF-8 decoding with Rust's {@code String::from_utf8_lossy} rules (the Unicode "maximal subpart" practice):
 * each maximal prefix of a valid sequence that cannot be completed becomes one U+FFFD. Java's own decoder
 * replaces differently in places, and byte-level decoding must match Hugging Face character for character.
 */
final class Utf8 {

    private Utf8() {
    }

    static String decodeLossy(byte[] bytes, int length) {
        StringBuilder out = new StringBuilder(length);
        int i = 0;
        while (i < length) {
            int b = bytes[i] & 0xFF;
            if (b < 0x80) {
                out.append((char) b);
                i++;
                continue;
            }
            int need;
            int cp;
            int lower = 0x80;
            int upper = 0xBF;
            if (b >= 0xC2 && b <= 0xDF) {
                need = 1;
                cp = b & 0x1F;
            } else if (b >= 0xE0 && b <= 0xEF) {
                need = 2;
                cp = b & 0x0F;
                if (b == 0xE0) lower = 0xA0;   // no overlong forms
                if (b == 0xED) upper = 0x9F;   // no surrogates
            } else if (b >= 0xF0 && b <= 0xF4) {
                need = 3;
                cp = b & 0x07;
                if (b == 0xF0) lower = 0x90;   // no overlong forms
                if (b == 0xF4) upper = 0x8F;   // nothing above U+10FFFF
            } else {
                out.append('\uFFFD');
                i++;
                continue;
            }
            int j = i + 1;
            boolean complete = true;
            for (int k = 0; k < need; k++, j++) {
                int c = j < length ? bytes[j] & 0xFF : -1;
                if (c < lower || c > upper) {
                    complete = false;
                    break;
                }
                cp = (cp << 6) | (c & 0x3F);
                lower = 0x80;
                upper = 0xBF;
            }
            out.append(complete ? new String(Character.toChars(cp)) : "\uFFFD");
            i = j;   // an offending byte is not consumed: it starts the next sequence
        }
        return out.toString();
    }
}
