package dev.sparkllm.engine.tokenizer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens in text and cuts the text around them, as Hugging Face's AddedVocabulary does: matches
 * are leftmost-longest and non-overlapping; {@code single_word} matches touching a word character are
 * skipped; {@code lstrip}/{@code rstrip} widen a match over adjacent whitespace.
 */
final class AddedVocabulary {

    /** Which special-token matches to accept: given the match's [start, end) in the text being cut. */
    interface SpecialFilter {
        boolean accepts(int start, int end);

        SpecialFilter ALL = (s, e) -> true;
    }

    /**
     * A piece of the cut text: either an added token (tokenId >= 0) or text between tokens (tokenId -1).
     *
     * @param start offset of the piece in the text that was cut
     */
    record Piece(String text, int start, int tokenId) {
    }

    private final Map<Integer, List<String>> byFirstChar = new HashMap<>();   // first char -> candidate strings
    private final Map<String, AddedToken> byContent = new HashMap<>();

    /** Tokens matched by their own string or, for normalised ones, by their normalised string (the keys). */
    AddedVocabulary(Map<String, AddedToken> tokensByPattern) {
        tokensByPattern.forEach((pattern, token) -> {
            if (pattern.isEmpty()) return;
            byContent.put(pattern, token);
            byFirstChar.computeIfAbsent((int) pattern.charAt(0), k -> new ArrayList<>()).add(pattern);
        });
    }

    static AddedVocabulary of(Collection<AddedToken> tokens) {
        Map<String, AddedToken> m = new HashMap<>();
        for (AddedToken t : tokens) m.put(t.content(), t);
        return new AddedVocabulary(m);
    }

    boolean isEmpty() {
        return byContent.isEmpty();
    }

    /** Cuts {@code text} (which starts at {@code offset} of the original input) around the tokens it contains. */
    List<Piece> cut(String text, int offset, SpecialFilter specials) {
        List<Piece> out = new ArrayList<>();
        if (byContent.isEmpty()) {
            out.add(new Piece(text, offset, -1));
            return out;
        }
        int done = 0;   // text before this is already in out
        int i = 0;
        while (i < text.length()) {
            String match = longestAt(text, i);
            if (match == null) {
                i++;
                continue;
            }
            AddedToken token = byContent.get(match);
            int start = i;
            int stop = i + match.length();
            i = stop;   // the matcher moves past every match, accepted or not
            if (token.special() && !specials.accepts(start, stop)) continue;
            if (token.singleWord()) {
                boolean wordBefore = start > 0 && isWordChar(text.codePointBefore(start));
                boolean wordAfter = stop < text.length() && isWordChar(text.codePointAt(stop));
                if (wordBefore || wordAfter) continue;
            }
            if (token.lstrip()) {
                int s = start;
                while (s > 0 && UnicodeChars.isWhitespace(text.codePointBefore(s))) s -= Character.charCount(text.codePointBefore(s));
                start = Math.max(s, done);
            }
            if (token.rstrip()) {
                while (stop < text.length() && UnicodeChars.isWhitespace(text.codePointAt(stop))) stop = UnicodeChars.next(text, stop);
                i = stop;
            }
            if (done < start) out.add(new Piece(text.substring(done, start), offset + done, -1));
            out.add(new Piece(text.substring(start, stop), offset + start, token.id()));
            done = stop;
        }
        if (done < text.length() || out.isEmpty()) out.add(new Piece(text.substring(done), offset + done, -1));
        return out;
    }

    private String longestAt(String text, int i) {
        List<String> candidates = byFirstChar.get((int) text.charAt(i));
        if (candidates == null) return null;
        String best = null;
        for (String c : candidates) {
            if ((best == null || c.length() > best.length()) && text.startsWith(c, i)) best = c;
        }
        return best;
    }

    private static boolean isWordChar(int cp) {
        return UnicodeChars.isAlphanumeric(cp) || cp == '_';
    }
}
