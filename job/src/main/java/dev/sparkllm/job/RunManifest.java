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

/**
 * What an output directory was made from: model fingerprint, result-defining parameters, input and columns,
 * and the chunk layout. Written once the staged input is committed; a rerun compares itself against it so a
 * resumed output never mixes two models or two settings.
 *
 * @param identity   what must match for a resume (model fingerprint, parameters, input, columns, format)
 * @param rows       rows in the staged input
 * @param chunks     commit units (id hash modulo chunks)
 * @param partitions total partitions over all chunks
 */
record RunManifest(Map<String, Object> identity, long rows, int chunks, int partitions) {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    static Map<String, Object> identity(JobOptions o, String fingerprint, Map<String, Object> parameters) {
        Map<String, Object> id = new LinkedHashMap<>();
        id.put("model_fingerprint", fingerprint);
        id.put("parameters", parameters);
        id.put("input", o.input);
        id.put("id_column", o.idColumn);
        id.put("prompt_column", o.promptColumn);
        id.put("messages_column", o.messagesColumn);
        id.put("keep_columns", o.keepColumns);
        id.put("row_params", o.rowParams);
        id.put("output_format", o.outputFormat);
        return id;
    }

    /** Differences between a stored identity and this run's, as "name: stored -> now" lines; empty when equal. */
    static List<String> differences(Map<String, Object> stored, Map<String, Object> now) {
        Map<?, ?> a = normalized(stored);
        Map<?, ?> b = normalized(now);
        List<String> diffs = new ArrayList<>();
        for (Object k : b.keySet()) {
            if (!Objects.equals(a.get(k), b.get(k))) diffs.add(k + ": " + a.get(k) + " -> " + b.get(k));
        }
        return diffs;
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
            return new RunManifest((Map<String, Object>) m.get("identity"), ((Number) m.get("rows")).longValue(),
                    ((Number) m.get("chunks")).intValue(), ((Number) m.get("partitions")).intValue());
        }
    }
}
