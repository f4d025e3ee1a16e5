package dev.sparkllm.job;

import dev.sparkllm.udf.EngineHolder;
import dev.sparkllm.udf.GenerationSettings;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Opens the executors' engines while the driver stages and checks the input, so that loading the model (tens of
 * seconds for a 70B checkpoint) overlaps that work instead of following it. One Spark job of one task per executor
 * known at the start (one in local mode) whose only work is {@link EngineHolder#get}: the engine it opens is the
 * one the generation tasks on that executor then share, and a generation task that arrives while it loads waits
 * for it rather than opening a second one.
 *
 * <p>Best effort: Spark decides where the tasks run, so an executor may get none (its first generation task then
 * opens the engine, as without warm-up) and with GPU scheduling a task holds its share of a GPU like any other.
 * A task that cannot open the engine logs why and succeeds: the generation tasks meet the same problem and report
 * it through Spark's retries, and the driver's checks of the model ran before this. {@value #CONF}=false turns it
 * off.
 */
final class EngineWarmup implements AutoCloseable {

    static final String CONF = "spark.sparkllm.warmup";
    private static final String GROUP = "sparkllm-warmup";
    private static final Logger LOG = LoggerFactory.getLogger(EngineWarmup.class);

    private final SparkContext sc;
    private final ExecutorService thread;
    private final Future<?> job;

    private EngineWarmup(SparkContext sc, ExecutorService thread, Future<?> job) {
        this.sc = sc;
        this.thread = thread;
        this.job = job;
    }

    /** Starts the warm-up job in the background, or does nothing when {@value #CONF} is false. */
    static EngineWarmup start(SparkSession spark, GenerationSettings settings) {
        SparkContext sc = spark.sparkContext();
        if (!Boolean.parseBoolean(spark.conf().get(CONF, "true").trim())) return new EngineWarmup(sc, null, null);
        int tasks = tasks(sc);
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "sparkllm-warmup");
            t.setDaemon(true);
            return t;
        });
        Future<?> job = thread.submit(() -> {
            // not interrupted on cancel: a load cut short mid-copy helps nobody, and the JVM is about to stop anyway
            sc.setJobGroup(GROUP, "sparkllm: opening the engines while the input is prepared", false);
            List<Integer> slots = new ArrayList<>();
            for (int i = 0; i < tasks; i++) slots.add(i);
            try {
                new JavaSparkContext(sc).parallelize(slots, tasks).foreachPartition(it -> open(settings));
            } catch (RuntimeException e) {
                LOG.info("sparkllm: engine warm-up stopped: {}", e.toString());
            }
            return null;
        });
        LOG.info("sparkllm: opening the engines in the background ({} task{})", tasks, tasks == 1 ? "" : "s");
        return new EngineWarmup(sc, thread, job);
    }

    /** One task per executor registered now (the driver's entry excluded), one in local mode. */
    static int tasks(SparkContext sc) {
        if (sc.isLocal()) return 1;
        return Math.max(1, sc.getExecutorMemoryStatus().size() - 1);
    }

    private static void open(GenerationSettings settings) {
        try {
            EngineHolder.get(settings);
        } catch (RuntimeException e) {
            LOG.warn("sparkllm: warm-up could not open the engine here (generation tasks will try again): {}", e.toString());
        }
    }

    /** Waits up to {@code millis} for the warm-up job to end; true when it has (or never started). */
    boolean await(long millis) throws InterruptedException {
        if (job == null) return true;
        try {
            job.get(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return true; // the job's own failures are logged by it
        }
    }

    /** Cancels the job if it still runs (the run ended early); a warm-up that finished leaves its engines open. */
    @Override
    public void close() {
        if (job == null) return;
        if (!job.isDone()) sc.cancelJobGroup(GROUP);
        thread.shutdown();
    }
}
