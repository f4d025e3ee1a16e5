package dev.sparkllm.engine.checkpoint;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and validated JSON header of a safetensors file. Nothing in it is trusted until every tensor
 * entry has a known dtype, a non-negative shape whose byte size equals its offset span, offsets inside the
 * data region, and no overlap with another tensor.
 *
 * @param tensors  entries by name, in header order
 * @param metadata the {@code __metadata__} string map (empty when absent)
 */
public record SafetensorsHeader(Map<String, TensorInfo> tensors, Map<String, String> metadata) {

    /** Largest header we accept (the format's own reference implementation uses the same 100 MB cap). */
    public static final long MAX_HEADER_BYTES = 100L * 1000 * 1000;

    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    /**
     * Parses {@code json} (the header bytes) for a file whose data region holds {@code dataSize} bytes.
     *
     * @throws CheckpointException naming {@code file} and the first problem found
     */
    public static SafetensorsHeader parse(byte[] json, long dataSize, Path file) {
        JsonNode root;
        try (JsonParser parser = JSON.createParser(json)) {
            root = JSON.readTree(parser);
            if (parser.nextToken() != null) {
                throw fail(file, "header has data after its JSON object");
            }
        } catch (CheckpointException e) {
            throw e;
        } catch (Exception e) {
            throw new CheckpointException(file + ": safetensors header is not well-formed JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw fail(file, "safetensors header is not a JSON object");
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (field.getKey().equals("__metadata__")) {
                readMetadata(field.getValue(), metadata, file);
            } else {
                tensors.put(field.getKey(), readTensor(field.getKey(), field.getValue(), dataSize, file));
            }
        }
        checkNoOverlap(tensors.values(), file);
        return new SafetensorsHeader(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static void readMetadata(JsonNode node, Map<String, String> out, Path file) {
        if (!node.isObject()) {
            throw fail(file, "__metadata__ must be an object of strings");
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw fail(file, "__metadata__ value for '" + e.getKey() + "' is not a string");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static TensorInfo readTensor(String name, JsonNode node, long dataSize, Path file) {
        if (!node.isObject()) {
            throw fail(file, "tensor '" + name + "' header entry is not an object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw fail(file, "tensor '" + name + "' has no dtype");
        }
        DType dtype = DType.fromHeaderName(dtypeNode.textValue());
        if (dtype == null) {
            throw fail(file, "tensor '" + name + "' has unknown dtype '" + dtypeNode.textValue() + "'");
        }
        long[] shape = readLongs(node.get("shape"), -1, name, "shape", file);
        long[] offsets = readLongs(node.get("data_offsets"), 2, name, "data_offsets", file);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw fail(file, "tensor '" + name + "' data_offsets [" + begin + ", " + end + "] end before begin");
        }
        if (end > dataSize) {
            throw fail(file, "tensor '" + name + "' data_offsets [" + begin + ", " + end
                    + "] lie outside the data region of " + dataSize + " bytes (file truncated or header corrupt)");
        }
        long bytes;
        try {
            long elements = 1;
            for (long d : shape) elements = Math.multiplyExact(elements, d);
            bytes = Math.multiplyExact(elements, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw fail(file, "tensor '" + name + "' shape " + java.util.Arrays.toString(shape) + " overflows 64 bits");
        }
        if (bytes != end - begin) {
            throw fail(file, "tensor '" + name + "' of " + dtype + java.util.Arrays.toString(shape) + " needs " + bytes
                    + " bytes but data_offsets span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] readLongs(JsonNode node, int expectedLength, String name, String key, Path file) {
        if (node == null || !node.isArray()) {
            throw fail(file, "tensor '" + name + "' has no " + key + " array");
        }
        if (expectedLength >= 0 && node.size() != expectedLength) {
            throw fail(file, "tensor '" + name + "' " + key + " has " + node.size() + " entries, expected " + expectedLength);
        }
        if (node.size() > 64) {
            throw fail(file, "tensor '" + name + "' " + key + " has " + node.size() + " entries; too many dimensions");
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw fail(file, "tensor '" + name + "' " + key + " entry " + v + " is not a non-negative integer");
            }
            values[i] = v.longValue();
        }
        return values;
    }

    private static void checkNoOverlap(Iterable<TensorInfo> tensors, Path file) {
        List<TensorInfo> sorted = new ArrayList<>();
        tensors.forEach(sorted::add);
        sorted.sort(Comparator.comparingLong(TensorInfo::dataStart).thenComparingLong(TensorInfo::dataEnd));
        TensorInfo previous = null;
        for (TensorInfo t : sorted) {
            if (t.byteSize() == 0) continue;
            if (previous != null && t.dataStart() < previous.dataEnd()) {
                throw fail(file, "tensors '" + previous.name() + "' and '" + t.name() + "' overlap (data_offsets ["
                        + previous.dataStart() + ", " + previous.dataEnd() + "] and [" + t.dataStart() + ", " + t.dataEnd() + "])");
            }
            previous = t;
        }
    }

    private static CheckpointException fail(Path file, String problem) {
        return new CheckpointException(file + ": " + problem);
    }
}
