package dev.sparkllm.engine.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class WorkerPoolTest {

    @Test
    void everyPieceRunsExactlyOnce() {
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int pieces : new int[] {1, 2, 3, 7, 64}) {
                AtomicIntegerArray runs = new AtomicIntegerArray(pieces);
                for (int i = 0; i < 100; i++) pool.run(pieces, (piece, n, worker) -> {
                    assertEquals(pieces, n);
                    runs.incrementAndGet(piece);
                });
                for (int p = 0; p < pieces; p++) assertEquals(100, runs.get(p), "piece " + p + " of " + pieces);
            }
        }
    }

    @Test
    void aFailureInAPieceReachesTheCaller() {
        try (WorkerPool pool = new WorkerPool(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run(8, (piece, n, worker) -> {
                if (piece == 5) throw new IllegalStateException("boom in piece 5");
            }));
            assertEquals("boom in piece 5", e.getMessage());
            pool.run(8, (piece, n, worker) -> { }); // still usable afterwards
        }
    }

    @Test
    void partsCoverTheRangeWithoutOverlapAtAlignedCuts() {
        for (int n : new int[] {0, 1, 31, 32, 384, 1000, 1024}) {
            for (int workers = 1; workers <= 5; workers++) {
                int next = 0;
                for (int w = 0; w < workers; w++) {
                    int start = WorkerPool.partStart(n, w, workers, 32);
                    int end = WorkerPool.partEnd(n, w, workers, 32);
                    assertEquals(next, start, "n=" + n + " workers=" + workers + " worker=" + w);
                    if (end < n) assertEquals(0, end % 32, "cut not aligned");
                    next = end;
                }
                assertEquals(n, next, "n=" + n + " workers=" + workers);
            }
        }
    }
}
