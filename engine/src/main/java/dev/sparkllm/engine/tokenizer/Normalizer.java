package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A {@code tokenizer.json} normalizer: rewrites one piece of text (a split between added tokens) before
 * pre-tokenization. Hugging Face applies it to each such piece separately, which is why Llama's
 * {@code Prepend("▁")} shows up once per piece.
 */
interface Normalizer {

    String normalize(String text);

    /** Builds the normalizer a {@code "normalizer"} node describes; null or JSON null gives the identity. */
    static Normalizer fromJson(JsonNode node) {
        if (node == null || node.isNull()) return text -> text;
        String type = JsonFields.type(node, "normalizer");
        switch (type) {
            case "Sequence": {
                List<Normalizer> parts = new ArrayList<>();
                for (JsonNode n : node.path("normalizers")) parts.add(fromJson(n));
                return text -> {
                    for (Normalizer n : parts) text = n.normalize(text);
                    return text;
                };
            }
            case "Prepend": {
                String prefix = node.path("prepend").asText();
                return text -> text.isEmpty() ? text : prefix + text;
            }
            case "Replace": {
                TextPattern pattern = TextPattern.fromJson(node.path("pattern"));
                String content = node.path("content").asText();
                return text -> pattern.replaceAll(text, content);
            }
            case "NFC": return text -> java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFC);
            case "NFD": return text -> java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFD);
            case "NFKC": return text -> java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFKC);
            case "NFKD": return text -> java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFKD);
            case "Lowercase": return Normalizer::lowercase;
            case "Strip": {
                boolean left = node.path("left").asBoolean(true);
                boolean right = node.path("right").asBoolean(true);
                return text -> strip(text, left, right);
            }
            case "StripAccents":
                // Removes combining marks (Unicode category Mn), as Hugging Face does; usually after NFD.
                return text -> text.codePoints().filter(cp -> Character.getType(cp) != Character.NON_SPACING_MARK)
                        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
            default:
                throw new IllegalArgumentException("unsupported normalizer type '" + type
                        + "' in tokenizer.json; supported: Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, "
                        + "Lowercase, Strip, StripAccents");
        }
    }

    /**
     * Lower-cases code point by code point, as Rust's {@code char::to_lowercase} does: no context rules
     * (a final sigma stays σ), but one character may become several (İ → i̇).
     */
    private static String lowercase(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(cp -> out.append(new String(Character.toChars(cp)).toLowerCase(Locale.ROOT)));
        return out.toString();
    }

    private static String strip(String text, boolean left, boolean right) {
        int start = 0;
        int end = text.length();
        while (left && start < end && UnicodeChars.isWhitespace(text.codePointAt(start))) start += Character.charCount(text.codePointAt(start));
        while (right && end > start && UnicodeChars.isWhitespace(text.codePointBefore(end))) end -= Character.charCount(text.codePointBefore(end));
        return text.substring(start, end);
    }
}
