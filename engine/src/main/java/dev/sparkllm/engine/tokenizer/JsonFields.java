package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

/** Small helpers for reading {@code tokenizer.json} nodes with errors that say which part is malformed. */
final class JsonFields {

    private JsonFields() {
    }

    /** The node's {@code "type"}, or an error naming the component that lacks it. */
    static String type(JsonNode node, String component) {
        JsonNode type = node.get("type");
        if (type == null || !type.isTextual()) {
            throw new IllegalArgumentException(component + " " + node + " in tokenizer.json has no \"type\"");
        }
        return type.asText();
    }

    /** A string field, or {@code fallback} when absent or null. */
    static String text(JsonNode node, String field, String fallback) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? fallback : v.asText();
    }

    /** A single-character field such as Metaspace's {@code replacement} or Strip's {@code content}. */
    static int codePoint(JsonNode node, String field, int fallback) {
        String s = text(node, field, null);
        return s == null || s.isEmpty() ? fallback : s.codePointAt(0);
    }

    /**
     * A token given either as a plain string or as a transformers {@code AddedToken} object
     * ({@code {"__type": "AddedToken", "content": ...}}), as {@code tokenizer_config.json} writes it; null if absent.
     */
    static String tokenContent(JsonNode node) {
        if (node == null || node.isNull()) return null;
        if (node.isTextual()) return node.asText();
        JsonNode content = node.get("content");
        return content == null || content.isNull() ? null : content.asText();
    }
}
