package dev.sparkllm.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reading the small JSON files of a model directory, with errors that name the file and the field. */
final class JsonFiles {

    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonFiles() {
    }

    /** Parses {@code file} as a JSON object. */
    static JsonNode readObject(Path file) {
        try {
            JsonNode node = JSON.readTree(Files.readAllBytes(file));
            if (node == null || !node.isObject()) {
                throw new CheckpointException(file + ": expected a JSON object");
            }
            return node;
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + ": file not found");
        } catch (IOException e) {
            throw new CheckpointException(file + ": not valid JSON: " + e.getMessage(), e);
        }
    }

    /** True when {@code node} has {@code key} with a non-null value. */
    static boolean has(JsonNode node, String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    static int requireInt(JsonNode node, String key, Path file) {
        if (!has(node, key)) {
            throw new CheckpointException(file + ": required field '" + key + "' is missing");
        }
        return intValue(node.get(key), key, file);
    }

    static int optInt(JsonNode node, String key, int fallback, Path file) {
        return has(node, key) ? intValue(node.get(key), key, file) : fallback;
    }

    static Integer optInteger(JsonNode node, String key, Path file) {
        return has(node, key) ? intValue(node.get(key), key, file) : null;
    }

    static double optDouble(JsonNode node, String key, double fallback, Path file) {
        if (!has(node, key)) return fallback;
        JsonNode v = node.get(key);
        if (!v.isNumber()) {
            throw new CheckpointException(file + ": field '" + key + "' must be a number, found " + v);
        }
        return v.doubleValue();
    }

    static Double optDoubleObject(JsonNode node, String key, Path file) {
        return has(node, key) ? optDouble(node, key, 0, file) : null;
    }

    static boolean optBoolean(JsonNode node, String key, boolean fallback, Path file) {
        if (!has(node, key)) return fallback;
        JsonNode v = node.get(key);
        if (!v.isBoolean()) {
            throw new CheckpointException(file + ": field '" + key + "' must be true or false, found " + v);
        }
        return v.booleanValue();
    }

    static String optText(JsonNode node, String key, String fallback, Path file) {
        if (!has(node, key)) return fallback;
        JsonNode v = node.get(key);
        if (!v.isTextual()) {
            throw new CheckpointException(file + ": field '" + key + "' must be a string, found " + v);
        }
        return v.textValue();
    }

    /** A token id field that may be a number or a list of numbers; null when absent. */
    static int[] optIdList(JsonNode node, String key, Path file) {
        if (!has(node, key)) return null;
        JsonNode v = node.get(key);
        if (v.isArray()) {
            int[] ids = new int[v.size()];
            for (int i = 0; i < ids.length; i++) ids[i] = intValue(v.get(i), key, file);
            return ids;
        }
        return new int[] {intValue(v, key, file)};
    }

    private static int intValue(JsonNode v, String key, Path file) {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new CheckpointException(file + ": field '" + key + "' must be an integer, found " + v);
        }
        return v.intValue();
    }
}
