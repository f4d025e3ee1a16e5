package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * A {@code tokenizer.json} pre-tokenizer: cuts a normalised piece into words that the model encodes
 * independently (and that the BPE cache can remember).
 */
interface PreTokenizer {

    /**
     * A word.
     *
     * @param text    the word
     * @param atStart whether it begins at offset 0 of the original input (Metaspace's "first" scheme needs this)
     */
    record Word(String text, boolean atStart) {
    }

    /** Cuts one word into words, appending them to {@code out}; empty words are never appended. */
    void split(Word word, List<Word> out);

    /** GPT-2's word pattern, which ByteLevel uses when {@code use_regex} is set. */
    String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** Builds the pre-tokenizer a {@code "pre_tokenizer"} node describes; null or JSON null keeps words whole. */
    static PreTokenizer fromJson(JsonNode node) {
        if (node == null || node.isNull()) return (word, out) -> out.add(word);
        String type = JsonFields.type(node, "pre_tokenizer");
        switch (type) {
            case "Sequence": {
                List<PreTokenizer> parts = new ArrayList<>();
                for (JsonNode n : node.path("pretokenizers")) parts.add(fromJson(n));
                return (word, out) -> {
                    List<Word> words = List.of(word);
                    for (PreTokenizer p : parts) {
                        List<Word> next = new ArrayList<>();
                        for (Word w : words) p.split(w, next);
                        words = next;
                    }
                    out.addAll(words);
                };
            }
            case "Metaspace": return Metaspace.fromJson(node);
            case "Split": {
                TextPattern pattern = TextPattern.fromJson(node.path("pattern"));
                SplitBehavior behavior = SplitBehavior.fromJson(node.path("behavior").asText());
                boolean invert = node.path("invert").asBoolean(false);
                return (word, out) -> cut(word, behavior.apply(word.text(), pattern.matches(word.text()), invert), out);
            }
            case "Digits": {
                SplitBehavior behavior = node.path("individual_digits").asBoolean(false)
                        ? SplitBehavior.ISOLATED : SplitBehavior.CONTIGUOUS;
                return byChar(UnicodeChars::isNumeric, behavior);
            }
            case "Punctuation": {
                String b = JsonFields.text(node, "behavior", "Isolated");
                return byChar(UnicodeChars::isPunctuation, SplitBehavior.fromJson(b));
            }
            case "WhitespaceSplit": return byChar(UnicodeChars::isWhitespace, SplitBehavior.REMOVED);
            case "Whitespace": {
                TextPattern words = TextPattern.regex("\\w+|[^\\w\\s]+");
                return (word, out) -> cut(word, SplitBehavior.REMOVED.apply(word.text(), words.matches(word.text()), true), out);
            }
            case "BertPreTokenizer": {
                PreTokenizer ws = byChar(UnicodeChars::isWhitespace, SplitBehavior.REMOVED);
                PreTokenizer punct = byChar(UnicodeChars::isPunctuation, SplitBehavior.ISOLATED);
                return (word, out) -> {
                    List<Word> words = new ArrayList<>();
                    ws.split(word, words);
                    for (Word w : words) punct.split(w, out);
                };
            }
            case "ByteLevel": return ByteLevel.preTokenizer(node);
            default:
                throw new IllegalArgumentException("unsupported pre_tokenizer type '" + type
                        + "' in tokenizer.json; supported: Sequence, Metaspace, Split, Digits, Punctuation, "
                        + "Whitespace, WhitespaceSplit, BertPreTokenizer, ByteLevel");
        }
    }

    /** Splits at every character the predicate accepts, each such character being its own delimiter match. */
    static PreTokenizer byChar(IntPredicate isDelimiter, SplitBehavior behavior) {
        return (word, out) -> {
            String s = word.text();
            List<int[]> matches = new ArrayList<>();
            for (int i = 0; i < s.length(); i = UnicodeChars.next(s, i)) {
                if (isDelimiter.test(s.codePointAt(i))) matches.add(new int[]{i, UnicodeChars.next(s, i)});
            }
            cut(word, behavior.apply(s, matches, false), out);
        };
    }

    /** Appends the given [start, end) ranges of a word as words. */
    static void cut(Word word, List<int[]> ranges, List<Word> out) {
        for (int[] r : ranges) {
            out.add(new Word(word.text().substring(r[0], r[1]), word.atStart() && r[0] == 0));
        }
    }
}
