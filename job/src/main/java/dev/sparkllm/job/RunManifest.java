package dev.sparkllm.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The run record of an output directory: what it was made from, and its chunk layout. Written before the run
 * writes anything else (with no chunks yet), so that every file a run writes is accounted for by a record
 * ({@link ChunkedOutput#inspect}); a rerun compares itself against it so a resumed output never mixes two models,
 * two tokenizers, two templates or two settings.
 *
 * @param identity   what must match for a resume (see {@link RunFingerprint}, plus input path, columns, format)
 * @param rows       rows in the latest staged input (0 before the first staging)
 * @param chunks     commit units (id hash modulo chunks); 0 before the first staging
 * @param partitions total partitions over all chunks of the first plan
 */
record RunManifest(Map<String, Object> identity, long rows, int chunks, int partitions) {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * What the output was made from besides the model and settings: the input's columns and their types, the
     * format. Not the input's path: rows are keyed by ids, so a rerun on another or a changed input is a changed
     * input (new ids generated, removed ones reported), not another run.
     */
    static Map<String, Object> identity(JobOptions o, Map<String, Object> fingerprint, String inputColumnTypes) {
        Map<String, Object> id = new LinkedHashMap<>(fingerprint);
        id.put("id_column", o.idColumn);
        id.put("prompt_column", o.promptColumn);
        id.put("messages_column", o.messagesColumn);
        id.put("keep_columns", o.keepColumns);
        id.put("row_params", o.rowParams);
        id.put("output_columns", inputColumnTypes);
        id.put("output_format", o.outputFormat);
        return id;
    }

    RunManifest withLayout(long rows, int chunks, int partitions) {
        return new RunManifest(identity, rows, chunks, partitions);
    }

    /**
     * Differences between a stored identity and this run's, as "name: stored -> now" lines (nested values by
     * their dotted names, e.g. "model_files.tokenizer_config.json"); empty when equal.
     */
    static List<String> differences(Map<String, Object> stored, Map<String, Object> now) {
        Map<String, Object> a = new TreeMap<>();
        Map<String, Object> b = new TreeMap<>();
        flatten("", normalized(stored), a);
        flatten("", normalized(now), b);
        Set<String> keys = new TreeSet<>(a.keySet());
        keys.addAll(b.keySet());
        List<String> diffs = new ArrayList<>();
        for (String k : keys) {
            if (!Objects.equals(a.get(k), b.get(k))) diffs.add(k + ": " + a.get(k) + " -> " + b.get(k));
        }
        return diffs;
    }

    private static void flatten(String prefix, Object value, Map<String, Object> out) {
        if (value instanceof Map<?, ?> m && !m.isEmpty()) {
            for (Map.Entry<?, ?> e : m.entrySet()) flatten(prefix + e.getKey() + ".", e.getValue(), out);
        } else {
            out.put(prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1), value);
        }
    }

    /** Through JSON and back, so numbers compare by value whatever their Java type. */
    private static Map<?, ?> normalized(Map<String, Object> m) {
        try {
            return JSON.readValue(JSON.writeValueAsString(m), Map.class);
        } catch (IOException e) {
            throw new IllegalStateException("run identity is not JSON-serialisable: " + m, e);
        }
    }

    void write(FileSystem fs, Path file) throws IOException {
        Path tmp = new Path(file.getParent(), "." + file.getName() + ".tmp");
        try (FSDataOutputStream out = fs.create(tmp, true)) {
            JSON.writeValue((java.io.OutputStream) out, Map.of("identity", identity, "rows", rows, "chunks", chunks,
                    "partitions", partitions));
        }
        fs.delete(file, false);
        if (!fs.rename(tmp, file)) throw new IOException("cannot rename " + tmp + " to " + file);
    }

    @SuppressWarnings("unchecked")
    static RunManifest read(FileSystem fs, Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            Map<String, Object> m = JSON.readValue(in, Map.class);
            if (!(m.get("identity") instanceof Map)) throw new IOException("no identity in the run record");
            return new RunManifest((Map<String, Object>) m.get("identity"), number(m, "rows").longValue(),
                    number(m, "chunks").intValue(), number(m, "partitions").intValue());
        }
    }

    private static Number number(Map<String, Object> m, String key) throws IOException {
        if (m.get(key) instanceof Number n && n.longValue() >= 0) return n;
        throw new IOException("'" + key + "' is missing or not a count");
    }
}
