package dev.sparkllm.engine.api;

/**
 * A snapshot of an engine's counters (monotonic since start) and gauges (now).
 *
 * @param queuedRequests      gauge: submitted, not yet admitted
 * @param runningSequences    gauge: in the running batch
 * @param preemptedSequences  gauge: preempted, waiting to be recomputed
 * @param maxBatchSequences   the batch's capacity in sequences
 * @param kvBlocksUsed        gauge: KV blocks held by sequences (cached prefix blocks that no sequence holds are
 *                            evictable, so they count as free)
 * @param kvBlocksTotal       KV blocks in the pool
 * @param steps               counter: engine steps run
 * @param batchOccupancySum   counter: sum over steps of (sequences in the step / maxBatchSequences); divide by steps
 * @param prefillTokens       counter: prompt tokens computed
 * @param prefixCacheHitTokens counter: prompt tokens served from the prefix cache instead of computed
 * @param decodeTokens        counter: tokens generated
 * @param finishedRequests    counter: requests completed (any finish reason)
 * @param busyNanos           counter: time spent in steps
 */
public record EngineMetrics(
        int queuedRequests,
        int runningSequences,
        int preemptedSequences,
        int maxBatchSequences,
        int kvBlocksUsed,
        int kvBlocksTotal,
        long steps,
        double batchOccupancySum,
        long prefillTokens,
        long prefixCacheHitTokens,
        long decodeTokens,
        long finishedRequests,
        long busyNanos) {

    /** Mean fraction of the batch filled per step, 0..1. */
    public double meanBatchOccupancy() {
        return steps == 0 ? 0 : batchOccupancySum / steps;
    }

    /** Generated tokens per second of engine busy time. */
    public double decodeTokensPerBusySecond() {
        return busyNanos == 0 ? 0 : decodeTokens * 1e9 / busyNanos;
    }
}
