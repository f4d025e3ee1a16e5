package dev.sparkllm.engine.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class WorkerPoolTest {

    @Test
    void everyWorkerRunsEverySectionOnce() {
        try (WorkerPool pool = new WorkerPool(3)) {
            AtomicIntegerArray runs = new AtomicIntegerArray(3);
            for (int i = 0; i < 200; i++) pool.run((worker, workers) -> runs.incrementAndGet(worker));
            for (int w = 0; w < 3; w++) assertEquals(200, runs.get(w), "worker " + w);
        }
    }

    @Test
    void aFailureInAWorkerReachesTheCaller() {
        try (WorkerPool pool = new WorkerPool(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run((worker, workers) -> {
                if (worker == 1) throw new IllegalStateException("boom in worker 1");
            }));
            assertEquals("boom in worker 1", e.getMessage());
            pool.run((worker, workers) -> { }); // still usable afterwards
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
