package dev.sparkllm.job;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;

/**
 * The end-of-run summary, printed and written as JSON next to the output ({@code OUTPUT/_sparkllm_summary.json}):
 * rows ok, failed and skipped (already committed before this run), tokens in and out, wall time, tokens/s,
 * batch occupancy, and per-partition timings.
 */
public final class RunSummary {

    private final Map<String, Object> fields;

    private RunSummary(Map<String, Object> fields) {
        this.fields = fields;
    }

    public Map<String, Object> fields() {
        return fields;
    }

    public long getLong(String key) {
        return ((Number) fields.get(key)).longValue();
    }

    static RunSummary collect(SparkSession spark, JobOptions o, ChunkedOutput out, RunManifest m, long generated,
                              List<Integer> processedChunks, List<TaskTimings.Task> tasks, double occupancy,
                              long wallMillis) {
        Dataset<Row> table = spark.read().format(o.outputFormat).load(out.root.toString());
        String id = o.idColumn != null ? o.idColumn : InputTable.DERIVED_ID;
        long duplicates = table.groupBy(col(id)).count().where(col("count").gt(1)).count();
        Row all = table.agg(count(lit(1)), lit(0L),
                sum(when(col("finish_reason").equalTo("error"), 1).otherwise(0)),
                sum(col("prompt_tokens")), sum(col("completion_tokens"))).first();
        long completionThisRun = 0;
        if (!processedChunks.isEmpty()) {
            Row r = table.where(col("chunk").isin(processedChunks.toArray())).agg(sum(col("completion_tokens"))).first();
            completionThisRun = r.isNullAt(0) ? 0 : r.getLong(0);
        }
        Map<String, Object> f = new LinkedHashMap<>();
        long rows = all.getLong(0);
        long failed = all.isNullAt(2) ? 0 : all.getLong(2);
        f.put("output", o.output);
        f.put("model", o.model);
        f.put("model_fingerprint", m.identity().get("model_fingerprint"));
        f.put("input_rows", m.rows());
        f.put("output_rows", rows);
        f.put("duplicate_ids", duplicates);
        f.put("rows_ok", rows - failed);
        f.put("rows_failed", failed);
        f.put("rows_generated_this_run", generated);
        f.put("rows_skipped", m.rows() - generated);
        f.put("prompt_tokens", all.isNullAt(3) ? 0 : all.getLong(3));
        f.put("completion_tokens", all.isNullAt(4) ? 0 : all.getLong(4));
        f.put("completion_tokens_this_run", completionThisRun);
        f.put("wall_seconds", wallMillis / 1000.0);
        f.put("completion_tokens_per_second", wallMillis == 0 ? 0 : completionThisRun * 1000.0 / wallMillis);
        f.put("batch_occupancy", occupancy);
        f.put("chunks", m.chunks());
        f.put("partitions", m.partitions());
        f.put("chunks_written_this_run", processedChunks.size());
        List<Map<String, Object>> parts = new ArrayList<>();
        for (TaskTimings.Task t : tasks) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("chunk", t.chunk());
            p.put("partition", t.partition());
            p.put("attempt", t.attempt());
            p.put("executor", t.executor());
            p.put("seconds", t.millis() / 1000.0);
            p.put("rows", t.rowsWritten());
            p.put("succeeded", t.ok());
            parts.add(p);
        }
        f.put("tasks", parts);
        return new RunSummary(f);
    }

    void write(ChunkedOutput out) throws IOException {
        try (OutputStream s = out.fs.create(out.summary(), true)) {
            RunManifest.JSON.writeValue(s, fields);
        }
    }

    String toText() {
        return String.format(Locale.ROOT, "sparkllm done: %d rows in %s (%d ok, %d failed; %d generated now, %d already "
                        + "committed); %d prompt + %d completion tokens; %.1f s, %.1f tok/s, batch occupancy %.2f; "
                        + "summary in %s/_sparkllm_summary.json",
                getLong("output_rows"), fields.get("output"), getLong("rows_ok"), getLong("rows_failed"),
                getLong("rows_generated_this_run"), getLong("rows_skipped"), getLong("prompt_tokens"),
                getLong("completion_tokens"), (Double) fields.get("wall_seconds"),
                (Double) fields.get("completion_tokens_per_second"), (Double) fields.get("batch_occupancy"),
                fields.get("output"));
    }
}
