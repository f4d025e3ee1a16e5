package dev.sparkllm.udf.sql;

import dev.sparkllm.engine.api.EngineMetrics;
import dev.sparkllm.udf.EngineHolder;
import dev.sparkllm.udf.LlmGenerationTest;
import dev.sparkllm.udf.testing.FakeBinding;
import dev.sparkllm.udf.testing.LocalSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LlmGenerateSqlTest {

    static SparkSession spark;
    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() throws Exception {
        Path model = LocalSpark.fakeModel(tmp);
        spark = LocalSpark.builder(4)
                .config("spark.sql.extensions", SparkLlmExtensions.class.getName())
                .config("spark.sparkllm.model", model.toString())
                .config("spark.sparkllm.binding", FakeBinding.class.getName())
                .config("spark.sparkllm.device", "cpu")
                .config("spark.sparkllm.window", "8")
                .getOrCreate();
        spark.sql("SELECT CAST(id AS STRING) AS id, concat('blessed are ', id) AS prompt FROM range(200)")
                .repartition(4).createOrReplaceTempView("prompts");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void llmGenerateInSqlGivesTheSameGenerationsAsTheEngineWouldAlone() {
        spark.conf().set("spark.sparkllm.engine.max_batch", "16");
        List<Row> rows = spark.sql("SELECT id, prompt, llm_generate(prompt) AS r FROM prompts").collectAsList();
        assertEquals(200, rows.size());
        for (Row row : rows) {
            Row r = row.getStruct(2);
            assertEquals(LlmGenerationTest.expected(row.getString(1), 0, 8), r.getString(0), "row " + row.getString(0));
            assertNull(r.get(5));
        }
    }

    @Test
    void rowsAreBatchedNotGeneratedOneAtATime() {
        spark.conf().set("spark.sparkllm.engine.max_batch", "32");
        spark.conf().set("spark.sparkllm.engine.step_micros", "2000"); // a separate engine for this test
        spark.sql("SELECT llm_generate(prompt).generation AS g FROM prompts").collectAsList();
        EngineMetrics m = EngineHolder.metrics().stream().filter(x -> x.maxBatchSequences() == 32).findFirst().orElseThrow();
        double meanSequencesPerStep = m.meanBatchOccupancy() * m.maxBatchSequences();
        assertTrue(meanSequencesPerStep > 8, "4 tasks x window 8 should fill ~32 slots; got " + meanSequencesPerStep);
        spark.conf().unset("spark.sparkllm.engine.step_micros");
    }

    @Test
    void theOptionsMapOverridesSamplingPerRowAndProjectionsAboveStillResolve() {
        spark.conf().set("spark.sparkllm.engine.max_batch", "16");
        List<Row> rows = spark.sql("SELECT id, upper(r.generation) AS g, r.completion_tokens AS n, r.error AS e FROM ("
                + "SELECT id, llm_generate(prompt, map('max_new_tokens', CAST(1 + CAST(id AS INT) % 3 AS STRING))) AS r "
                + "FROM prompts) WHERE id < '5' ORDER BY id").collectAsList();
        assertFalse(rows.isEmpty());
        for (Row row : rows) {
            int limit = 1 + Integer.parseInt(row.getString(0)) % 3;
            assertNull(row.get(3));
            assertTrue(row.getInt(2) <= limit, "row " + row.getString(0) + " has " + row.getInt(2) + " tokens, limit " + limit);
        }
        Row bad = spark.sql("SELECT llm_generate('x', map('max_new_tokens', '0')) AS r").first().getStruct(0);
        assertEquals("max_new_tokens 0 is out of range 1..256", bad.getString(5));
    }

    @Test
    void thePlanIsABatchedMapPartitionsOperator() {
        String plan = spark.sql("SELECT llm_generate(prompt) AS r FROM prompts").queryExecution().executedPlan().toString();
        assertTrue(plan.contains("MapPartitions"), plan);
    }

    @Test
    void usesOutsideASelectListAreRejected() {
        var e = assertThrows(Exception.class, () ->
                spark.sql("SELECT id FROM prompts WHERE llm_generate(prompt).generation = 'x'").collectAsList());
        assertTrue(LlmGenerationTest.stackText(e).contains("use it directly in a SELECT list"), LlmGenerationTest.stackText(e));
    }
}
