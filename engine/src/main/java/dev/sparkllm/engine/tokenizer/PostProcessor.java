package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@code encode(..., addSpecialTokens=true)} wraps around a single sequence: the ids to put before and
 * after it (Hugging Face's TemplateProcessing "single" template, or the Bert/Roberta equivalents).
 *
 * @param before ids put before the sequence, e.g. BOS
 * @param after  ids put after it, e.g. EOS
 */
record PostProcessor(int[] before, int[] after) {

    static final PostProcessor NONE = new PostProcessor(new int[0], new int[0]);

    int[] apply(int[] ids) {
        int[] out = new int[before.length + ids.length + after.length];
        System.arraycopy(before, 0, out, 0, before.length);
        System.arraycopy(ids, 0, out, before.length, ids.length);
        System.arraycopy(after, 0, out, before.length + ids.length, after.length);
        return out;
    }

    /** Builds the post-processor a {@code "post_processor"} node describes; null means none. */
    static PostProcessor fromJson(JsonNode node) {
        if (node == null || node.isNull()) return NONE;
        String type = JsonFields.type(node, "post_processor");
        switch (type) {
            case "TemplateProcessing": return template(node);
            case "BertProcessing":
            case "RobertaProcessing":
                return new PostProcessor(new int[]{node.path("cls").get(1).asInt()}, new int[]{node.path("sep").get(1).asInt()});
            case "ByteLevel": return NONE;   // only adjusts offsets, which we do not report
            case "Sequence": {
                PostProcessor result = NONE;
                for (JsonNode n : node.path("processors")) {
                    PostProcessor p = fromJson(n);
                    result = new PostProcessor(concat(p.before, result.before), concat(result.after, p.after));
                }
                return result;
            }
            default:
                throw new IllegalArgumentException("unsupported post_processor type '" + type + "' in tokenizer.json; "
                        + "supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence");
        }
    }

    private static PostProcessor template(JsonNode node) {
        List<Integer> before = new ArrayList<>();
        List<Integer> after = new ArrayList<>();
        boolean seenSequence = false;
        for (JsonNode item : node.path("single")) {
            if (item.has("Sequence")) {
                seenSequence = true;
                continue;
            }
            String name = item.path("SpecialToken").path("id").asText();
            JsonNode special = node.path("special_tokens").get(name);
            if (special == null) {
                throw new IllegalArgumentException("TemplateProcessing in tokenizer.json uses special token '" + name
                        + "' that its special_tokens map does not define");
            }
            for (JsonNode id : special.path("ids")) (seenSequence ? after : before).add(id.asInt());
        }
        return new PostProcessor(before.stream().mapToInt(Integer::intValue).toArray(),
                after.stream().mapToInt(Integer::intValue).toArray());
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
