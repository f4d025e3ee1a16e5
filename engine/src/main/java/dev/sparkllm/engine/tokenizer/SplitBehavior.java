package dev.sparkllm.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a split does with the delimiters it finds (Hugging Face {@code SplitDelimiterBehavior}): drop them, keep
 * them as pieces of their own, glue them to the piece before or after, or glue runs of them together.
 */
enum SplitBehavior {
    REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

    static SplitBehavior fromJson(String name) {
        switch (name) {
            case "Removed": return REMOVED;
            case "Isolated": return ISOLATED;
            case "MergedWithPrevious": return MERGED_WITH_PREVIOUS;
            case "MergedWithNext": return MERGED_WITH_NEXT;
            case "Contiguous": return CONTIGUOUS;
            default: throw new IllegalArgumentException("unknown split behavior '" + name + "' in tokenizer.json");
        }
    }

    /**
     * Splits {@code text} given its delimiter matches ([start, end) char offsets, sorted, non-overlapping).
     * Returns [start, end) ranges of the pieces to keep, empty ones left out.
     */
    List<int[]> apply(String text, List<int[]> delimiters, boolean invert) {
        // The whole text as alternating (range, isDelimiter) parts, as Hugging Face's find_matches returns it.
        List<int[]> parts = new ArrayList<>();   // {start, end, isDelimiter ? 1 : 0}
        int prev = 0;
        for (int[] m : delimiters) {
            if (m[0] > prev) parts.add(new int[]{prev, m[0], invert ? 1 : 0});
            parts.add(new int[]{m[0], m[1], invert ? 0 : 1});
            prev = m[1];
        }
        if (prev < text.length()) parts.add(new int[]{prev, text.length(), invert ? 1 : 0});

        List<int[]> out = new ArrayList<>();
        boolean previousMatch = false;
        switch (this) {
            case REMOVED:
                for (int[] p : parts) if (p[2] == 0) out.add(p);
                break;
            case ISOLATED:
                out.addAll(parts);
                break;
            case CONTIGUOUS:
                for (int[] p : parts) {
                    boolean match = p[2] == 1;
                    if (match == previousMatch && !out.isEmpty()) out.get(out.size() - 1)[1] = p[1];
                    else out.add(p.clone());
                    previousMatch = match;
                }
                break;
            case MERGED_WITH_PREVIOUS:
                for (int[] p : parts) {
                    boolean match = p[2] == 1;
                    if (match && !previousMatch && !out.isEmpty()) out.get(out.size() - 1)[1] = p[1];
                    else out.add(p.clone());
                    previousMatch = match;
                }
                break;
            case MERGED_WITH_NEXT:
                for (int i = parts.size() - 1; i >= 0; i--) {
                    int[] p = parts.get(i);
                    boolean match = p[2] == 1;
                    if (match && !previousMatch && !out.isEmpty()) out.get(out.size() - 1)[0] = p[0];
                    else out.add(p.clone());
                    previousMatch = match;
                }
                java.util.Collections.reverse(out);
                break;
            default:
                throw new IllegalStateException(name().toLowerCase(Locale.ROOT));
        }
        out.removeIf(r -> r[1] <= r[0]);
        return out;
    }
}
