package dev.sparkllm.engine.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    @Test
    void piecesDifferByAtMostOneAlignedUnit() {
        for (int n : new int[] {64, 384, 640, 1000, 1024}) {
            for (int pieces = 1; pieces <= 8; pieces++) {
                int units = (n + 63) / 64;
                int min = Integer.MAX_VALUE;
                int max = 0;
                for (int p = 0; p < pieces; p++) {
                    // whole units of 64 columns, the last one possibly short: count units, not columns
                    int start = WorkerPool.partStart(n, p, pieces, 64);
                    int end = WorkerPool.partEnd(n, p, pieces, 64);
                    int u = (end - start + 63) / 64;
                    min = Math.min(min, u);
                    max = Math.max(max, u);
                }
                if (pieces <= units) {
                    assertTrue(max - min <= 1, "n=" + n + " pieces=" + pieces + ": " + min + ".." + max + " units");
                }
            }
        }
    }

    @Test
    void singleStreamStepsGetOnePiecePerWorkerAndBatchesMore() {
        try (WorkerPool two = new WorkerPool(2); WorkerPool one = new WorkerPool(1)) {
            assertEquals(2, two.piecesFor(1024, 64, 1));
            assertEquals(8, two.piecesFor(1024, 64, 32));
            assertEquals(6, two.piecesFor(384, 64, 32)); // never narrower than one unit
            assertEquals(1, one.piecesFor(1024, 64, 32));
        }
    }
}
