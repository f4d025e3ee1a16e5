package dev.sparkllm.job;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The end-of-run summary, printed and written as JSON next to the output ({@code OUTPUT/_sparkllm_summary.json}).
 * Its id accounting is what exit code 0 promises: every id of this run's input has exactly one output row.
 * <pre>
 * input_rows              ids in this run's input
 * output_rows             committed output rows
 * output_rows_for_input   output rows whose id is in this run's input
 * missing                 input ids with no output row (0 after a successful run)
 * extra                   output rows whose id is no longer in the input (kept unless --drop-extra-ids)
 * duplicate_ids           ids with more than one output row (0 after a successful run)
 * changed_prompts         output rows whose prompt (or messages) is not the input's now: kept, as resume is
 *                         keyed by ids (give such rows new ids, or use a new --output, to regenerate them)
 * rows_ok, rows_failed    output rows for input ids, by finish reason (error or not)
 * rows_generated_this_run, rows_skipped (already committed), extra_dropped_this_run
 * prompt_tokens, completion_tokens (output rows for input ids), completion_tokens_this_run, tokens/s,
 * batch_occupancy         the engines' mean sequences per step / max batch over this run's steps
 * </pre>
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

    /** Whether every input id has exactly one output row: the condition for exit code 0. */
    public boolean complete() {
        return getLong("missing") == 0 && getLong("duplicate_ids") == 0;
    }

    /** What the run did, besides the counts it reads from the output. */
    record RunFacts(long generated, long extraDropped, long completionTokensThisRun, double occupancy,
                    List<TaskTimings.Task> tasks, int chunksWritten, long wallMillis, long generateMillis) {
    }

    static RunSummary of(JobOptions o, RunManifest m, long inputRows, OutputRows.Totals t, RunFacts run) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("output", o.output);
        f.put("model", o.model);
        f.put("model_fingerprint", m.identity().get("model_fingerprint"));
        f.put("input_rows", inputRows);
        f.put("output_rows", t.outputRows());
        f.put("output_rows_for_input", t.outputRowsForInput());
        f.put("missing", t.missing());
        f.put("extra", t.extra());
        f.put("extra_example", t.extraExample() == null ? null : String.valueOf(t.extraExample()));
        f.put("missing_example", t.missingExample() == null ? null : String.valueOf(t.missingExample()));
        f.put("duplicate_ids", t.duplicateIds());
        f.put("changed_prompts", t.changedText());
        f.put("changed_prompt_example", t.changedExample() == null ? null : String.valueOf(t.changedExample()));
        f.put("rows_ok", t.outputRowsForInput() - t.failed());
        f.put("rows_failed", t.failed());
        f.put("rows_generated_this_run", run.generated());
        f.put("rows_skipped", inputRows - run.generated());
        f.put("extra_dropped_this_run", run.extraDropped());
        f.put("prompt_tokens", t.promptTokens());
        f.put("completion_tokens", t.completionTokens());
        f.put("completion_tokens_this_run", run.completionTokensThisRun());
        f.put("wall_seconds", run.wallMillis() / 1000.0);
        f.put("completion_tokens_per_second", run.wallMillis() == 0 ? 0.0 : run.completionTokensThisRun() * 1000.0 / run.wallMillis());
        // the chunk jobs alone (executors' engine start included): the job's generation speed without the
        // driver's set-up and checks before it and the totals after it, which a short run is dominated by
        f.put("generate_seconds", run.generateMillis() / 1000.0);
        f.put("batch_occupancy", run.occupancy());
        f.put("chunks", m.chunks());
        f.put("partitions", m.partitions());
        f.put("chunks_written_this_run", run.chunksWritten());
        List<Map<String, Object>> parts = new ArrayList<>();
        for (TaskTimings.Task task : run.tasks()) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("chunk", task.chunk());
            p.put("partition", task.partition());
            p.put("attempt", task.attempt());
            p.put("executor", task.executor());
            p.put("seconds", task.millis() / 1000.0);
            p.put("rows", task.rowsWritten());
            p.put("succeeded", task.ok());
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
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "sparkllm done: %d input rows, %d with an output row "
                        + "in %s (%d ok, %d failed; %d generated now, %d already committed); %d prompt + %d completion "
                        + "tokens; %.1f s, %.1f tok/s, batch occupancy %s; summary in %s/_sparkllm_summary.json",
                getLong("input_rows"), getLong("output_rows_for_input"), fields.get("output"), getLong("rows_ok"),
                getLong("rows_failed"), getLong("rows_generated_this_run"), getLong("rows_skipped"),
                getLong("prompt_tokens"), getLong("completion_tokens"), (Double) fields.get("wall_seconds"),
                (Double) fields.get("completion_tokens_per_second"),
                ProgressReporter.occupancyText((Double) fields.get("batch_occupancy")),
                fields.get("output")));
        if (getLong("extra_dropped_this_run") > 0) {
            b.append(String.format(Locale.ROOT, "%nsparkllm: deleted %d output rows whose ids are no longer in the input "
                    + "(--drop-extra-ids)", getLong("extra_dropped_this_run")));
        }
        if (getLong("extra") > 0) {
            b.append(String.format(Locale.ROOT, "%nsparkllm: %d output rows have ids that are no longer in the input, e.g. "
                    + "'%s'; they are kept (rerun with --drop-extra-ids to delete them)", getLong("extra"),
                    fields.get("extra_example")));
        }
        if (getLong("changed_prompts") > 0) {
            b.append(String.format(Locale.ROOT, "%nsparkllm: %d output rows were generated from a prompt that differs "
                    + "from the input's now, e.g. id '%s'; reruns are keyed by ids, so they are kept (give changed "
                    + "rows new ids to generate them again)", getLong("changed_prompts"), fields.get("changed_prompt_example")));
        }
        if (!complete()) {
            b.append(String.format(Locale.ROOT, "%nsparkllm: incomplete: %d input ids have no output row (e.g. '%s') and "
                    + "%d ids have more than one; rerun the same command to generate what is missing",
                    getLong("missing"), fields.get("missing_example"), getLong("duplicate_ids")));
        }
        return b.toString();
    }
}
