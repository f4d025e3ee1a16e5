package dev.sparkllm.job.bench;

import dev.sparkllm.engine.api.EngineMetrics;
import dev.sparkllm.engine.api.GenerationEngine;
import dev.sparkllm.engine.api.RequestHandle;
import dev.sparkllm.udf.EngineHolder;
import dev.sparkllm.udf.GenerationColumns;
import dev.sparkllm.udf.GenerationSettings;
import dev.sparkllm.udf.LlmGeneration;
import dev.sparkllm.udf.RowInput;
import dev.sparkllm.udf.RowRequestFactory;
import dev.sparkllm.udf.SparkLlmKryoRegistrator;
import dev.sparkllm.udf.SparkLlmPlugin;
import dev.sparkllm.udf.sql.SparkLlmExtensions;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Spark's overhead on generation throughput: the same engine (same device, options and thread budget) driven
 * (1) directly from one thread keeping every slot of the batch busy, (2) through the Dataset path
 * ({@link LlmGeneration} over local[tasks]), (3) through SQL {@code llm_generate}. Reports completion tokens/s
 * of each, their ratios, and the engine's mean batch occupancy in each phase. Each phase runs a warm-up pass
 * first and measures a second pass (steady state).
 *
 * <pre>
 * java $OPENS -cp "$(cat job/target/classpath.txt):job/target/test-classes:udf/target/test-classes" \
 *   dev.sparkllm.job.bench.SparkOverheadBenchmark --model examples/models/kjv-tiny-gptq-4bit-128g-actorder \
 *   --device simulated --rows 2048 --tasks 4 --max-new-tokens 64 --engine-option max_batch=64
 * </pre>
 * {@code --binding dev.sparkllm.udf.testing.FakeBinding --engine-option step_micros=...} runs it on the fake
 * engine instead.
 */
public final class SparkOverheadBenchmark {

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>(Map.of("rows", "2048", "tasks", "4", "max-new-tokens", "64",
                "device", "simulated", "window", "0"));
        Map<String, String> engine = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            String k = args[i].replaceFirst("^--", "");
            if (k.equals("engine-option")) {
                String[] kv = args[i + 1].split("=", 2);
                engine.put(kv[0], kv[1]);
            } else {
                a.put(k, args[i + 1]);
            }
        }
        int rows = Integer.parseInt(a.get("rows"));
        int tasks = Integer.parseInt(a.get("tasks"));
        int maxBatch = Integer.parseInt(engine.getOrDefault("max_batch", "64"));
        int window = Integer.parseInt(a.get("window"));
        if (window == 0) window = Math.max(1, (maxBatch + tasks - 1) / tasks * 2); // tasks together fill the batch twice over
        Path model = Paths.get(a.getOrDefault("model", "examples/models/kjv-tiny-gptq-4bit-128g-actorder")).toAbsolutePath();
        GenerationSettings settings = new GenerationSettings(model.toString()).device(a.get("device"))
                .engineOptions(engine).window(window).jobSeed(1L)
                .sampling(Map.of("max_new_tokens", a.get("max-new-tokens"), "min_new_tokens", a.get("max-new-tokens")));
        if (a.containsKey("binding")) settings.bindingClass(a.get("binding"));

        SparkSession spark = SparkSession.builder().master("local[" + tasks + "]").appName("sparkllm-overhead")
                .config("spark.ui.enabled", "false")
                .config("spark.plugins", SparkLlmPlugin.class.getName())
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", SparkLlmKryoRegistrator.class.getName())
                .config("spark.sql.extensions", SparkLlmExtensions.class.getName())
                .config("spark.sparkllm.model", model.toString())
                .config("spark.sparkllm.device", a.get("device"))
                .config("spark.sparkllm.window", String.valueOf(window))
                .config("spark.sparkllm.seed", "1")
                .config("spark.sparkllm.sampling.max_new_tokens", a.get("max-new-tokens"))
                .config("spark.sparkllm.sampling.min_new_tokens", a.get("max-new-tokens"))
                .getOrCreate();
        for (var e : engine.entrySet()) spark.conf().set("spark.sparkllm.engine." + e.getKey(), e.getValue());
        if (a.containsKey("binding")) spark.conf().set("spark.sparkllm.binding", a.get("binding"));
        settings.modelFingerprint(settings.binding().checkOnDriver(model, settings));

        Dataset<Row> prompts = spark.sql("SELECT CAST(id AS STRING) AS id, concat('And it came to pass in the "
                + "days of ', CAST(id AS STRING), ' that') AS prompt FROM range(" + rows + ")").repartition(tasks * 4).cache();
        prompts.count();
        EngineHolder.Entry shared = EngineHolder.get(settings); // the engine every phase uses

        Phase direct = null, dataset = null, sql = null;
        for (int pass = 0; pass < 2; pass++) {
            direct = measure(shared.engine(), () -> engineOnly(shared, settings, rows, maxBatch * 2));
            dataset = measure(shared.engine(), () -> LlmGeneration.generate(prompts,
                    GenerationColumns.prompt("prompt").withId("id"), settings, "r").write().format("noop").mode("overwrite").save());
            prompts.createOrReplaceTempView("prompts");
            sql = measure(shared.engine(), () -> spark.sql("SELECT id, llm_generate(prompt) AS r FROM prompts")
                    .write().format("noop").mode("overwrite").save());
        }
        System.out.printf("rows %d, tasks %d, window %d, max_batch %d, max_new_tokens %s, device %s%n", rows, tasks,
                window, maxBatch, a.get("max-new-tokens"), a.get("device"));
        System.out.println("engine only : " + direct);
        System.out.println("Dataset path: " + dataset);
        System.out.println("SQL path    : " + sql);
        System.out.printf("Dataset / engine-only tokens/s = %.3f%n", dataset.tokensPerSecond() / direct.tokensPerSecond());
        System.out.printf("SQL / Dataset tokens/s        = %.3f%n", sql.tokensPerSecond() / dataset.tokensPerSecond());
        spark.stop();
    }

    /** One phase's decode tokens, wall time and batch occupancy, from the engine's own counters. */
    record Phase(long tokens, double seconds, double occupancy) {
        double tokensPerSecond() {
            return tokens / seconds;
        }

        @Override
        public String toString() {
            return String.format("%d tokens in %.2f s = %.0f tok/s, mean batch occupancy %.3f", tokens, seconds,
                    tokensPerSecond(), occupancy);
        }
    }

    interface Work {
        void run() throws Exception;
    }

    static Phase measure(GenerationEngine engine, Work work) throws Exception {
        EngineMetrics before = engine.metrics();
        long t0 = System.nanoTime();
        work.run();
        double secs = (System.nanoTime() - t0) / 1e9;
        EngineMetrics after = engine.metrics();
        long steps = after.steps() - before.steps();
        double occ = steps == 0 ? 0 : (after.batchOccupancySum() - before.batchOccupancySum()) / steps;
        return new Phase(after.decodeTokens() - before.decodeTokens(), secs, occ);
    }

    /** The engine alone: requests rendered by the same binding, {@code inFlight} kept submitted at all times. */
    static void engineOnly(EngineHolder.Entry e, GenerationSettings s, int rows, int inFlight) throws Exception {
        RowRequestFactory requests = e.requests(s);
        Deque<RequestHandle> pending = new ArrayDeque<>();
        for (int i = 0; i < rows; i++) {
            String id = String.valueOf(i);
            var prepared = requests.prepare(new RowInput(id, "And it came to pass in the days of " + id + " that", null, Map.of()));
            pending.add(e.engine().submit(prepared.request(), null));
            while (pending.size() >= inFlight) pending.poll().await();
        }
        while (!pending.isEmpty()) pending.poll().await();
    }
}
