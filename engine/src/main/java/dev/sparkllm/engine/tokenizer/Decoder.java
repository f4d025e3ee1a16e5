package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@code tokenizer.json} decoder: turns token strings into text pieces, step by step, as Hugging Face's
 * {@code decode_chain} does; the final text is the pieces joined. Most steps work token by token, which is
 * what lets {@link StreamingDecoder} decode a sliding window instead of the whole sequence.
 */
interface Decoder {

    List<String> decodeChain(List<String> tokens);

    /** Builds the decoder a {@code "decoder"} node describes; null means "join tokens with spaces". */
    static Decoder fromJson(JsonNode node) {
        if (node == null || node.isNull()) return null;
        String type = JsonFields.type(node, "decoder");
        switch (type) {
            case "Sequence": {
                List<Decoder> steps = new ArrayList<>();
                for (JsonNode n : node.path("decoders")) steps.add(fromJson(n));
                return tokens -> {
                    for (Decoder d : steps) tokens = d.decodeChain(tokens);
                    return tokens;
                };
            }
            case "Replace": {
                TextPattern pattern = TextPattern.fromJson(node.path("pattern"));
                String content = node.path("content").asText();
                return tokens -> map(tokens, t -> pattern.replaceAll(t, content));
            }
            case "ByteFallback": return ByteFallback::decode;
            case "Fuse": return tokens -> {
                List<String> out = new ArrayList<>(1);
                out.add(String.join("", tokens));
                return out;
            };
            case "Strip": {
                int content = JsonFields.codePoint(node, "content", ' ');
                int start = node.path("start").asInt(0);
                int stop = node.path("stop").asInt(0);
                return tokens -> map(tokens, t -> strip(t, content, start, stop));
            }
            case "Metaspace": {
                String replacement = JsonFields.text(node, "replacement", "\u2581");
                boolean stripFirst = Metaspace.scheme(node) != Metaspace.PrependScheme.NEVER;
                return tokens -> {
                    List<String> out = new ArrayList<>(tokens.size());
                    for (int i = 0; i < tokens.size(); i++) {
                        // Hugging Face drops every ▁ of the first token (the prepended one), and turns the rest into spaces.
                        out.add(tokens.get(i).replace(replacement, i == 0 && stripFirst ? "" : " "));
                    }
                    return out;
                };
            }
            case "ByteLevel": return ByteLevel::decode;
            default:
                throw new IllegalArgumentException("unsupported decoder type '" + type + "' in tokenizer.json; supported: "
                        + "Sequence, Replace, ByteFallback, Fuse, Strip, Metaspace, ByteLevel");
        }
    }

    private static List<String> map(List<String> tokens, java.util.function.UnaryOperator<String> f) {
        List<String> out = new ArrayList<>(tokens.size());
        for (String t : tokens) out.add(f.apply(t));
        return out;
    }

    /** Removes up to {@code start} leading and {@code stop} trailing copies of {@code content}. */
    private static String strip(String token, int content, int start, int stop) {
        int[] cps = token.codePoints().toArray();
        int from = 0;
        while (from < start && from < cps.length && cps[from] == content) from++;
        int to = cps.length;
        for (int i = 0; i < stop && to > from && cps[to - 1] == content; i++) to--;
        return new String(cps, from, to - from);
    }
}
