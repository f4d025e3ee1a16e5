package dev.sparkllm.udf;

import com.codahale.metrics.Gauge;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Ties engines to Spark's plugin API ({@code spark.plugins=dev.sparkllm.udf.SparkLlmPlugin}): the executor side
 * registers engine metrics with Spark's metric system, sends progress to the driver every couple of seconds,
 * and closes the executor's engines when it stops; the driver side keeps the latest report per executor for
 * progress lines.
 */
public final class SparkLlmPlugin implements SparkPlugin {

    /** How often executors report progress to the driver. */
    static final long REPORT_MILLIS = 2000;

    @Override
    public DriverPlugin driverPlugin() {
        return new Driver();
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new Executor();
    }

    /** The latest report of every executor that has sent one, keyed by executor id. Driver JVM only. */
    public static Map<String, ProgressReport> executorReports() {
        return Collections.unmodifiableMap(Driver.REPORTS);
    }

    /**
     * Sends this executor's counters to the driver and waits until the driver has them. Tasks call it when
     * their last row is out, so that when a Spark job ends the driver's reports include all of its rows and
     * engine steps (the periodic reports alone would lag by up to {@link #REPORT_MILLIS}). No-op without the
     * executor plugin.
     */
    public static void reportNow() {
        PluginContext ctx = Executor.context;
        if (ctx == null) return;
        try {
            ctx.ask(ExecutorProgress.snapshot());
        } catch (Exception e) {
            LoggerFactory.getLogger(SparkLlmPlugin.class).debug("progress report not sent", e);
        }
    }

    /** Forgets reports (a new job in the same driver JVM). */
    public static void resetReports() {
        Driver.REPORTS.clear();
    }

    /** The later of two snapshots of one executor: by time, and within one millisecond by its counters. */
    static ProgressReport newer(ProgressReport a, ProgressReport b) {
        if (a.timeMillis() != b.timeMillis()) return b.timeMillis() > a.timeMillis() ? b : a;
        long ca = a.engineSteps() + a.rowsOk() + a.rowsFailed() + a.completionTokens();
        long cb = b.engineSteps() + b.rowsOk() + b.rowsFailed() + b.completionTokens();
        return cb >= ca ? b : a;
    }

    static final class Driver implements DriverPlugin {
        static final Map<String, ProgressReport> REPORTS = new ConcurrentHashMap<>();

        /** A new application in this JVM (tests, notebooks): the reports of an earlier one's executors are gone. */
        @Override
        public Map<String, String> init(org.apache.spark.SparkContext sc, PluginContext ctx) {
            REPORTS.clear();
            return Collections.emptyMap();
        }

        @Override
        public Object receive(Object message) {
            // Periodic and end-of-task reports may arrive out of order: keep the newest snapshot.
            if (message instanceof ProgressReport r) {
                REPORTS.merge(r.executorId(), r, (old, now) -> newer(old, now));
            }
            return null;
        }
    }

    static final class Executor implements ExecutorPlugin {
        private static final Logger LOG = LoggerFactory.getLogger(Executor.class);
        private ScheduledExecutorService reporter;
        static volatile PluginContext context;

        @Override
        public void init(PluginContext ctx, Map<String, String> extraConf) {
            context = ctx;
            // A new executor (in local mode possibly in a JVM that ran an earlier application): counters start
            // at zero like its engines' do, so the driver's differences stay within one application.
            ExecutorProgress.reset();
            var metrics = ctx.metricRegistry();
            metrics.register("engineCreations", (Gauge<Integer>) EngineHolder::creations);
            metrics.register("rowsOk", (Gauge<Long>) ExecutorProgress.ROWS_OK::sum);
            metrics.register("rowsFailed", (Gauge<Long>) ExecutorProgress.ROWS_FAILED::sum);
            metrics.register("completionTokens", (Gauge<Long>) ExecutorProgress.COMPLETION_TOKENS::sum);
            metrics.register("batchOccupancy", (Gauge<Double>) () -> ExecutorProgress.snapshot().meanOccupancy());
            reporter = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "sparkllm-progress");
                t.setDaemon(true);
                return t;
            });
            reporter.scheduleAtFixedRate(() -> {
                try {
                    ctx.send(ExecutorProgress.snapshot());
                } catch (Exception e) {
                    LOG.debug("progress report not sent", e);
                }
            }, REPORT_MILLIS, REPORT_MILLIS, TimeUnit.MILLISECONDS);
        }

        @Override
        public void shutdown() {
            if (reporter != null) reporter.shutdownNow();
            context = null;
            EngineHolder.closeAll();
        }
    }
}
