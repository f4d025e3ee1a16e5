package dev.sparkllm.job;

import dev.sparkllm.udf.GenerationColumns;
import dev.sparkllm.udf.GenerationOutput;
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
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
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
        RunStatus.installInterruptHandler();
        int code = 0;
        try {
            RunSummary summary = run(spark, options);
            System.out.println(summary.toText());
            if (options.show > 0) showFirstRows(spark, options);
            if (!summary.complete()) code = 1;
        } catch (IllegalArgumentException e) {
            System.err.println("sparkllm: " + e.getMessage());
            code = 2;
        } catch (Exception e) {
            if (RunStatus.interrupted()) RunStatus.awaitExit(); // the interrupt handler said what there is to say
            LOG.error("sparkllm job failed", e);
            System.err.println("sparkllm: job failed: " + e);
            code = 1;
        } finally {
            RunStatus.finished();
            if (!RunStatus.interrupted()) spark.stop();
        }
        if (RunStatus.interrupted()) RunStatus.awaitExit();
        System.exit(code);
    }

    /** Prints the first rows of the output table (by id), the columns a reader looks at first. */
    static void showFirstRows(SparkSession spark, JobOptions o) {
        Dataset<Row> table = spark.read().format(o.outputFormat).load(o.output);
        String id = o.idColumn != null ? o.idColumn : InputTable.DERIVED_ID;
        List<String> wanted = List.of(id, "generation", "finish_reason", "prompt_tokens", "completion_tokens", "error");
        Column[] shown = wanted.stream().filter(c -> Arrays.asList(table.columns()).contains(c)).map(Columns::col)
                .toArray(Column[]::new);
        System.out.println("first rows of " + o.output + ":");
        table.select(shown).orderBy(Columns.col(id)).show(o.show, 60);
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

    /**
     * Runs (or resumes) the job; returns its summary, also written next to the output. A rerun is keyed by ids:
     * it generates every input id without a committed output row, keeps committed rows whose ids are still in the
     * input, and reports (or with --drop-extra-ids deletes) rows whose ids are no longer in it.
     */
    public static RunSummary run(SparkSession spark, JobOptions o) throws IOException, InterruptedException {
        long start = System.currentTimeMillis();
        var hadoop = spark.sparkContext().hadoopConfiguration();
        GenerationSettings settings = settings(spark, o);
        for (String p : o.rowParams.keySet()) {
            if (!JobOptions.SAMPLING.containsValue(p) && !p.equals("seed")) {
                throw new IllegalArgumentException("--row-param " + p + " is not a sampling option; use one of "
                        + String.join(", ", JobOptions.SAMPLING.values()) + ", seed");
            }
        }
        java.nio.file.Path localModel = DriverModel.forChecks(o.model, hadoop);
        String fingerprint = settings.binding().checkOnDriver(localModel, settings);
        settings.modelFingerprint(fingerprint);
        Map<String, Object> runFingerprint = RunFingerprint.of(localModel, settings, fingerprint);
        EngineWarmup warmup = EngineWarmup.start(spark, settings);
        try {
            return generateAll(spark, o, settings, runFingerprint, start);
        } finally {
            warmup.close();
        }
    }

    /** Everything after the driver's checks of the model and options: input, chunks, generation, summary. */
    private static RunSummary generateAll(SparkSession spark, JobOptions o, GenerationSettings settings,
                                          Map<String, Object> runFingerprint, long start)
            throws IOException, InterruptedException {
        var hadoop = spark.sparkContext().hadoopConfiguration();
        ChunkedOutput out = new ChunkedOutput(o.output, hadoop);
        checkApart(out, o, hadoop);
        RunManifest previous = out.inspect();
        InputTable.Table input = InputTable.load(spark, o, resultColumns(settings));
        String idColumn = input.idColumn();
        Map<String, Object> identity = RunManifest.identity(o, runFingerprint, input.outputColumnTypes(o));
        boolean existed = out.fs.exists(out.root);
        RunManifest manifest = resume(o, out, previous, identity);
        Dataset<Row> staged;
        long inputRows;
        try {
            manifest = planChunks(spark, o, out, input, manifest);
            staged = stage(spark, out, input, manifest.chunks());
            inputRows = staged.count();
            if (inputRows == 0) throw new IllegalArgumentException("input " + o.input + " has no rows; nothing to generate");
            InputTable.checkIds(staged, idColumn, o, out.fs, input.format());
        } catch (IllegalArgumentException e) {
            // The input is refused before anything was generated: a new output is left as it was found.
            if (previous == null || !RunManifest.differences(previous.identity(), identity).isEmpty()) {
                out.deleteOwned(manifest);
                if (!existed && out.fs.exists(out.root) && out.fs.listStatus(out.root).length == 0) out.fs.delete(out.root, false);
            }
            throw e;
        }
        ChunkPlan plan = ChunkPlan.of(inputRows, spark.sparkContext().defaultParallelism(), o.partitions,
                o.rowsPerPartition, manifest.chunks());
        manifest = manifest.withLayout(inputRows, manifest.chunks(), plan.partitions());
        manifest.write(out.fs, out.manifest());

        List<String> inputCols = InputTable.outputInputColumns(o, idColumn);
        StructType outSchema = outputSchema(staged.schema(), inputCols, settings);
        Map<Integer, OutputRows.ChunkIds> ids = OutputRows.perChunk(staged,
                OutputRows.committed(spark, out, o.outputFormat, outSchema, manifest.chunks()), idColumn);
        List<ChunkTask> work = new ArrayList<>();
        for (int k = 0; k < manifest.chunks(); k++) {
            boolean committed = out.committed(k);
            ChunkTask t = ChunkTask.of(k, committed, ids.getOrDefault(k, OutputRows.ChunkIds.NONE), o);
            if (t != null) work.add(t);
            else if (!committed) out.deleteChunk(k); // a leftover of an interrupted write whose ids left the input
        }
        long toGenerate = work.stream().mapToLong(ChunkTask::generate).sum();
        long toDrop = work.stream().mapToLong(ChunkTask::drop).sum();
        LOG.info("sparkllm: {} input rows in {} chunks; {} rows to generate in {} chunks, {} extra rows to delete",
                inputRows, manifest.chunks(), toGenerate, work.size(), toDrop);
        Map<Integer, Long> uncommitted = new HashMap<>();
        for (ChunkTask t : work) if (!t.committed()) uncommitted.put(t.chunk(), t.generate());
        RunStatus.started(out, o.output, inputRows, toGenerate, uncommitted);

        TaskTimings timings = new TaskTimings();
        spark.sparkContext().addSparkListener(timings);
        GenerationColumns cols = InputTable.columns(o, idColumn);
        ChunkContext ctx = new ChunkContext(spark, o, out, staged, cols, inputCols, outSchema, settings,
                new ChunkPlan(plan.partitions(), manifest.chunks()).partitionsPerChunk());
        ExecutorService pool = Executors.newFixedThreadPool(CONCURRENT_CHUNKS);
        double occupancy;
        long tokens;
        long generateStart = System.currentTimeMillis(), generateMillis;
        try (ProgressReporter progress = new ProgressReporter(toGenerate, o.progressSeconds)) {
            List<Future<?>> jobs = new ArrayList<>();
            for (ChunkTask t : work) {
                jobs.add(pool.submit(() -> {
                    runChunk(ctx, t);
                    RunStatus.chunkDone(t.chunk(), t.generate());
                    return null;
                }));
            }
            for (Future<?> f : jobs) f.get();
            generateMillis = System.currentTimeMillis() - generateStart;
            if (toGenerate > 0) progress.finish();
            occupancy = progress.occupancy();
            tokens = progress.completionTokens();
        } catch (ExecutionException e) {
            pool.shutdownNow();
            spark.sparkContext().cancelAllJobs();
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IOException("generation failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdown();
            spark.sparkContext().removeSparkListener(timings);
        }
        OutputRows.Totals totals = OutputRows.totals(staged,
                OutputRows.committed(spark, out, o.outputFormat, outSchema, manifest.chunks()), idColumn,
                o.promptColumn != null ? o.promptColumn : o.messagesColumn);
        RunSummary summary = RunSummary.of(o, manifest, inputRows, totals, new RunSummary.RunFacts(toGenerate, toDrop,
                tokens, occupancy, timings.tasks(), work.size(), System.currentTimeMillis() - start, generateMillis));
        summary.write(out);
        return summary;
    }

    /** The result columns of the output table (the input's copied columns must not take these names). */
    static List<String> resultColumns(GenerationSettings settings) {
        List<String> names = new ArrayList<>(Arrays.asList(GenerationOutput.schema(settings).fieldNames()));
        names.add("model");
        names.add(OutputRows.CHUNK);
        return names;
    }

    /** The output table's schema (without the chunk column): copied input columns, the result fields, model. */
    static StructType outputSchema(StructType staged, List<String> inputCols, GenerationSettings settings) {
        StructType s = new StructType();
        for (String c : inputCols) s = s.add(staged.apply(c));
        for (var f : GenerationOutput.schema(settings).fields()) s = s.add(f);
        return s.add("model", DataTypes.StringType);
    }

    /** Input and output must not contain each other: the job would read its own output, or write among its input. */
    private static void checkApart(ChunkedOutput out, JobOptions o, org.apache.hadoop.conf.Configuration hadoop)
            throws IOException {
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(o.input);
        String a = in.getFileSystem(hadoop).makeQualified(in).toString();
        String b = out.fs.makeQualified(out.root).toString();
        if (a.equals(b) || a.startsWith(b + "/") || b.startsWith(a + "/")) {
            throw new IllegalArgumentException("--input " + o.input + " and --output " + o.output + " overlap; the output "
                    + "must be a directory outside the input, and the input outside the output");
        }
    }

    /**
     * The run record to continue: the earlier run's when its identity matches this run, else (with --force) a new
     * one after deleting what the earlier run's record proves it wrote. A new record is written before anything
     * else, so every file this run writes is accounted for.
     */
    private static RunManifest resume(JobOptions o, ChunkedOutput out, RunManifest previous, Map<String, Object> identity)
            throws IOException {
        if (previous != null) {
            List<String> diffs = RunManifest.differences(previous.identity(), identity);
            if (diffs.isEmpty()) {
                LOG.info("sparkllm: resuming {} ({} chunks)", o.output, previous.chunks());
                return previous;
            }
            if (!o.force) {
                throw new IllegalArgumentException("output " + o.output + " was made with other settings:\n  "
                        + String.join("\n  ", diffs) + "\nuse a new --output, or --force to delete that earlier run's "
                        + "output (only what its run record lists) and start over");
            }
            LOG.warn("sparkllm: --force: deleting the earlier run's output in {} (made with other settings: {})",
                    o.output, diffs);
            out.deleteOwned(previous);
        }
        RunManifest m = new RunManifest(identity, 0, 0, 0);
        try {
            m.write(out.fs, out.manifest());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot write to --output " + o.output + ": " + e.getMessage()
                    + "; give a directory that can be created and written", e);
        }
        return m;
    }

    /**
     * The run record with a chunk count: the record's own (so an id stays in its chunk across reruns), or planned
     * from the row count on the first run, and written down before any chunk is.
     */
    private static RunManifest planChunks(SparkSession spark, JobOptions o, ChunkedOutput out, InputTable.Table input,
                                          RunManifest manifest) throws IOException {
        if (manifest.chunks() > 0) return manifest;
        long rows = input.rows().count();
        if (rows == 0) throw new IllegalArgumentException("input " + o.input + " has no rows; nothing to generate");
        ChunkPlan plan = ChunkPlan.of(rows, spark.sparkContext().defaultParallelism(), o.partitions,
                o.rowsPerPartition, o.chunks);
        RunManifest m = manifest.withLayout(rows, plan.chunks(), plan.partitions());
        m.write(out.fs, out.manifest());
        return m;
    }

    /** Writes this run's input, ids fixed and hashed into chunks, to the output's staging area and returns it. */
    private static Dataset<Row> stage(SparkSession spark, ChunkedOutput out, InputTable.Table input, int chunks) {
        input.rows().withColumn(ChunkedOutput.CHUNK_COLUMN, functions.pmod(functions.xxhash64(Columns.col(input.idColumn())),
                        functions.lit(chunks)).cast("int"))
                .write().mode(SaveMode.Overwrite).partitionBy(ChunkedOutput.CHUNK_COLUMN)
                .parquet(out.stagedInput().toString());
        LOG.info("sparkllm: staged the input into {} chunks", chunks);
        return spark.read().parquet(out.stagedInput().toString());
    }

    /** What one chunk needs this run. */
    record ChunkTask(int chunk, boolean committed, long generate, long drop) {
        /** The chunk's work, or null when it needs none. */
        static ChunkTask of(int k, boolean committed, OutputRows.ChunkIds ids, JobOptions o) {
            if (!committed) return ids.input() == 0 ? null : new ChunkTask(k, false, ids.input(), 0);
            long generate = ids.missing() + (o.retryErrors ? ids.errors() : 0);
            long drop = o.dropExtraIds ? ids.extra() : 0;
            return generate == 0 && drop == 0 ? null : new ChunkTask(k, true, generate, drop);
        }
    }

    /** What every chunk job shares. */
    private record ChunkContext(SparkSession spark, JobOptions o, ChunkedOutput out, Dataset<Row> staged,
                                GenerationColumns cols, List<String> inputCols, StructType outSchema,
                                GenerationSettings settings, int partitionsPerChunk) {
    }

    /**
     * Generates what one chunk lacks and commits it as one Spark write job (its _SUCCESS marks it committed). An
     * uncommitted chunk is generated whole; a committed one is rewritten: its kept rows plus the rows generated
     * now, swapped in once written.
     */
    private static void runChunk(ChunkContext c, ChunkTask t) throws IOException {
        int k = t.chunk();
        SparkSession spark = c.spark();
        spark.sparkContext().setJobGroup(TaskTimings.GROUP_PREFIX + k, "sparkllm chunk " + k, true);
        String id = c.cols().idColumn();
        Dataset<Row> rows = c.staged().where(functions.col(ChunkedOutput.CHUNK_COLUMN).equalTo(k))
                .drop(ChunkedOutput.CHUNK_COLUMN);
        if (!t.committed()) {
            OutputRows.writer(generate(c, rows), c.o().outputFormat).save(c.out().chunk(k).toString());
        } else {
            Dataset<Row> kept = OutputRows.chunk(spark, c.out(), c.o().outputFormat, c.outSchema(), k);
            if (c.o().retryErrors) kept = kept.where(functions.col("finish_reason").notEqual("error"));
            if (c.o().dropExtraIds) kept = kept.join(rows.select(Columns.col(id)), id, "left_semi");
            Dataset<Row> missing = rows.join(kept.select(Columns.col(id)), id, "left_anti"); // ids with no kept row
            OutputRows.writer(kept.unionByName(generate(c, missing)), c.o().outputFormat)
                    .save(c.out().rewrite(k).toString());
            c.out().replaceChunk(k);
        }
        LOG.info("sparkllm: committed chunk {}", k);
    }

    private static Dataset<Row> generate(ChunkContext c, Dataset<Row> rows) {
        Dataset<Row> spread = rows.repartition(c.partitionsPerChunk(), Columns.col(c.cols().idColumn()));
        return flatten(LlmGeneration.generate(spread, c.cols(), c.settings(), "__result"), c.inputCols(),
                c.settings().modelFingerprint());
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

    /** The output row: input columns, the result fields, the model fingerprint. */
    static Dataset<Row> flatten(Dataset<Row> generated, List<String> inputCols, String fingerprint) {
        List<Column> c = new ArrayList<>();
        for (String n : inputCols) c.add(Columns.col(n));
        c.add(col("__result.*"));
        c.add(functions.lit(fingerprint).as("model"));
        return generated.select(c.toArray(Column[]::new));
    }
}
