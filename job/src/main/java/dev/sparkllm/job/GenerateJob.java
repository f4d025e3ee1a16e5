package dev.sparkllm.job;

import dev.sparkllm.udf.GenerationColumns;
import dev.sparkllm.udf.GenerationSettings;
import dev.sparkllm.udf.LlmGeneration;
import dev.sparkllm.udf.SparkLlmKryoRegistrator;
import dev.sparkllm.udf.SparkLlmPlugin;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.apache.spark.sql.functions.col;

/**
 * The batch job: {@code spark-submit --class dev.sparkllm.job.GenerateJob app.jar --model M --input I --output O}.
 * Without a configured master it runs embedded in {@code local[*]}. Input problems stop it on the driver before
 * generation starts (exit code 2); the output is committed chunk by chunk, and rerunning the same command
 * generates only what is not committed yet.
 */
public final class GenerateJob {

    private static final Logger LOG = LoggerFactory.getLogger(GenerateJob.class);
    /** Chunk jobs run at once: while one chunk's last tasks finish, the next one's fill the free slots. */
    static final int CONCURRENT_CHUNKS = 2;
    /** Spark conf naming the generation binding class (tests plug in fakes). */
    public static final String BINDING_CONF = "spark.sparkllm.binding";

    private GenerateJob() {
    }

    public static void main(String[] args) {
        JobOptions options;
        try {
            options = JobOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("sparkllm: " + e.getMessage());
            System.exit(2);
            return;
        }
        SparkSession spark = session(options);
        int code = 0;
        try {
            RunSummary summary = run(spark, options);
            System.out.println(summary.toText());
            if (options.show > 0) showFirstRows(spark, options);
        } catch (IllegalArgumentException e) {
            System.err.println("sparkllm: " + e.getMessage());
            code = 2;
        } catch (Exception e) {
            LOG.error("sparkllm job failed", e);
            System.err.println("sparkllm: job failed: " + e);
            code = 1;
        } finally {
            spark.stop();
        }
        System.exit(code);
    }

    /** Prints the first rows of the output table (by id), the columns a reader looks at first. */
    static void showFirstRows(SparkSession spark, JobOptions o) {
        Dataset<Row> table = spark.read().format(o.outputFormat).load(o.output);
        String id = o.idColumn != null ? o.idColumn : InputTable.DERIVED_ID;
        List<String> wanted = List.of(id, "generation", "finish_reason", "prompt_tokens", "completion_tokens", "error");
        Column[] shown = wanted.stream().filter(c -> Arrays.asList(table.columns()).contains(c)).map(functions::col)
                .toArray(Column[]::new);
        System.out.println("first rows of " + o.output + ":");
        table.select(shown).orderBy(id).show(o.show, 60);
    }

    /** The session with what the job needs (plugin, Kryo with our registrator, no speculation). */
    static SparkSession session(JobOptions o) {
        SparkConf conf = new SparkConf(); // spark-submit's settings arrive as system properties
        SparkSession.Builder b = SparkSession.builder().appName("sparkllm generate");
        if (o.master != null) b.master(o.master);
        else if (!conf.contains("spark.master")) b.master("local[*]");
        b.config("spark.plugins", appendList(conf.get("spark.plugins", ""), SparkLlmPlugin.class.getName()));
        if (!conf.contains("spark.serializer")) b.config("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
        b.config("spark.kryo.registrator", appendList(conf.get("spark.kryo.registrator", ""), SparkLlmKryoRegistrator.class.getName()));
        b.config("spark.speculation", "false"); // a speculative copy would generate the same rows twice
        return b.getOrCreate();
    }

    private static String appendList(String list, String item) {
        Set<String> items = new LinkedHashSet<>();
        for (String s : list.split(",")) if (!s.isBlank()) items.add(s.trim());
        items.add(item);
        return String.join(",", items);
    }

    /** Runs (or resumes) the job; returns its summary, also written next to the output. */
    public static RunSummary run(SparkSession spark, JobOptions o) throws IOException, InterruptedException {
        long start = System.currentTimeMillis();
        var hadoop = spark.sparkContext().hadoopConfiguration();
        String idColumn = o.idColumn != null ? o.idColumn : InputTable.DERIVED_ID;
        GenerationSettings settings = settings(spark, o);
        for (String p : o.rowParams.keySet()) {
            if (!JobOptions.SAMPLING.containsValue(p) && !p.equals("seed")) {
                throw new IllegalArgumentException("--row-param " + p + " is not a sampling option; use one of "
                        + String.join(", ", JobOptions.SAMPLING.values()) + ", seed");
            }
        }
        String fingerprint = settings.binding().checkOnDriver(DriverModel.forChecks(o.model, hadoop), settings);
        settings.modelFingerprint(fingerprint);
        Map<String, Object> identity = RunManifest.identity(o, fingerprint, settings.resultDefiningParameters());

        ChunkedOutput out = new ChunkedOutput(o.output, hadoop);
        RunManifest manifest = resumeOrStage(spark, o, out, identity, idColumn);
        Dataset<Row> staged = spark.read().parquet(out.stagedInput().toString());

        Map<Integer, Long> rowsPerChunk = new HashMap<>();
        for (Row r : staged.groupBy(ChunkedOutput.CHUNK_COLUMN).count().collectAsList()) {
            rowsPerChunk.put(r.getInt(0), r.getLong(1));
        }
        List<Integer> pending = new ArrayList<>();
        for (int k = 0; k < manifest.chunks(); k++) if (!out.committed(k) && rowsPerChunk.containsKey(k)) pending.add(k);
        Map<Integer, Long> retry = o.retryErrors ? errorRowsPerChunk(spark, o, out, manifest, pending) : Map.of();
        long toGenerate = pending.stream().mapToLong(rowsPerChunk::get).sum()
                + retry.values().stream().mapToLong(Long::longValue).sum();
        LOG.info("sparkllm: {} rows in {} chunks; {} chunks to generate ({} rows), {} to retry for errors",
                manifest.rows(), manifest.chunks(), pending.size(), toGenerate, retry.size());

        TaskTimings timings = new TaskTimings();
        spark.sparkContext().addSparkListener(timings);
        GenerationColumns cols = InputTable.columns(o, idColumn);
        List<String> inputCols = InputTable.outputInputColumns(o, idColumn);
        ExecutorService pool = Executors.newFixedThreadPool(CONCURRENT_CHUNKS);
        double occupancy;
        try (ProgressReporter progress = new ProgressReporter(toGenerate, o.progressSeconds)) {
            List<Future<?>> jobs = new ArrayList<>();
            for (int k : pending) {
                jobs.add(pool.submit(() -> {
                    runChunk(spark, o, out, manifest, staged, cols, inputCols, settings, k, null);
                    return null;
                }));
            }
            for (int k : retry.keySet()) {
                jobs.add(pool.submit(() -> {
                    runChunk(spark, o, out, manifest, staged, cols, inputCols, settings, k, idColumn);
                    return null;
                }));
            }
            for (Future<?> f : jobs) f.get();
            progress.report();
            occupancy = progress.occupancy();
        } catch (ExecutionException e) {
            pool.shutdownNow();
            spark.sparkContext().cancelAllJobs();
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IOException("generation failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdown();
            spark.sparkContext().removeSparkListener(timings);
        }
        List<Integer> processed = new ArrayList<>(pending);
        processed.addAll(retry.keySet());
        RunSummary summary = RunSummary.collect(spark, o, out, manifest, toGenerate, processed, timings.tasks(),
                occupancy, System.currentTimeMillis() - start);
        summary.write(out);
        return summary;
    }

    static GenerationSettings settings(SparkSession spark, JobOptions o) {
        GenerationSettings s = new GenerationSettings(o.model)
                .device(o.device)
                .engineOptions(o.engineOptions)
                .template(o.template)
                .systemPrompt(o.systemPrompt)
                .preset(o.preset)
                .failTooLongPrompts(o.failTooLong)
                .allowSpecialTokensInContent(o.allowSpecialTokens)
                .sampling(o.sampling)
                .jobSeed(o.seed)
                .logprobs(o.logprobs)
                .includeTokenIds(o.includeTokenIds)
                .window(o.window != null ? o.window : defaultWindow(spark, o));
        String binding = spark.conf().get(BINDING_CONF, null);
        if (binding != null) s.bindingClass(binding);
        return s;
    }

    /**
     * Requests per task so that the tasks sharing one engine keep its batch full with a spare batch queued:
     * 2 x max_batch / (concurrent tasks per executor). Tasks per executor: 1 / spark.task.resource.gpu.amount
     * with GPU scheduling, else executor cores / task cpus (the local[N] thread count in local mode).
     */
    static int defaultWindow(SparkSession spark, JobOptions o) {
        var conf = spark.sparkContext().getConf();
        int maxBatch = Integer.parseInt(o.engineOptions.getOrDefault("max_batch", "256").trim());
        double gpuPerTask = conf.getDouble("spark.task.resource.gpu.amount", 0);
        int tasks;
        if (gpuPerTask > 0) {
            tasks = (int) Math.max(1, Math.round(1 / gpuPerTask));
        } else if (spark.sparkContext().isLocal()) {
            tasks = spark.sparkContext().defaultParallelism();
        } else {
            tasks = Math.max(1, conf.getInt("spark.executor.cores", 1) / conf.getInt("spark.task.cpus", 1));
        }
        return Math.max(4, (2 * maxBatch + tasks - 1) / tasks);
    }

    /**
     * Reuses an earlier run's staged input when its manifest matches this run, refuses a mismatch unless
     * --force, and otherwise reads, checks and stages the input (ids fixed, hashed into chunks).
     */
    private static RunManifest resumeOrStage(SparkSession spark, JobOptions o, ChunkedOutput out,
                                             Map<String, Object> identity, String idColumn) throws IOException {
        if (out.fs.exists(out.manifest()) && out.stagedInputCommitted()) {
            RunManifest m = RunManifest.read(out.fs, out.manifest());
            List<String> diffs = RunManifest.differences(m.identity(), identity);
            if (diffs.isEmpty()) {
                LOG.info("sparkllm: resuming {} ({} rows, {} chunks)", o.output, m.rows(), m.chunks());
                return m;
            }
            if (!o.force) {
                throw new IllegalArgumentException("output " + o.output + " was made with other settings:\n  "
                        + String.join("\n  ", diffs) + "\nuse a new --output, or --force to discard it and start over");
            }
            LOG.warn("sparkllm: --force: discarding {} made with other settings: {}", o.output, diffs);
            out.deleteAll();
        } else if (out.hasForeignFiles()) {
            if (!o.force) {
                throw new IllegalArgumentException("output " + o.output + " exists and is not a sparkllm output; "
                        + "choose another --output, or --force to delete it");
            }
            out.deleteAll();
        } else if (out.fs.exists(out.root)) {
            out.deleteAll(); // an earlier run died before its input was staged: nothing was committed
        }
        Dataset<Row> input = InputTable.load(spark, o, idColumn);
        long rows = input.count();
        if (rows == 0) throw new IllegalArgumentException("input " + o.input + " has no rows");
        ChunkPlan plan = ChunkPlan.of(rows, spark.sparkContext().defaultParallelism(), o.partitions,
                o.rowsPerPartition, o.chunks);
        input.withColumn(ChunkedOutput.CHUNK_COLUMN,
                        functions.pmod(functions.xxhash64(col(idColumn)), functions.lit(plan.chunks())).cast("int"))
                .write().mode(SaveMode.Overwrite).partitionBy(ChunkedOutput.CHUNK_COLUMN)
                .parquet(out.stagedInput().toString());
        RunManifest m = new RunManifest(identity, rows, plan.chunks(), plan.partitions());
        m.write(out.fs, out.manifest());
        LOG.info("sparkllm: staged {} rows into {} chunks, {} partitions", rows, plan.chunks(), plan.partitions());
        return m;
    }

    /** Committed chunks (not pending) holding error rows, with how many. */
    private static Map<Integer, Long> errorRowsPerChunk(SparkSession spark, JobOptions o, ChunkedOutput out,
                                                        RunManifest m, List<Integer> pending) throws IOException {
        Map<Integer, Long> errors = new TreeMap<>();
        boolean anyCommitted = false;
        for (int k = 0; k < m.chunks(); k++) anyCommitted |= out.committed(k);
        if (!anyCommitted) return errors;
        Dataset<Row> table = spark.read().format(o.outputFormat).load(out.root.toString());
        for (Row r : table.where(col("finish_reason").equalTo("error")).groupBy("chunk").count().collectAsList()) {
            int k = r.getInt(0);
            if (!pending.contains(k) && out.committed(k)) errors.put(k, r.getLong(1));
        }
        return errors;
    }

    /**
     * Generates one chunk and commits it as one Spark write job (its _SUCCESS marks it committed). With
     * {@code retryIdColumn}, regenerates only the chunk's error rows and swaps the rewritten chunk in.
     */
    private static void runChunk(SparkSession spark, JobOptions o, ChunkedOutput out, RunManifest m,
                                 Dataset<Row> staged, GenerationColumns cols, List<String> inputCols,
                                 GenerationSettings settings, int k, String retryIdColumn) throws IOException {
        spark.sparkContext().setJobGroup(TaskTimings.GROUP_PREFIX + k, "sparkllm chunk " + k, true);
        Dataset<Row> rows = staged.where(col(ChunkedOutput.CHUNK_COLUMN).equalTo(k)).drop(ChunkedOutput.CHUNK_COLUMN);
        Dataset<Row> committed = null;
        if (retryIdColumn != null) {
            committed = spark.read().format(o.outputFormat).load(out.chunk(k).toString());
            Dataset<Row> errorIds = committed.where(col("finish_reason").equalTo("error")).select(retryIdColumn);
            rows = rows.join(errorIds, rows.col(retryIdColumn).equalTo(errorIds.col(retryIdColumn)), "left_semi");
        }
        Dataset<Row> generated = flatten(LlmGeneration.generate(
                rows.repartition(new ChunkPlan(m.partitions(), m.chunks()).partitionsPerChunk(), col(cols.idColumn())), cols, settings, "__result"),
                inputCols, settings.modelFingerprint());
        if (committed == null) {
            generated.write().mode(SaveMode.Overwrite).format(o.outputFormat).save(out.chunk(k).toString());
        } else {
            Dataset<Row> kept = spark.read().schema(generated.schema()).format(o.outputFormat)
                    .load(out.chunk(k).toString()).where(col("finish_reason").notEqual("error"));
            kept.unionByName(generated).write().mode(SaveMode.Overwrite).format(o.outputFormat)
                    .save(out.retry(k).toString());
            out.replaceChunk(k);
        }
        LOG.info("sparkllm: committed chunk {}", k);
    }

    /** The output row: input columns, the result fields, the model fingerprint. */
    static Dataset<Row> flatten(Dataset<Row> generated, List<String> inputCols, String fingerprint) {
        List<Column> c = new ArrayList<>();
        for (String n : inputCols) c.add(col(n));
        c.add(col("__result.*"));
        c.add(functions.lit(fingerprint).as("model"));
        return generated.select(c.toArray(Column[]::new));
    }
}
