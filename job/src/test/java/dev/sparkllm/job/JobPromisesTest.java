package dev.sparkllm.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkllm.udf.EngineHolder;
import dev.sparkllm.udf.testing.FakeBinding;
import dev.sparkllm.udf.testing.LocalSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The batch job's promises of issue 12, on the fake engine: ids as given, reruns against a changed input, nothing
 * of the user's deleted, one rule for bad bytes, a fingerprint of everything that decides a row, honest progress.
 */
class JobPromisesTest {

    static SparkSession spark;
    @TempDir
    static Path tmp;
    static Path model;

    @BeforeAll
    static void start() throws IOException {
        spark = LocalSpark.builder(4).config(GenerateJob.BINDING_CONF, FakeBinding.class.getName()).getOrCreate();
        model = LocalSpark.fakeModel(tmp);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static RunSummary run(Path in, Path out, String... more) throws Exception {
        List<String> a = new ArrayList<>(List.of("--model", model.toString(), "--input", in.toString(),
                "--output", out.toString(), "--seed", "7", "--max-new-tokens", "4", "--engine-option", "max_batch=8"));
        a.addAll(Arrays.asList(more));
        return GenerateJob.run(spark, JobOptions.parse(a.toArray(String[]::new)));
    }

    static Path jsonl(String name, String... lines) throws IOException {
        Path p = tmp.resolve(name + ".jsonl");
        Files.write(p, List.of(lines));
        return p;
    }

    static Map<Object, Row> rowsById(Path out, String format, String id) {
        Map<Object, Row> m = new HashMap<>();
        for (Row r : spark.read().format(format).load(out.toString()).collectAsList()) {
            assertNull(m.put(r.getAs(id), r), "id " + r.getAs(id) + " appears twice");
        }
        return m;
    }

    static String message(Path in, Path out, String... more) {
        return assertThrows(IllegalArgumentException.class, () -> run(in, out, more)).getMessage();
    }

    static String allText(Path dir) throws IOException {
        StringBuilder b = new StringBuilder();
        try (Stream<Path> w = Files.walk(dir)) {
            for (Path p : w.filter(f -> f.toString().contains("chunk=")
                    && f.getFileName().toString().startsWith("part-") && f.toString().endsWith(".json")).toList()) {
                b.append(Files.readString(p));
            }
        }
        return b.toString();
    }

    // 1. Ids keep the input column's name and Spark type; only derived ids are strings.

    @Test
    void integerAndStringIdsKeepTheirTypeThroughJsonAndParquet() throws Exception {
        Path ints = jsonl("int-ids", "{\"id\": 0, \"prompt\": \"first\"}", "{\"id\": 17, \"prompt\": \"second\"}");
        for (String format : List.of("parquet", "json")) {
            Path out = tmp.resolve("int-ids-" + format);
            run(ints, out, "--output-format", format);
            assertEquals(DataTypes.LongType, spark.read().format(format).load(out.toString()).schema().apply("id").dataType(),
                    format + ": a JSON integer id stays an integer");
            assertEquals("first", rowsById(out, format, "id").get(0L).getAs("prompt"));
        }
        assertTrue(allText(tmp.resolve("int-ids-json")).contains("\"id\":17"), "written as a number, not \"17\"");

        Path strings = jsonl("string-ids", "{\"key\": \"007\", \"prompt\": \"first\"}", "{\"key\": \"a b\", \"prompt\": \"x\"}");
        Path out = tmp.resolve("string-ids-json");
        run(strings, out, "--id-column", "key", "--output-format", "json");
        assertTrue(allText(out).contains("\"key\":\"007\""), "string ids stay strings, leading zeros and all");

        StructType schema = new StructType().add("n", DataTypes.IntegerType).add("d", DataTypes.createDecimalType(10, 2))
                .add("prompt", DataTypes.StringType);
        Path parquet = tmp.resolve("typed-ids.parquet");
        spark.createDataFrame(List.of(RowFactory.create(5, new BigDecimal("1.50"), "five"),
                RowFactory.create(6, new BigDecimal("1000.00"), "six")), schema).coalesce(1).write().parquet(parquet.toString());
        for (String format : List.of("parquet", "json")) {
            Path intOut = tmp.resolve("int-col-" + format);
            run(parquet, intOut, "--id-column", "n", "--output-format", format, "--keep-columns", "d");
            StructType outSchema = spark.read().format(format).load(intOut.toString()).schema();
            if (format.equals("parquet")) assertEquals(DataTypes.IntegerType, outSchema.apply("n").dataType());
            assertEquals("six", rowsById(intOut, format, "n").get(format.equals("parquet") ? (Object) 6 : (Object) 6L)
                    .getAs("prompt"));
        }
        Path decOut = tmp.resolve("dec-ids");
        run(parquet, decOut, "--id-column", "d");
        assertEquals(DataTypes.createDecimalType(10, 2), spark.read().parquet(decOut.toString()).schema().apply("d").dataType());

        Path derived = tmp.resolve("derived.txt");
        Files.write(derived, List.of("one", "two"));
        Path derivedOut = tmp.resolve("derived-out");
        run(derived, derivedOut);
        assertEquals(DataTypes.StringType, spark.read().parquet(derivedOut.toString()).schema().apply("id").dataType());
        assertEquals(Map.of("derived.txt:0", "one", "derived.txt:1", "two"), prompts(derivedOut, "id"));
    }

    static Map<Object, String> prompts(Path out, String id) {
        Map<Object, String> m = new HashMap<>();
        for (var e : rowsById(out, "parquet", id).entrySet()) m.put(e.getKey(), e.getValue().getAs("prompt"));
        return m;
    }

    @Test
    void nullRepeatedAndInexactIdsStopTheJobNamingHowManyAndAnExample() throws Exception {
        Path nulls = jsonl("null-ids", "{\"id\": 1, \"prompt\": \"a\"}", "{\"id\": null, \"prompt\": \"b\"}",
                "{\"prompt\": \"c\"}");
        Path out = tmp.resolve("null-ids-out");
        String m = message(nulls, out);
        assertTrue(m.contains("id column 'id' (an input column named id is the row id when --id-column is not given) "
                + "is null in 2 rows, e.g. in "), m);
        assertTrue(m.contains("null-ids.jsonl"), m);
        assertFalse(Files.exists(out), "a refused input leaves a new output as it was: absent");

        Path dups = jsonl("dup-ids", "{\"id\": 1, \"prompt\": \"a\"}", "{\"id\": 1, \"prompt\": \"b\"}",
                "{\"id\": 1, \"prompt\": \"c\"}", "{\"id\": 2, \"prompt\": \"d\"}", "{\"id\": 2, \"prompt\": \"e\"}");
        m = message(dups, tmp.resolve("dup-ids-out"));
        assertTrue(m.startsWith("2 ids occur more than once in column 'id'"), m);
        assertTrue(m.contains("e.g. '1' (3 rows)"), m);

        Path doubles = jsonl("double-ids", "{\"id\": 1.5, \"prompt\": \"a\"}");
        m = message(doubles, tmp.resolve("double-ids-out"));
        assertTrue(m.contains("id column 'id'") && m.contains("has type double; ids must be strings, integers or decimals"), m);
    }

    // 2. Reruns are keyed by ids.

    @Test
    void aRerunAgainstAChangedInputGeneratesNewIdsKeepsOldOnesAndReportsRemovedOnes() throws Exception {
        Path in = tmp.resolve("changing.jsonl");
        Path out = tmp.resolve("changing-out");
        Files.write(in, List.of("{\"id\": \"a\", \"prompt\": \"one\"}", "{\"id\": \"b\", \"prompt\": \"two\"}",
                "{\"id\": \"c\", \"prompt\": \"three\"}", "{\"id\": \"d\", \"prompt\": \"four\"}"));
        RunSummary first = run(in, out);
        assertEquals(4, first.getLong("rows_generated_this_run"));
        Object aGeneration = rowsById(out, "parquet", "id").get("a").getAs("generation");

        // Add a row, drop three, and duplicate one: refused, nothing merged.
        Files.write(in, List.of("{\"id\": \"a\", \"prompt\": \"one\"}", "{\"id\": \"e\", \"prompt\": \"five\"}",
                "{\"id\": \"e\", \"prompt\": \"five again\"}"));
        String m = message(in, out);
        assertTrue(m.contains("1 id occurs more than once in column 'id'") && m.contains("e.g. 'e' (2 rows)"), m);
        assertEquals(4, rowsById(out, "parquet", "id").size(), "the committed output is untouched");

        // Add a row and drop three (in a file of another name: rows are keyed by ids, not by the input's path).
        Path moved = tmp.resolve("changing-2.jsonl");
        Files.write(moved, List.of("{\"id\": \"a\", \"prompt\": \"one\"}", "{\"id\": \"e\", \"prompt\": \"five\"}"));
        RunSummary second = run(moved, out);
        assertEquals(1, second.getLong("rows_generated_this_run"), "only the new id");
        assertEquals(2, second.getLong("input_rows"));
        assertEquals(2, second.getLong("output_rows_for_input"));
        assertEquals(0, second.getLong("missing"));
        assertEquals(3, second.getLong("extra"), "b, c, d are no longer in the input");
        assertTrue(second.complete());
        assertTrue(second.toText().contains("3 output rows have ids that are no longer in the input"), second.toText());
        var json = new ObjectMapper().readValue(out.resolve("_sparkllm_summary.json").toFile(), Map.class);
        assertEquals(3, ((Number) json.get("extra")).intValue());
        assertEquals(0, ((Number) json.get("missing")).intValue());
        Map<Object, Row> rows = rowsById(out, "parquet", "id");
        assertEquals(5, rows.size(), "removed ids are kept by default");
        assertEquals(aGeneration, rows.get("a").getAs("generation"), "a committed row is kept as it was");
        assertEquals("five", rows.get("e").getAs("prompt"));

        assertEquals(0, second.getLong("changed_prompts"));
        Files.write(moved, List.of("{\"id\": \"a\", \"prompt\": \"one, changed\"}", "{\"id\": \"e\", \"prompt\": \"five\"}"));
        RunSummary changed = run(moved, out);
        assertEquals(0, changed.getLong("rows_generated_this_run"), "keyed by ids: a's committed row is kept");
        assertEquals(1, changed.getLong("changed_prompts"));
        assertTrue(changed.toText().contains("1 output rows were generated from a prompt that differs"), changed.toText());
        Files.write(moved, List.of("{\"id\": \"a\", \"prompt\": \"one\"}", "{\"id\": \"e\", \"prompt\": \"five\"}"));

        RunSummary dropped = run(moved, out, "--drop-extra-ids");
        assertEquals(0, dropped.getLong("rows_generated_this_run"));
        assertEquals(3, dropped.getLong("extra_dropped_this_run"));
        assertEquals(0, dropped.getLong("extra"));
        assertEquals(Map.of("a", "one", "e", "five"), prompts(out, "id"));
    }

    // 3. Progress and occupancy.

    @Test
    void theFinalProgressLineReadsNOfNAndOccupancyIsWhatTheEnginesMeasured() throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 64; i++) lines.add("{\"id\": " + i + ", \"prompt\": \"verse " + i + "\"}");
        Path in = tmp.resolve("progress.jsonl");
        Files.write(in, lines);
        String[] options = {"--partitions", "8", "--chunks", "1", "--window", "3", "--max-new-tokens", "6",
                "--engine-option", "step_micros=100000", "--engine-option", "max_batch=16", "--progress-seconds", "1"};
        double[] before = engineTotals();
        var progressLines = new ByteArrayOutputStream();
        var console = System.out;
        RunSummary s;
        try {
            System.setOut(new java.io.PrintStream(new TeeStream(console, progressLines), true));
            s = GenerateJob.run(spark, JobOptions.parse(concat(new String[]{"--model", model.toString(), "--input",
                    in.toString(), "--output", tmp.resolve("progress-out").toString()}, options)));
        } finally {
            System.setOut(console);
        }
        double[] after = engineTotals();
        List<String> printed = progressLines.toString(StandardCharsets.UTF_8).lines()
                .filter(l -> l.startsWith("sparkllm progress:")).toList();
        assertFalse(printed.isEmpty());
        String last = printed.get(printed.size() - 1);
        assertTrue(last.startsWith("sparkllm progress: 64/64 rows (100.0%), 0 failed, "), last);
        assertFalse(last.contains(" 0 tok/s"), last);
        assertFalse(last.contains("batch 0,"), last);
        List<String> running = printed.subList(0, printed.size() - 1).stream()
                .filter(l -> !l.contains(" 0/64 ") && !l.contains(" 64/64 ")).toList();
        assertFalse(running.isEmpty(), "rows are counted as they complete, within the one chunk: " + printed);
        for (String l : running) assertTrue(l.matches(".* [1-9][0-9]* tok/s.*left ~[0-9hms]+"), "while running: " + l);
        double measured = (after[1] - before[1]) / (after[0] - before[0]);
        double reported = ((Number) s.fields().get("batch_occupancy")).doubleValue();
        assertTrue(reported > 0.05, "several sequences per step: " + reported);
        assertEquals(measured, reported, 1e-9, "the summary's occupancy is the engines' own");
        assertTrue(s.toText().contains("batch occupancy " + ProgressReporter.occupancyText(measured)), s.toText());
    }

    /** Steps and occupancy sums of this JVM's engines (local mode: the executor is this JVM). */
    static double[] engineTotals() {
        double steps = 0, occ = 0;
        for (var m : EngineHolder.metrics()) {
            steps += m.steps();
            occ += m.batchOccupancySum();
        }
        return new double[]{steps, occ};
    }

    static String[] concat(String[] a, String[] b) {
        String[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** Copies writes to two streams. */
    static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }

    // 5a. parameters is a struct: see GenerateJobTest. 6. The job deletes only what it wrote.

    @Test
    void filesTheJobDidNotWriteStopItAndAreNeverDeleted() throws Exception {
        Path in = jsonl("own", "{\"id\": 1, \"prompt\": \"a\"}", "{\"id\": 2, \"prompt\": \"b\"}");
        Path dotted = Files.createDirectories(tmp.resolve("dotted"));
        Files.createDirectories(dotted.resolve(".git"));
        Files.writeString(dotted.resolve(".git/HEAD"), "ref: refs/heads/main");
        Files.writeString(dotted.resolve(".notes"), "mine");
        for (String[] extra : List.of(new String[0], new String[]{"--force"})) {
            String m = message(in, dotted, extra);
            assertTrue(m.contains("has no sparkllm run record"), m);
            assertTrue(m.contains(dotted.resolve(".git").toString()) || m.contains(dotted.resolve(".notes").toString()), m);
            assertTrue(m.contains("never deletes"), m);
        }
        assertEquals("mine", Files.readString(dotted.resolve(".notes")));
        assertTrue(Files.exists(dotted.resolve(".git/HEAD")));

        Path file = tmp.resolve("a-file");
        Files.writeString(file, "x");
        assertTrue(message(in, file).contains("is a file"));

        Path out = tmp.resolve("own-out");
        run(in, out);
        Path other = Files.createDirectories(out.resolve("chunk=a"));
        Files.writeString(other.resolve("part-0.parquet"), "another table");
        String m = message(in, out, "--temperature", "0.5", "--force");
        assertTrue(m.contains("does not account for") && m.contains("chunk=a"), m);
        assertTrue(Files.exists(other.resolve("part-0.parquet")));
        assertEquals(2, spark.read().parquet(out.resolve("chunk=00000").toString()).count(), "nothing deleted");

        Files.delete(other.resolve("part-0.parquet"));
        Files.delete(other);
        RunSummary forced = run(in, out, "--temperature", "0.5", "--force");
        assertEquals(2, forced.getLong("rows_generated_this_run"), "--force deletes the earlier run and starts over");
    }

    @Test
    void anAllFailedRunWithJsonOutputFinishesAndResumes() throws Exception {
        Path in = jsonl("all-failed", "{\"id\": 1, \"prompt\": \"\"}", "{\"id\": 2, \"prompt\": \"  \"}",
                "{\"id\": 3, \"prompt\": null}");
        Path out = tmp.resolve("all-failed-out");
        RunSummary s = run(in, out, "--output-format", "json");
        assertEquals(3, s.getLong("rows_failed"));
        assertEquals(0, s.getLong("prompt_tokens"));
        assertTrue(s.complete());
        RunSummary again = run(in, out, "--output-format", "json");
        assertEquals(0, again.getLong("rows_generated_this_run"));
        assertEquals(3, again.getLong("output_rows_for_input"));
    }

    @Test
    void inputsWithoutRowsOrColumnsSaySo() throws Exception {
        Path empty = tmp.resolve("empty.jsonl");
        Files.write(empty, new byte[0]);
        String m = message(empty, tmp.resolve("empty-out"));
        assertTrue(m.contains("has no columns"), m);
        Path blank = tmp.resolve("blank.csv");
        Files.writeString(blank, "id,prompt\n");
        m = message(blank, tmp.resolve("blank-out"));
        assertTrue(m.contains("has no rows"), m);
        Path pretty = tmp.resolve("pretty.json");
        Files.writeString(pretty, "[\n  {\"id\": 1,\n   \"prompt\": \"a\"}\n]\n");
        m = message(pretty, tmp.resolve("pretty-out"));
        assertTrue(m.contains("has no line that parses as a JSON object, e.g. ") && m.contains("pretty.json line 1"), m);
        Path clash = jsonl("clash", "{\"id\": 1, \"prompt\": \"a\", \"error\": \"mine\"}");
        m = message(clash, tmp.resolve("clash-out"), "--keep-columns", "error");
        assertTrue(m.contains("input column 'error' is copied to the output, which has a result column named 'error'"), m);
    }

    // 6. One rule for bytes that are not UTF-8.

    static byte[] bytes(String... parts) {
        var b = new ByteArrayOutputStream();
        for (String p : parts) {
            if (p.startsWith("\\x")) b.write(Integer.parseInt(p.substring(2), 16));
            else b.writeBytes(p.getBytes(StandardCharsets.UTF_8));
        }
        return b.toByteArray();
    }

    @Test
    void rowsWithBadBytesKeepTheirIdAsErrorRowsInEveryFormat() throws Exception {
        String rule = "holds bytes that are not valid UTF-8";
        Path json = tmp.resolve("bad.jsonl");
        Files.write(json, bytes("{\"id\": 1, \"prompt\": \"good\"}\n{\"id\": 2, \"prompt\": \"bad ", "\\xff", " here\"}\n",
                "{\"id\": 3, \"prompt\": \"caf\u00e9\"}\n"));
        Map<Object, Row> rows = rowsById(runOk(json, "json"), "parquet", "id");
        assertEquals(3, rows.size());
        assertNull(rows.get(1L).getAs("error"));
        assertNull(rows.get(3L).getAs("error"), "real UTF-8 is fine");
        assertEquals("error", rows.get(2L).getAs("finish_reason"));
        assertTrue(((String) rows.get(2L).getAs("error")).startsWith("'prompt' " + rule), (String) rows.get(2L).getAs("error"));

        Path csv = tmp.resolve("bad.csv");
        Files.write(csv, bytes("id,prompt\na,\"good, fine\"\nb,\"bad ", "\\xc3", "(", "\"\nc,caf\u00e9\n"));
        rows = rowsById(runOk(csv, "csv"), "parquet", "id");
        assertEquals("good, fine", rows.get("a").getAs("prompt"));
        assertEquals("caf\u00e9", rows.get("c").getAs("prompt"), "UTF-8 CSV text reads as UTF-8");
        assertNull(rows.get("c").getAs("error"));
        assertTrue(((String) rows.get("b").getAs("error")).startsWith("'prompt' " + rule), (String) rows.get("b").getAs("error"));

        Path text = tmp.resolve("bad.txt");
        Files.write(text, bytes("good line\nbad ", "\\xfe", " line\n"));
        rows = rowsById(runOk(text, "text"), "parquet", "id");
        assertNull(rows.get("bad.txt:0").getAs("error"));
        assertTrue(((String) rows.get("bad.txt:1").getAs("error")).startsWith("'prompt' " + rule));

        Path parquet = tmp.resolve("bad.parquet");
        StructType schema = new StructType().add("id", DataTypes.LongType).add("raw", DataTypes.BinaryType);
        spark.createDataFrame(List.of(RowFactory.create(1L, bytes("fine")), RowFactory.create(2L, bytes("no ", "\\xff"))),
                        schema).withColumn("prompt", functions.col("raw").cast("string")).drop("raw")
                .coalesce(1).write().parquet(parquet.toString());
        rows = rowsById(runOk(parquet, "parquet"), "parquet", "id");
        assertNull(rows.get(1L).getAs("error"));
        assertTrue(((String) rows.get(2L).getAs("error")).startsWith("'prompt' " + rule));
    }

    static Path runOk(Path in, String name) throws Exception {
        Path out = tmp.resolve("bad-out-" + name);
        assertTrue(run(in, out).complete());
        return out;
    }

    @Test
    void anIdThatCannotBeReadStopsTheJobNamingFileAndLine() throws Exception {
        Path json = tmp.resolve("bad-id.jsonl");
        Files.write(json, bytes("{\"id\": \"a\", \"prompt\": \"good\"}\n{\"id\": \"b\", \"prompt\": \"good\"}\n",
                "{\"id\": \"c", "\\xff", "\", \"prompt\": \"x\"}\n"));
        String m = message(json, tmp.resolve("bad-id-out"));
        assertTrue(m.contains("1 input row have an id that cannot be read") || m.contains("id that cannot be read"), m);
        assertTrue(m.contains("bad-id.jsonl line 3 (its bytes are not valid UTF-8)"), m);

        Path broken = tmp.resolve("broken.jsonl");
        Files.write(broken, List.of("{\"id\": 1, \"prompt\": \"good\"}", "", "{\"id\": 2, \"prompt\": broken"));
        m = message(broken, tmp.resolve("broken-out"));
        assertTrue(m.contains("broken.jsonl line 3 (it is not valid JSON)"), m);

        Path csv = tmp.resolve("bad-id.csv");
        Files.write(csv, bytes("key,prompt\nok,fine\nx", "\\xff", ",text\n"));
        m = message(csv, tmp.resolve("bad-id-csv-out"), "--id-column", "key");
        assertTrue(m.contains("bad-id.csv line 3 (its bytes are not valid UTF-8)"), m);

        Path derived = tmp.resolve("broken-derived.jsonl");
        Files.write(derived, List.of("{\"prompt\": \"good\"}", "{\"prompt\": broken"));
        Map<Object, Row> rows = rowsById(runOk(derived, "derived-broken"), "parquet", "id");
        assertEquals("the input line is not valid JSON; fix the line", rows.get("broken-derived.jsonl:1").getAs("error"),
                "with derived ids the row keeps its file:position id");
    }

    // 6. The run fingerprint covers what decides a row's output.

    @Test
    void aResumeWithOtherTokenizerFilesPresetContentsOrEngineOptionsIsRefusedNamingThePart() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("fp-model"));
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"fake\"}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"{{ messages }}\"}");
        Path preset = tmp.resolve("mine.json");
        Files.writeString(preset, "{\"system_prompt\": \"Be brief.\", \"sampling\": {\"temperature\": 0.5}}");
        Path in = jsonl("fp", "{\"id\": 1, \"prompt\": \"a\"}");
        Path out = tmp.resolve("fp-out");
        String[] base = {"--model", dir.toString(), "--input", in.toString(), "--output", out.toString(),
                "--preset", preset.toString(), "--engine-option", "max_batch=4"};
        GenerateJob.run(spark, JobOptions.parse(base));

        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"{{ messages | reverse }}\"}");
        assertRefused(base, "model_files.tokenizer_config.json");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"{{ messages }}\"}");

        Files.writeString(preset, "{\"system_prompt\": \"Be long.\", \"sampling\": {\"temperature\": 0.5}}");
        assertRefused(base, "preset_content.system_prompt: Be brief. -> Be long.");
        Files.writeString(preset, "{\"system_prompt\": \"Be brief.\", \"sampling\": {\"temperature\": 0.5}}");

        assertRefused(concat(base, new String[]{"--engine-option", "tokenizer_mode=transformers5"}),
                "engine_options.tokenizer_mode: null -> transformers5");
        assertEquals(0, GenerateJob.run(spark, JobOptions.parse(concat(base, new String[]{"--engine-option", "threads=3"})))
                .getLong("rows_generated_this_run"), "threads change speed only: the run resumes");
    }

    static void assertRefused(String[] args, String part) {
        String m = assertThrows(IllegalArgumentException.class, () -> GenerateJob.run(spark, JobOptions.parse(args))).getMessage();
        assertTrue(m.contains("was made with other settings") && m.contains(part), "expected '" + part + "' in: " + m);
    }

    @Test
    void theFingerprintCoversTemplateFileContentsAndWeights() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("fp-model-2"));
        Files.writeString(dir.resolve("config.json"), "{}");
        Files.write(dir.resolve("model.safetensors"), new byte[100_000]);
        Path template = tmp.resolve("t.jinja");
        Files.writeString(template, "{{ messages[0].content }}");
        var settings = new dev.sparkllm.udf.GenerationSettings(dir.toString()).template(template.toString());
        Map<String, Object> a = RunFingerprint.of(dir, settings, "m");
        Files.writeString(template, "{{ messages[-1].content }}");
        Map<String, Object> b = RunFingerprint.of(dir, settings, "m");
        assertEquals(List.of("template_file"), RunManifest.differences(a, b).stream().map(d -> d.split(":")[0]).toList());
        byte[] weights = new byte[100_000];
        weights[(100_000 - 4096) * 8 / 15 + 10] = 1; // inside a sampled window: any retrained file changes them all
        Files.write(dir.resolve("model.safetensors"), weights);
        Map<String, Object> c = RunFingerprint.of(dir, settings, "m");
        assertEquals(List.of("weights"), RunManifest.differences(b, c).stream().map(d -> d.split(":")[0]).toList());
    }
}
