package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code {"String": ...}} or {@code {"Regex": ...}} pattern of Replace and Split. Hugging Face compiles
 * regexes with Oniguruma, whose {@code \s \d \w} are Unicode-aware; Java needs UNICODE_CHARACTER_CLASS for that.
 */
final class TextPattern {

    private final String literal;   // non-null for a String pattern
    private final Pattern regex;    // non-null for a Regex pattern

    private TextPattern(String literal, Pattern regex) {
        this.literal = literal;
        this.regex = regex;
    }

    static TextPattern literal(String s) {
        return new TextPattern(s, null);
    }

    static TextPattern regex(String r) {
        return new TextPattern(null, Pattern.compile(r, Pattern.UNICODE_CHARACTER_CLASS));
    }

    static TextPattern fromJson(JsonNode node) {
        if (node.has("String")) return literal(node.get("String").asText());
        if (node.has("Regex")) return regex(node.get("Regex").asText());
        throw new IllegalArgumentException("pattern " + node + " in tokenizer.json has neither \"String\" nor \"Regex\"");
    }

    String replaceAll(String text, String content) {
        if (literal != null) return literal.isEmpty() ? text : text.replace(literal, content);
        return regex.matcher(text).replaceAll(Matcher.quoteReplacement(content));
    }

    /** Non-overlapping matches, left to right, as [start, end) char offsets pairs; empty matches are dropped. */
    List<int[]> matches(String text) {
        List<int[]> out = new ArrayList<>();
        if (literal != null) {
            if (literal.isEmpty()) return out;
            for (int i = text.indexOf(literal); i >= 0; i = text.indexOf(literal, i + literal.length())) {
                out.add(new int[]{i, i + literal.length()});
            }
            return out;
        }
        Matcher m = regex.matcher(text);
        while (m.find()) {
            if (m.end() > m.start()) out.add(new int[]{m.start(), m.end()});
        }
        return out;
    }
}
