package dev.sparkllm.job;

import dev.sparkllm.engine.Engines;
import dev.sparkllm.engine.api.GenerationEngine;
import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.sampling.SamplingParams;
import dev.sparkllm.engine.sampling.SamplingSettings;
import dev.sparkllm.engine.tokenizer.TokenizerLoader;
import dev.sparkllm.udf.RowSeeds;
import dev.sparkllm.udf.testing.LocalSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The job end to end with the real engine (CPU backend) and the bundled kjv-tiny model: every row present, and
 * each seeded sampled generation equal to what the engine alone produces for that prompt and seed (batch
 * invariance: Spark's batching, partitioning and concurrency must not change a row's output).
 */
class BundledModelJobTest {

    static final Path MODEL = Paths.get(System.getProperty("sparkllm.repo.dir", ".."),
            "examples/models/kjv-tiny-gptq-4bit-128g-actorder");
    static SparkSession spark;
    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        spark = LocalSpark.builder(2).getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void valuesNoRowCouldUseAreRefusedAsOptionsNamingTheModelsLimit() throws Exception {
        Path input = tmp.resolve("one.jsonl");
        Files.write(input, List.of("{\"id\": 1, \"prompt\": \"In the beginning\"}"));
        Path output = tmp.resolve("refused");
        for (String[] option : List.of(new String[]{"--stop-token-id", "999999"}, new String[]{"--max-new-tokens", "1000000000"})) {
            var e = assertThrows(IllegalArgumentException.class, () -> GenerateJob.run(spark, JobOptions.parse(new String[]{
                    "--model", MODEL.toString(), "--input", input.toString(), "--output", output.toString(), option[0], option[1]})));
            assertTrue(e.getMessage().contains(option[0].equals("--stop-token-id")
                    ? "stop token id 999999 is outside the model's vocabulary 0..1023"
                    : "max_new_tokens 1000000000 does not fit the model's context of 1024 tokens"), e.getMessage());
            assertFalse(Files.exists(output), "refused before anything is written");
        }
    }

    @Test
    void sampledGenerationsMatchTheEngineAloneRowByRow() throws Exception {
        List<String> prompts = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            String p = List.of("In the beginning", "And the LORD said unto Moses", "Blessed is the man")
                    .get(i % 3) + (i >= 3 ? " " + i : "");
            prompts.add(p);
            lines.add("{\"id\": \"v" + i + "\", \"prompt\": \"" + p + "\"}");
        }
        lines.add("{\"id\": \"empty\", \"prompt\": \"\"}");
        Path input = tmp.resolve("verses.jsonl");
        Files.write(input, lines);
        Path output = tmp.resolve("out");
        RunSummary summary = GenerateJob.run(spark, JobOptions.parse(new String[]{"--model", MODEL.toString(),
                "--input", input.toString(), "--output", output.toString(), "--id-column", "id", "--device", "cpu",
                "--max-new-tokens", "6", "--temperature", "0.8", "--top-k", "20", "--seed", "1234",
                "--engine-option", "threads=2", "--engine-option", "max_batch=16", "--engine-option", "kv_cache_mb=64", "--partitions", "5", "--window", "3"}));
        assertEquals(25, summary.getLong("output_rows"));
        assertEquals(1, summary.getLong("rows_failed"));

        Map<String, Row> rows = new HashMap<>();
        for (Row r : spark.read().parquet(output.toString()).collectAsList()) rows.put(r.getAs("id"), r);
        assertEquals("error", rows.get("empty").getAs("finish_reason"));
        try (GenerationEngine engine = Engines.open(MODEL, "cpu", Map.of("threads", "2", "max_batch", "16", "kv_cache_mb", "64"))) {
            var tok = TokenizerLoader.load(MODEL);
            for (int i = 0; i < prompts.size(); i++) {
                String id = "v" + i;
                SamplingParams p = SamplingSettings.fromMap(Map.of("max_new_tokens", 6, "temperature", 0.8, "top_k", 20))
                        .resolve(dev.sparkllm.engine.checkpoint.ModelDirectory.open(MODEL).generationConfig())
                        .withSeed(RowSeeds.derive(1234, id));
                GenerationResult alone = engine.generate(List.of(new GenerationRequest(id, tok.encode(prompts.get(i), true), p))).get(0);
                Row r = rows.get(id);
                assertEquals(alone.text(), r.getAs("generation"), "row " + id);
                assertEquals(alone.finishReason().wireName(), r.getAs("finish_reason"), "row " + id);
                assertEquals(alone.tokenIds().length, ((Number) r.getAs("completion_tokens")).intValue());
            }
        }
    }
}
