package dev.sparkllm.udf;

import java.util.concurrent.atomic.LongAdder;

/**
 * Row and token counters of this executor JVM (monotonic), sent to the driver by {@link SparkLlmPlugin} for
 * progress reports. Rows count when their result is complete (error rows when they are found).
 */
public final class ExecutorProgress {

    static final LongAdder ROWS_OK = new LongAdder();
    static final LongAdder ROWS_FAILED = new LongAdder();
    static final LongAdder PROMPT_TOKENS = new LongAdder();
    static final LongAdder COMPLETION_TOKENS = new LongAdder();

    private ExecutorProgress() {
    }

    static void reset() {
        ROWS_OK.reset();
        ROWS_FAILED.reset();
        PROMPT_TOKENS.reset();
        COMPLETION_TOKENS.reset();
    }

    static void rowDone(boolean ok, int promptTokens, int completionTokens) {
        (ok ? ROWS_OK : ROWS_FAILED).increment();
        PROMPT_TOKENS.add(promptTokens);
        COMPLETION_TOKENS.add(completionTokens);
    }

    /** A snapshot of this JVM's counters and its engines' metrics. */
    public static ProgressReport snapshot() {
        long steps = 0;
        double occupancy = 0;
        long busy = 0;
        long decoded = 0;
        int engines = 0;
        for (var m : EngineHolder.metrics()) {
            steps += m.steps();
            decoded += m.decodeTokens();
            occupancy += m.batchOccupancySum();
            busy += m.busyNanos();
            engines++;
        }
        return new ProgressReport(EngineHolder.executorId(), System.currentTimeMillis(), ROWS_OK.sum(),
                ROWS_FAILED.sum(), PROMPT_TOKENS.sum(), COMPLETION_TOKENS.sum(), steps, occupancy, busy, engines,
                EngineHolder.creations(), decoded);
    }
}
