package dev.sparkllm.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The safetensors files that hold a model's weights, opened, with every tensor name mapped to its file:
 * a sharded checkpoint ({@code model.safetensors.index.json} and its {@code weight_map}), the file named by
 * {@code model_file_base_name}, {@code model.safetensors}, or the directory's only safetensors file.
 */
final class WeightFiles implements AutoCloseable {

    private final List<SafetensorsFile> files;            // sorted by file name
    private final Map<String, SafetensorsFile> byTensor;  // tensor name -> file

    private WeightFiles(List<SafetensorsFile> files, Map<String, SafetensorsFile> byTensor) {
        this.files = files;
        this.byTensor = byTensor;
    }

    static WeightFiles open(Path dir, String modelFileBaseName) {
        List<Path> paths;
        Map<String, String> weightMap = null;
        Path index = findIndex(dir, modelFileBaseName);
        if (index != null) {
            weightMap = readWeightMap(index);
            paths = weightMap.values().stream().distinct().sorted().map(dir::resolve).toList();
        } else {
            paths = List.of(findSingleFile(dir, modelFileBaseName));
        }
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
            for (Path p : paths) {
                if (!Files.isRegularFile(p)) {
                    throw new CheckpointException(p + ": weights file not found" + (index != null ? " (listed in " + index + ")" : ""));
                }
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.add(f);
                for (String name : f.tensors().keySet()) {
                    SafetensorsFile previous = byTensor.put(name, f);
                    if (previous != null) {
                        throw new CheckpointException(p + ": tensor '" + name + "' is also in " + previous.path());
                    }
                }
            }
            if (weightMap != null) {
                for (Map.Entry<String, String> e : weightMap.entrySet()) {
                    SafetensorsFile f = byTensor.get(e.getKey());
                    if (f == null || !f.path().getFileName().toString().equals(e.getValue())) {
                        throw new CheckpointException(index + ": weight_map puts '" + e.getKey() + "' in " + e.getValue()
                                + ", but that file has no such tensor");
                    }
                }
            }
            return new WeightFiles(List.copyOf(opened), byTensor);
        } catch (RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** The opened files, sorted by name. */
    List<SafetensorsFile> files() {
        return files;
    }

    boolean contains(String tensor) {
        return byTensor.containsKey(tensor);
    }

    /** The file holding {@code tensor}; fails naming the weights files when absent. */
    SafetensorsFile fileOf(String tensor) {
        SafetensorsFile f = byTensor.get(tensor);
        if (f == null) {
            throw new CheckpointException(describe() + ": tensor '" + tensor + "' is missing");
        }
        return f;
    }

    TensorInfo info(String tensor) {
        return fileOf(tensor).info(tensor);
    }

    MappedTensor map(String tensor) {
        return fileOf(tensor).map(tensor);
    }

    /** Reads tensor bytes from {@code offset} into {@code dst} until it is full (see {@link SafetensorsFile#read}). */
    void read(String tensor, long offset, ByteBuffer dst) {
        fileOf(tensor).read(tensor, offset, dst);
    }

    /** The weights file name(s), for messages. */
    String describe() {
        if (files.size() == 1) return files.get(0).path().toString();
        return files.get(0).path().getParent() + "/{" + String.join(", ",
                files.stream().map(f -> f.path().getFileName().toString()).toList()) + "}";
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }

    private static Path findIndex(Path dir, String baseName) {
        if (baseName != null) {
            Path p = dir.resolve(baseName + ".safetensors.index.json");
            if (Files.isRegularFile(p)) return p;
        }
        Path p = dir.resolve("model.safetensors.index.json");
        return Files.isRegularFile(p) ? p : null;
    }

    private static Map<String, String> readWeightMap(Path index) {
        JsonNode root = JsonFiles.readObject(index);
        JsonNode map = root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new CheckpointException(index + ": no weight_map object");
        }
        Map<String, String> weightMap = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            String file = e.getValue().isTextual() ? e.getValue().textValue() : null;
            if (file == null || file.contains("/") || file.contains("\\") || file.equals("..")) {
                throw new CheckpointException(index + ": weight_map entry for '" + e.getKey()
                        + "' must be a file name in the same directory, found " + e.getValue());
            }
            weightMap.put(e.getKey(), file);
        }
        return weightMap;
    }

    private static Path findSingleFile(Path dir, String baseName) {
        if (baseName != null) {
            Path p = dir.resolve(baseName + ".safetensors");
            if (Files.isRegularFile(p)) return p;
        }
        Path model = dir.resolve("model.safetensors");
        if (Files.isRegularFile(model)) return model;
        List<Path> candidates;
        try (Stream<Path> list = Files.list(dir)) {
            candidates = list.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
        } catch (IOException e) {
            throw new CheckpointException(dir + ": cannot list the directory: " + e, e);
        }
        if (candidates.size() == 1) return candidates.get(0);
        if (candidates.isEmpty()) {
            String hint = Files.exists(dir.resolve("pytorch_model.bin")) || Files.exists(dir.resolve("pytorch_model.bin.index.json"))
                    ? "; only PyTorch .bin weights are present: convert them to safetensors" : "";
            throw new CheckpointException(dir + ": no safetensors weights found (expected model.safetensors, "
                    + (baseName != null ? baseName + ".safetensors, " : "") + "or model.safetensors.index.json)" + hint);
        }
        throw new CheckpointException(dir + ": several safetensors files " + candidates.stream().map(p -> p.getFileName().toString()).toList()
                + " and no model.safetensors.index.json or model_file_base_name says which to use");
    }
}
