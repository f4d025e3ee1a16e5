package dev.sparkllm.engine.prompt;

/**
 * Python's {@code str.strip} family, whose idea of whitespace ({@code str.isspace}) differs from Java's
 * {@code String.strip} (no-break spaces) and {@code String.trim} (all control characters). Chat templates are
 * written against Python, so their {@code .strip()} and {@code |trim} must behave as there.
 *
 * <p>Optionally transparent to a pair of sentinel characters: they are kept in place and skipped over, so that
 * stripping a sentinel-wrapped content value strips the content inside, as stripping the bare value would.
 */
final class PythonStrings {

    private PythonStrings() {
    }

    /** Python's {@code str.isspace()} for one character (BMP: every Python whitespace character is in it). */
    static boolean isSpace(char c) {
        switch (c) {
            case '\t', '\n', '\u000b', '\f', '\r', '\u001c', '\u001d', '\u001e', '\u001f', ' ',
                 '\u0085', '\u00a0', '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000':
                return true;
            default:
                return c >= '\u2000' && c <= '\u200a';
        }
    }

    static String strip(String s) { return strip(s, null, true, true, null); }

    static String lstrip(String s) { return strip(s, null, true, false, null); }

    static String rstrip(String s) { return strip(s, null, false, true, null); }

    /**
     * @param chars       characters to strip, or null for Python whitespace
     * @param sentinels   characters to keep and look past (may be null)
     */
    static String strip(String s, String chars, boolean leading, boolean trailing, String sentinels) {
        StringBuilder kept = new StringBuilder();
        int start = 0;
        if (leading) {
            while (start < s.length()) {
                char c = s.charAt(start);
                if (isSentinel(c, sentinels)) kept.append(c);
                else if (!strippable(c, chars)) break;
                start++;
            }
        }
        StringBuilder tail = new StringBuilder();
        int end = s.length();
        if (trailing) {
            while (end > start) {
                char c = s.charAt(end - 1);
                if (isSentinel(c, sentinels)) tail.append(c);
                else if (!strippable(c, chars)) break;
                end--;
            }
        }
        return kept.append(s, start, end).append(tail.reverse()).toString();
    }

    private static boolean strippable(char c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
    }

    private static boolean isSentinel(char c, String sentinels) {
        return sentinels != null && sentinels.indexOf(c) >= 0;
    }
}
