package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * SentencePiece-style whitespace handling as a pre-tokenizer: spaces become the replacement character
 * (usually ▁), a ▁ is prepended per the scheme, and with {@code split} the text is cut before each ▁.
 */
final class Metaspace implements PreTokenizer {

    /** When a ▁ is prepended: to every piece, only to the piece at the start of the input, or never. */
    enum PrependScheme { ALWAYS, FIRST, NEVER }

    private final String replacement;
    private final PrependScheme scheme;
    private final boolean split;

    Metaspace(String replacement, PrependScheme scheme, boolean split) {
        this.replacement = replacement;
        this.scheme = scheme;
        this.split = split;
    }

    static Metaspace fromJson(JsonNode node) {
        return new Metaspace(JsonFields.text(node, "replacement", "\u2581"), scheme(node), node.path("split").asBoolean(true));
    }

    /** {@code prepend_scheme}, or the older {@code add_prefix_space} flag. */
    static PrependScheme scheme(JsonNode node) {
        String s = JsonFields.text(node, "prepend_scheme", null);
        if (s == null) return node.path("add_prefix_space").asBoolean(true) ? PrependScheme.ALWAYS : PrependScheme.NEVER;
        switch (s) {
            case "always": return PrependScheme.ALWAYS;
            case "first": return PrependScheme.FIRST;
            case "never": return PrependScheme.NEVER;
            default: throw new IllegalArgumentException("unknown Metaspace prepend_scheme '" + s + "' in tokenizer.json");
        }
    }

    @Override
    public void split(Word word, List<Word> out) {
        String s = word.text().replace(" ", replacement);
        boolean prepend = scheme == PrependScheme.ALWAYS || (scheme == PrependScheme.FIRST && word.atStart());
        if (prepend && !s.startsWith(replacement)) s = replacement + s;
        if (s.isEmpty()) return;
        Word replaced = new Word(s, word.atStart());
        if (!split) {
            out.add(replaced);
            return;
        }
        PreTokenizer.cut(replaced, SplitBehavior.MERGED_WITH_NEXT.apply(s, TextPattern.literal(replacement).matches(s), false), out);
    }
}
