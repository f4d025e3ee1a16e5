package dev.sparkllm.udf;

import dev.sparkllm.udf.testing.FakeEngine;
import dev.sparkllm.udf.testing.FakeTokenizer;
import dev.sparkllm.udf.testing.LocalSpark;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

public class LlmGenerationTest {

    static SparkSession spark;
    @TempDir
    static Path tmp;
    static Path model;

    @BeforeAll
    static void start() throws Exception {
        spark = LocalSpark.builder(4).getOrCreate();
        model = LocalSpark.fakeModel(tmp);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static final StructType PROMPTS = new StructType().add("id", DataTypes.StringType).add("prompt", DataTypes.StringType)
            .add("max_tokens", DataTypes.IntegerType);

    /** What the fake engine must produce for a prompt, computed directly from its token function. */
    public static String expected(String prompt, long seed, int maxNew) {
        int[] ids = new FakeTokenizer().encode(prompt, true);
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < maxNew; i++) {
            int t = FakeEngine.token(ids, seed, i);
            if (t == FakeEngine.STOP_TOKEN) break;
            out.add(t);
        }
        return new FakeTokenizer().decode(out.stream().mapToInt(Integer::intValue).toArray(), true);
    }

    @Test
    void everyRowGetsItsOwnGenerationInInputOrderFromOneSharedEngine() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 300; i++) rows.add(RowFactory.create("id" + i, "verse " + i + " of the book", null));
        Dataset<Row> in = spark.createDataFrame(rows, PROMPTS).repartition(12);
        GenerationSettings s = LocalSpark.fakeSettings(model).jobSeed(7L).window(5)
                .engineOptions(Map.of("max_batch", "16", "tag", "order"));
        int before = EngineHolder.creations();
        List<Row> inOrder = in.collectAsList();
        List<Row> out = LlmGeneration.generate(in, GenerationColumns.prompt("prompt").withId("id"), s, "result")
                .collectAsList();
        assertEquals(1, EngineHolder.creations() - before, "one engine for all 12 tasks of this executor");
        assertEquals(300, out.size());
        for (int i = 0; i < out.size(); i++) {
            Row o = out.get(i);
            assertEquals(inOrder.get(i).getString(0), o.getString(0), "row order within partitions is kept");
            Row r = o.getStruct(3);
            long seed = RowSeeds.derive(7L, o.getString(0));
            assertEquals(expected(o.getString(1), seed, 8), r.getString(0), "generation of " + o.getString(0));
            assertNull(r.get(5));
            assertTrue(List.of("stop", "length").contains(r.getString(1)));
            assertEquals(new FakeTokenizer().encode(o.getString(1), true).length, r.getInt(2));
        }
    }

    @Test
    void badRowsBecomeErrorRowsAndTheRestSucceed() {
        Dataset<Row> in = spark.sql("SELECT * FROM VALUES "
                + "('ok', 'In the beginning', CAST(NULL AS INT)), "
                + "('null', CAST(NULL AS STRING), NULL), "
                + "('empty', '', NULL), "
                + "('blank', ' \t\n ', NULL), "
                + "('utf8', CAST(unhex('48C328') AS STRING), NULL), "
                + "('range', 'fine prompt', 0), "
                + "('long', repeat('x', 500), NULL) "
                + "AS t(id, prompt, max_tokens)");
        GenerationSettings s = LocalSpark.fakeSettings(model).failTooLongPrompts(true);
        Map<String, Row> byId = new HashMap<>();
        for (Row r : LlmGeneration.generate(in, GenerationColumns.prompt("prompt").withId("id")
                .withRowParams(Map.of("max_new_tokens", "max_tokens")), s, "result").collectAsList()) {
            byId.put(r.getString(0), r.getStruct(3));
        }
        assertEquals(7, byId.size());
        assertNull(byId.get("ok").get(5));
        assertEquals("prompt is null", byId.get("null").getString(5));
        assertEquals("prompt is empty", byId.get("empty").getString(5));
        assertEquals("prompt is only whitespace", byId.get("blank").getString(5));
        assertTrue(byId.get("utf8").getString(5).contains("not valid UTF-8"), byId.get("utf8").getString(5));
        assertTrue(byId.get("range").getString(5).contains("max_new_tokens 0 is out of range"));
        assertTrue(byId.get("long").getString(5).contains("tokens; at most"));
        for (String id : List.of("null", "empty", "blank", "utf8", "range", "long")) {
            assertEquals("error", byId.get(id).getString(1), id);
            assertNull(byId.get(id).get(0), id);
        }
    }

    @Test
    void tooLongPromptsAreTruncatedByDefault() {
        Dataset<Row> in = spark.sql("SELECT 'a' AS id, repeat('x', 500) AS prompt");
        Row r = LlmGeneration.generate(in, GenerationColumns.prompt("prompt").withId("id"),
                LocalSpark.fakeSettings(model), "result").first().getStruct(2);
        assertTrue(r.getBoolean(4));
        assertNull(r.get(5));
        assertEquals(64 - 8, r.getInt(2), "truncated to the context window less max_new_tokens");
    }

    @Test
    void messagesWithAnUnknownRoleFailOnlyThatRow() {
        Dataset<Row> in = spark.sql("SELECT * FROM VALUES "
                + "('a', array(named_struct('role', 'user', 'content', 'hello'))), "
                + "('b', array(named_struct('role', 'wizard', 'content', 'hello'))) AS t(id, messages)");
        List<Row> out = LlmGeneration.generate(in, new GenerationColumns(null, "messages", "id", Map.of()),
                LocalSpark.fakeSettings(model), "result").orderBy("id").collectAsList();
        assertNull(out.get(0).getStruct(2).get(5));
        assertEquals("unknown role 'wizard'; expected system, user or assistant", out.get(1).getStruct(2).getString(5));
    }

    @Test
    void tokenIdsAndLogprobsWhenAsked() {
        Dataset<Row> in = spark.sql("SELECT 'a' AS id, 'some prompt' AS prompt");
        GenerationSettings s = LocalSpark.fakeSettings(model).includeTokenIds(true).logprobs(1);
        Row r = LlmGeneration.generate(in, GenerationColumns.prompt("prompt").withId("id"), s, "result")
                .first().getStruct(2);
        List<Integer> ids = r.getList(7);
        List<Row> lps = r.getList(8);
        assertEquals(r.getInt(3), ids.size());
        assertEquals(ids.size(), lps.size());
        for (int i = 0; i < ids.size(); i++) assertEquals(ids.get(i), lps.get(i).getInt(0));
    }

    @Test
    void wrongColumnsAreRejectedBeforeAnyTaskRuns() {
        Dataset<Row> in = spark.sql("SELECT 'a' AS id, 42 AS prompt");
        var e = assertThrows(IllegalArgumentException.class, () -> LlmGeneration.generate(in,
                GenerationColumns.prompt("prompt"), LocalSpark.fakeSettings(model), "result"));
        assertEquals("prompt column 'prompt' has type int; expected string", e.getMessage());
        var missing = assertThrows(IllegalArgumentException.class, () -> LlmGeneration.generate(in,
                GenerationColumns.prompt("text"), LocalSpark.fakeSettings(model), "result"));
        assertTrue(missing.getMessage().startsWith("prompt column 'text' is not in the input"));
    }

    @Test
    void anEngineFailureFailsTheTaskInsteadOfMakingErrorRows() {
        Dataset<Row> in = spark.sql("SELECT CAST(id AS STRING) AS id, concat('p', id) AS prompt FROM range(50)");
        GenerationSettings s = LocalSpark.fakeSettings(model).engineOptions(Map.of("fail_after_steps", "3"));
        SparkException e = assertThrows(SparkException.class, () -> LlmGeneration.generate(in,
                GenerationColumns.prompt("prompt").withId("id"), s, "result").collectAsList());
        assertTrue(stackText(e).contains("simulated device fault"), stackText(e));
    }

    @Test
    void aKilledTaskCancelsItsRequestsInTheSharedEngine() throws Exception {
        Dataset<Row> in = spark.sql("SELECT CAST(id AS STRING) AS id, concat('p', id) AS prompt FROM range(400)").repartition(4);
        // 50 ms per step and 200 tokens per row: without cancellation the in-flight rows would run for 10 s more.
        GenerationSettings s = LocalSpark.fakeSettings(model).window(8).sampling(Map.of("max_new_tokens", "200"))
                .engineOptions(Map.of("max_batch", "64", "step_micros", "50000", "tag", "cancel"));
        var job = java.util.concurrent.CompletableFuture.runAsync(() -> {
            spark.sparkContext().setJobGroup("cancel-me", "cancellation test", true);
            LlmGeneration.generate(in, GenerationColumns.prompt("prompt").withId("id"), s, "r").collectAsList();
        });
        var metrics = (java.util.function.Supplier<dev.sparkllm.engine.api.EngineMetrics>) () -> EngineHolder.metrics()
                .stream().filter(m -> m.maxBatchSequences() == 64).findFirst().orElse(null);
        long deadline = System.nanoTime() + 60_000_000_000L;
        while ((metrics.get() == null || metrics.get().runningSequences() < 16) && System.nanoTime() < deadline) Thread.sleep(20);
        assertTrue(metrics.get().runningSequences() >= 16, "four tasks have rows in flight");
        spark.sparkContext().cancelJobGroup("cancel-me");
        assertThrows(java.util.concurrent.CompletionException.class, job::join);
        while (metrics.get().runningSequences() + metrics.get().queuedRequests() > 0 && System.nanoTime() < deadline) Thread.sleep(20);
        assertEquals(0, metrics.get().runningSequences() + metrics.get().queuedRequests(), "killed tasks cancelled their requests");
        assertTrue(metrics.get().decodeTokens() < 400 * 200, "nothing ran to completion after the kill");
    }

    public static String stackText(Throwable t) {
        var w = new java.io.StringWriter();
        t.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }
}
