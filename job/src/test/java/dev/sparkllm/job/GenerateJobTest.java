package dev.sparkllm.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkllm.udf.EngineHolder;
import dev.sparkllm.udf.GenerationSettings;
import dev.sparkllm.udf.testing.FakeBinding;
import dev.sparkllm.udf.testing.LocalSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class GenerateJobTest {

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

    /** A JSON-lines prompt file: rows "r0".."r{n-1}", with a few bad rows among them. */
    static Path prompts(String name, int n) throws IOException {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String prompt = switch (i % 50) {
                case 7 -> "null";
                case 8 -> "\"\"";
                case 9 -> "\"   \"";
                default -> "\"And the earth was without form " + i + "\"";
            };
            int tokens = i % 50 == 11 ? 999 : 4 + i % 5;
            lines.add("{\"key\": \"r" + i + "\", \"prompt\": " + prompt + ", \"n\": " + tokens + ", \"topic\": \"t" + i % 3 + "\"}");
        }
        Path p = tmp.resolve(name + ".jsonl");
        Files.write(p, lines);
        return p;
    }

    static String[] args(Path input, Path output, String... more) {
        List<String> a = new ArrayList<>(List.of("--model", model.toString(), "--input", input.toString(),
                "--output", output.toString(), "--id-column", "key", "--keep-columns", "topic",
                "--row-param", "max_new_tokens=n", "--seed", "42", "--engine-option", "max_batch=8"));
        a.addAll(Arrays.asList(more));
        return a.toArray(String[]::new);
    }

    static RunSummary run(String... args) throws Exception {
        return GenerateJob.run(spark, JobOptions.parse(args));
    }

    static Map<String, Row> byId(Path output, String format) {
        Map<String, Row> m = new HashMap<>();
        for (Row r : spark.read().format(format).load(output.toString()).collectAsList()) {
            assertNull(m.put(r.getAs("key"), r), "id " + r.getAs("key") + " appears twice");
        }
        return m;
    }

    @Test
    void oneOutputRowPerInputRowWithTheIssueSchemaAndASummary() throws Exception {
        Path in = prompts("basic", 120);
        Path out = tmp.resolve("basic-out");
        RunSummary s = run(args(in, out, "--chunks", "3"));
        Map<String, Row> rows = byId(out, "parquet");
        assertEquals(120, rows.size());
        List<String> columns = Arrays.asList(spark.read().parquet(out.toString()).columns());
        assertEquals(List.of("key", "prompt", "topic", "generation", "finish_reason", "prompt_tokens",
                "completion_tokens", "truncated", "error", "parameters", "model", "chunk"), columns);
        assertEquals("prompt is null", rows.get("r7").getAs("error"));
        assertEquals("prompt is empty", rows.get("r8").getAs("error"));
        assertEquals("prompt is only whitespace", rows.get("r9").getAs("error"));
        assertEquals("max_new_tokens 999 is out of range 1..256", rows.get("r11").getAs("error"));
        assertEquals("error", rows.get("r11").getAs("finish_reason"));
        Row ok = rows.get("r0");
        assertNull(ok.getAs("error"));
        assertEquals(4, ok.<Row>getAs("parameters").<Integer>getAs("max_new_tokens"));
        assertTrue(((String) ok.getAs("model")).startsWith("fake:"));
        assertEquals(120, s.getLong("output_rows"));
        assertEquals(0, s.getLong("duplicate_ids"));
        assertEquals(12, s.getLong("rows_failed"), "rows 7, 8, 9, 11 of each 50 (and of 100..119)");
        var json = new ObjectMapper().readValue(out.resolve("_sparkllm_summary.json").toFile(), Map.class);
        assertEquals(120, ((Number) json.get("rows_ok")).intValue() + ((Number) json.get("rows_failed")).intValue());
        assertFalse(((List<?>) json.get("tasks")).isEmpty(), "per-partition timings");
    }

    @Test
    void theEngineOpensWhileTheInputIsPreparedAndOnlyOnce() throws Exception {
        Path in = prompts("warmup", 20);
        // the warm-up job alone opens the engine, before any generation task exists
        GenerationSettings settings = GenerateJob.settings(spark,
                JobOptions.parse(args(in, tmp.resolve("warmup-out"), "--engine-option", "step_micros=7")));
        int before = EngineHolder.creations();
        try (EngineWarmup warmup = EngineWarmup.start(spark, settings)) {
            assertTrue(warmup.await(60_000), "the warm-up job ended");
        }
        assertEquals(1, EngineHolder.creations() - before, "the warm-up opened the engine");
        // a run with a new engine key: its warm-up and its tasks share one engine
        RunSummary s = run(args(in, tmp.resolve("warmup-run"), "--engine-option", "step_micros=9"));
        assertEquals(20, s.getLong("output_rows"));
        assertEquals(2, EngineHolder.creations() - before, "one engine for the warm-up and the generation tasks");
        // switched off, the tasks open the engine themselves
        spark.conf().set(EngineWarmup.CONF, "false");
        try {
            run(args(in, tmp.resolve("warmup-off"), "--engine-option", "step_micros=11"));
        } finally {
            spark.conf().unset(EngineWarmup.CONF);
        }
        assertEquals(3, EngineHolder.creations() - before);
    }

    @Test
    void parametersIsAStructThatSqlAddressesInParquetAndJson() throws Exception {
        Path in = prompts("params", 6);
        for (String format : List.of("parquet", "json")) {
            Path out = tmp.resolve("params-" + format);
            run(args(in, out, "--temperature", "0.5", "--output-format", format));
            spark.read().format(format).load(out.toString()).createOrReplaceTempView("params_" + format);
            Row r = spark.sql("SELECT parameters.temperature, parameters.max_new_tokens, parameters.seed FROM params_"
                    + format + " WHERE key = 'r1'").first();
            assertEquals(0.5, ((Number) r.get(0)).doubleValue(), format);
            assertEquals(5, ((Number) r.get(1)).intValue(), format);
            assertNotNull(r.get(2), format + ": the derived seed is recorded");
        }
    }

    @Test
    void aRerunGeneratesOnlyUncommittedChunksAndKeepsEachIdOnce() throws Exception {
        Path in = prompts("resume", 200);
        Path out = tmp.resolve("resume-out");
        RunSummary first = run(args(in, out, "--chunks", "5"));
        assertEquals(200, first.getLong("rows_generated_this_run"));
        Map<String, Row> before = byId(out, "parquet");
        // A crash after two chunks were committed leaves the other three without _SUCCESS or missing.
        long lost = 0;
        for (int k : new int[]{1, 3, 4}) {
            Path chunk = out.resolve(ChunkedOutput.chunkName(k));
            lost += spark.read().parquet(chunk.toString()).count();
            Files.delete(chunk.resolve("_SUCCESS"));
            if (k == 4) deleteTree(chunk);
        }
        RunSummary second = run(args(in, out, "--chunks", "5"));
        assertEquals(lost, second.getLong("rows_generated_this_run"), "only the uncommitted chunks' rows");
        assertEquals(200 - lost, second.getLong("rows_skipped"));
        Map<String, Row> after = byId(out, "parquet");
        assertEquals(200, after.size());
        for (var e : before.entrySet()) {
            assertEquals((String) e.getValue().getAs("generation"), after.get(e.getKey()).getAs("generation"),
                    "seeded generation of " + e.getKey() + " is the same in both runs");
        }
        RunSummary third = run(args(in, out, "--chunks", "5"));
        assertEquals(0, third.getLong("rows_generated_this_run"));
    }

    @Test
    void resumingWithOtherSettingsIsRefusedUnlessForced() throws Exception {
        Path in = prompts("settings", 30);
        Path out = tmp.resolve("settings-out");
        run(args(in, out));
        var e = assertThrows(IllegalArgumentException.class, () -> run(args(in, out, "--temperature", "0.5")));
        assertTrue(e.getMessage().contains("was made with other settings"), e.getMessage());
        assertTrue(e.getMessage().contains("temperature"), e.getMessage());
        RunSummary forced = run(args(in, out, "--temperature", "0.5", "--force"));
        assertEquals(30, forced.getLong("rows_generated_this_run"));
        assertEquals(0.5, byId(out, "parquet").get("r0").<Row>getAs("parameters").<Double>getAs("temperature"));
    }

    @Test
    void retryErrorsRegeneratesOnlyTheFailedRows() throws Exception {
        Path in = prompts("retry", 100);
        Path out = tmp.resolve("retry-out");
        RunSummary first = run(args(in, out, "--chunks", "4"));
        long failed = first.getLong("rows_failed");
        assertTrue(failed > 0);
        RunSummary retried = run(args(in, out, "--chunks", "4", "--retry-errors"));
        assertEquals(failed, retried.getLong("rows_generated_this_run"));
        assertEquals(100, byId(out, "parquet").size());
        assertEquals(failed, retried.getLong("rows_failed"), "the same rows fail again: their input is bad");
    }

    @Test
    void derivedIdsComeFromFileAndPositionAndAreStable() throws Exception {
        Path in = tmp.resolve("lines.txt");
        Files.write(in, List.of("first line", "second line", "third line"));
        Path out = tmp.resolve("lines-out");
        GenerateJob.run(spark, JobOptions.parse(new String[]{"--model", model.toString(), "--input", in.toString(),
                "--output", out.toString(), "--output-format", "json"}));
        Map<String, String> ids = new HashMap<>();
        for (Row r : spark.read().json(out.toString()).collectAsList()) ids.put(r.getAs("id"), r.getAs("prompt"));
        assertEquals(Map.of("lines.txt:0", "first line", "lines.txt:1", "second line", "lines.txt:2", "third line"), ids);
    }

    @Test
    void anInputColumnNamedIdIsTheRowIdWithoutIdColumn() throws Exception {
        Path in = tmp.resolve("with-id.jsonl");
        Files.write(in, List.of("{\"id\": \"v1\", \"prompt\": \"first\"}", "{\"id\": \"v2\", \"prompt\": \"second\"}"));
        Path out = tmp.resolve("with-id-out");
        GenerateJob.run(spark, JobOptions.parse(new String[]{"--model", model.toString(), "--input", in.toString(),
                "--output", out.toString(), "--output-format", "json"}));
        Map<String, String> ids = new HashMap<>();
        for (Row r : spark.read().json(out.toString()).collectAsList()) ids.put(r.getAs("id"), r.getAs("prompt"));
        assertEquals(Map.of("v1", "first", "v2", "second"), ids);
    }

    @Test
    void csvInputWithMessagesIsNotNeededButCsvPromptsWork() throws Exception {
        Path in = tmp.resolve("p.csv");
        Files.write(in, List.of("key,prompt,topic,n", "a,\"hello, world\",x,3", "b,second,y,5"));
        Path out = tmp.resolve("csv-out");
        run(args(in, out));
        Map<String, Row> rows = byId(out, "parquet");
        assertEquals("hello, world", rows.get("a").getAs("prompt"));
        assertEquals(5, rows.get("b").<Row>getAs("parameters").<Integer>getAs("max_new_tokens"));
    }

    @Test
    void messagesColumnsWithTokenIdsAndLogprobs() throws Exception {
        Path in = tmp.resolve("chat.jsonl");
        Files.write(in, List.of(
                "{\"key\": \"a\", \"chat\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Who begat Enos?\"}]}",
                "{\"key\": \"b\", \"chat\": [{\"role\": \"narrator\", \"content\": \"Once\"}]}"));
        Path out = tmp.resolve("chat-out");
        run("--model", model.toString(), "--input", in.toString(), "--output", out.toString(), "--id-column", "key",
                "--messages-column", "chat", "--include-token-ids", "--logprobs", "2", "--output-format", "json");
        Map<String, Row> rows = byId(out, "json");
        Row a = rows.get("a");
        assertNull(a.getAs("error"));
        List<Long> ids = a.getList(a.fieldIndex("token_ids"));
        List<Row> lps = a.getList(a.fieldIndex("logprobs"));
        assertEquals(((Number) a.getAs("completion_tokens")).intValue(), ids.size());
        assertEquals(ids.size(), lps.size());
        assertEquals("unknown role 'narrator'; expected system, user or assistant", rows.get("b").getAs("error"));
    }

    @Test
    void inputProblemsStopTheJobOnTheDriverNamingThem() throws Exception {
        Path in = prompts("problems", 10);
        Path dupes = tmp.resolve("dupes.jsonl");
        Files.write(dupes, List.of("{\"key\":\"a\",\"prompt\":\"x\",\"n\":1,\"topic\":\"t\"}",
                "{\"key\":\"a\",\"prompt\":\"y\",\"n\":1,\"topic\":\"t\"}", "{\"key\":\"b\",\"prompt\":\"y\",\"n\":1,\"topic\":\"t\"}"));
        Path typed = tmp.resolve("typed.jsonl");
        Files.write(typed, List.of("{\"key\":\"a\",\"prompt\":5,\"n\":1,\"topic\":\"t\"}"));
        Path out = tmp.resolve("problems-out");
        assertMessage("1 id occurs more than once in column 'key', e.g. 'a' (2 rows)", args(dupes, out));
        assertMessage("prompt column 'text' is not in the input", args(in, out, "--prompt-column", "text"));
        assertMessage("prompt column 'prompt' has type bigint; expected string", args(typed, out));
        assertMessage("model directory /nonexistent/model does not exist",
                swap(args(in, out), "--model", "/nonexistent/model"));
        assertMessage("unknown template 'fancy'", args(in, out, "--template", "fancy"));
        assertMessage("unknown option --temprature", args(in, out, "--temprature", "1"));
        assertMessage("--keep-columns names 'missing'", swap(args(in, out), "--keep-columns", "missing"));
        assertMessage("--row-param colour is not a sampling option", args(in, out, "--row-param", "colour=topic"));
        assertFalse(Files.exists(out.resolve("_sparkllm")), "nothing staged");
    }

    static void assertMessage(String expected, String[] args) {
        var e = assertThrows(IllegalArgumentException.class, () -> run(args));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    static String[] swap(String[] args, String flag, String value) {
        String[] a = args.clone();
        for (int i = 0; i < a.length; i++) if (a[i].equals(flag)) a[i + 1] = value;
        return a;
    }

    static void deleteTree(Path p) throws IOException {
        try (Stream<Path> w = Files.walk(p)) {
            for (Path q : w.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
