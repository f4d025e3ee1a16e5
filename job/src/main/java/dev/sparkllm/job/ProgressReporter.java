package dev.sparkllm.job;

import dev.sparkllm.udf.ProgressReport;
import dev.sparkllm.udf.SparkLlmPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.Map;

/**
 * Progress lines while the job runs, on the console and in the log, computed from the executors' plugin
 * reports (rows as their results complete, tokens, engine steps), relative to what they had done when this run
 * started: {@code sparkllm progress: 1200/10000 rows (12.0%), 3 failed, 812 tok/s, batch 0.87, left ~4m10s}.
 * Executors report every couple of seconds and whenever a task's last row is out, so the line moves within a
 * chunk (also when one chunk spans the whole input), and the final line, printed when every chunk is committed,
 * reads N/N with the engines' measured occupancy.
 */
final class ProgressReporter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ProgressReporter.class);

    private final long totalRows;
    private final long startMillis = System.currentTimeMillis();
    private final Thread thread;
    private volatile boolean stopped;
    private volatile String lastLine;
    private final Totals base;

    private record Totals(long rows, long failed, long tokens, long decoded, long steps, double occupancy) {
        static Totals of(Map<String, ProgressReport> reports) {
            long rows = 0, failed = 0, tokens = 0, decoded = 0, steps = 0;
            double occ = 0;
            for (ProgressReport r : reports.values()) {
                rows += r.rowsOk() + r.rowsFailed();
                failed += r.rowsFailed();
                tokens += r.completionTokens();
                decoded += r.decodeTokens();
                steps += r.engineSteps();
                occ += r.occupancySum();
            }
            return new Totals(rows, failed, tokens, decoded, steps, occ);
        }
    }

    ProgressReporter(long totalRows, int intervalSeconds) {
        this.totalRows = totalRows;
        this.base = Totals.of(SparkLlmPlugin.executorReports());
        thread = new Thread(() -> {
            while (!stopped) {
                try {
                    Thread.sleep(intervalSeconds * 1000L);
                } catch (InterruptedException e) {
                    return;
                }
                if (!stopped) report(false);
            }
        }, "sparkllm-progress-reporter");
        thread.setDaemon(true);
        if (totalRows > 0) thread.start();
    }

    /** Mean batch occupancy of this run's engine steps so far (sequences per step / max batch), 0..1. */
    double occupancy() {
        Totals t = Totals.of(SparkLlmPlugin.executorReports());
        long steps = t.steps() - base.steps();
        return steps <= 0 ? 0 : Math.max(0, (t.occupancy() - base.occupancy()) / steps);
    }

    /** Completion tokens of rows completed in this run. */
    long completionTokens() {
        return Math.max(0, Totals.of(SparkLlmPlugin.executorReports()).tokens() - base.tokens());
    }

    /** The last line printed, for tests. */
    String lastLine() {
        return lastLine;
    }

    /** The final line: every chunk is committed, so every row of this run is done. */
    void finish() {
        stopped = true;
        thread.interrupt();
        report(true);
    }

    private synchronized void report(boolean done) {
        Totals t = Totals.of(SparkLlmPlugin.executorReports());
        long rows = done ? totalRows : Math.min(totalRows, Math.max(0, t.rows() - base.rows()));
        double secs = Math.max(1e-3, (System.currentTimeMillis() - startMillis) / 1000.0);
        // Tokens as the engines generate them, so the rate shows before the first row is complete.
        double tokPerSec = Math.max(0, Math.max(t.decoded() - base.decoded(), t.tokens() - base.tokens())) / secs;
        long steps = t.steps() - base.steps();
        double occ = steps <= 0 ? 0 : Math.max(0, (t.occupancy() - base.occupancy()) / steps);
        String left = done ? "0s" : rows == 0 ? "?" : duration((long) ((totalRows - rows) * secs / rows));
        String line = String.format(Locale.ROOT,
                "sparkllm progress: %d/%d rows (%.1f%%), %d failed, %.0f tok/s, batch %s, %s",
                rows, totalRows, totalRows == 0 ? 100.0 : 100.0 * rows / totalRows,
                Math.max(0, t.failed() - base.failed()), tokPerSec, occupancyText(occ),
                done ? "done in " + duration((long) secs) : "left ~" + left);
        lastLine = line;
        System.out.println(line);
        LOG.info(line);
    }

    /** Occupancy with two significant digits: a few sequences in a batch of 256 read 0.012, not 0.00. */
    static String occupancyText(double occupancy) {
        if (occupancy <= 0) return "0";
        if (occupancy >= 0.1) return String.format(Locale.ROOT, "%.2f", occupancy);
        return new java.math.BigDecimal(occupancy).round(new java.math.MathContext(2)).toPlainString();
    }

    static String duration(long seconds) {
        if (seconds >= 3600) return seconds / 3600 + "h" + (seconds % 3600) / 60 + "m";
        if (seconds >= 60) return seconds / 60 + "m" + seconds % 60 + "s";
        return seconds + "s";
    }

    @Override
    public void close() {
        stopped = true;
        thread.interrupt();
    }
}
