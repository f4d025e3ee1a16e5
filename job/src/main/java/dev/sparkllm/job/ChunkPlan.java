package dev.sparkllm.job;

/**
 * How rows are spread: partitions sized from the row count and the task slots (never from file bytes), grouped
 * into chunks, each chunk committed on its own. Defaults aim at about four waves of tasks over all slots, at
 * most 2000 rows per partition (a failed task repeats little), and two waves per chunk (a crash loses little,
 * and the next chunk's tasks fill the slots the previous chunk's stragglers leave free).
 *
 * @param partitions total partitions
 * @param chunks     commit units
 */
record ChunkPlan(int partitions, int chunks) {

    static final int MAX_ROWS_PER_PARTITION = 2000;

    static ChunkPlan of(long rows, int slots, Integer partitions, Integer rowsPerPartition, Integer chunks) {
        slots = Math.max(1, slots);
        long rpp = rowsPerPartition != null ? rowsPerPartition
                : Math.max(1, Math.min(MAX_ROWS_PER_PARTITION, ceil(rows, 4L * slots)));
        int p = partitions != null ? partitions : (int) Math.max(1, Math.min(Integer.MAX_VALUE, ceil(rows, rpp)));
        int c = chunks != null ? chunks : (int) Math.max(1, Math.min(1000, ceil(p, 2L * slots)));
        c = (int) Math.min(c, Math.max(1, rows));
        return new ChunkPlan(Math.max(p, c), c);
    }

    /** Partitions for one chunk's rows. */
    int partitionsPerChunk() {
        return (int) ceil(partitions, chunks);
    }

    private static long ceil(long a, long b) {
        return (a + b - 1) / b;
    }
}
