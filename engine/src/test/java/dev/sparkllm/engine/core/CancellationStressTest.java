package dev.sparkllm.engine.core;

import dev.sparkllm.engine.api.EngineMetrics;
import dev.sparkllm.engine.api.FinishReason;
import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.api.RequestHandle;
import dev.sparkllm.engine.backend.sim.Roofline;
import dev.sparkllm.engine.backend.sim.SimulatedGpuBackend;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several threads submit thousands of requests into a small KV pool (so preemption happens too) and cancel a
 * third of them at random moments. Every request completes; the ones not cancelled have exactly the tokens
 * they have without any cancellation; at the end every block is back in the pool.
 */
class CancellationStressTest {

    static final int VOCAB = 128;
    static final int THREADS = 4;
    static final int PER_THREAD = 750;

    @Test
    void thousandsOfSubmitsAndCancelsEndWithEveryBlockFree() throws Exception {
        List<GenerationRequest> requests = TestRequests.mixed(THREADS * PER_THREAD, VOCAB, 40, 24, 99);
        EngineOptions options = EngineOptions.defaults().withMaxBatchSequences(48).withMaxStepTokens(256)
                .withPrefillChunkTokens(24).withQueueCapacity(64);

        List<GenerationResult> reference;
        try (Engine e = new Engine(backend(), new WordTokenizer(VOCAB), options)) {
            reference = e.generate(requests);
        }

        ConcurrentHashMap<String, RequestHandle> handles = new ConcurrentHashMap<>();
        ConcurrentHashMap<String, Boolean> cancelled = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try (Engine e = new Engine(backend(), new WordTokenizer(VOCAB), options)) {
            List<Future<?>> work = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                work.add(pool.submit(() -> {
                    Random r = new Random(thread);
                    List<RequestHandle> mine = new ArrayList<>();
                    for (int i = thread * PER_THREAD; i < (thread + 1) * PER_THREAD; i++) {
                        RequestHandle h = e.submit(requests.get(i), null);
                        handles.put(h.id(), h);
                        mine.add(h);
                        // Cancel about a third: the new one right away (most likely still queued), or a recent one
                        // (queued, running or done by now).
                        int dice = r.nextInt(6);
                        if (dice < 2) {
                            RequestHandle victim = dice == 0 ? h : mine.get(Math.max(0, mine.size() - 1 - r.nextInt(8)));
                            cancelled.put(victim.id(), true);
                            victim.cancel();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : work) f.get();
            int cancelledCount = 0;
            for (int i = 0; i < requests.size(); i++) {
                GenerationResult got = handles.get(requests.get(i).id()).await();
                if (got.finishReason() == FinishReason.CANCELLED) {
                    cancelledCount++;
                    assertTrue(cancelled.containsKey(got.id()), got.id() + " was cancelled without being asked");
                    GenerationResult full = reference.get(i);
                    assertArrayEquals(Arrays.copyOf(full.tokenIds(), got.tokenIds().length), got.tokenIds(),
                            "a cancelled request's tokens so far are a prefix of its full output");
                } else {
                    assertArrayEquals(reference.get(i).tokenIds(), got.tokenIds(), "tokens of " + got.id());
                    assertEquals(reference.get(i).finishReason(), got.finishReason());
                }
            }
            assertTrue(cancelledCount > requests.size() / 10, "only " + cancelledCount + " cancellations took effect");
            EngineMetrics m = e.metrics();
            assertEquals(0, m.kvBlocksUsed(), "blocks still held");
            assertEquals(0, m.runningSequences());
            assertEquals(0, m.preemptedSequences());
            assertEquals(0, m.queuedRequests());
            assertEquals(requests.size(), m.finishedRequests());
            assertTrue(e.preemptions() > 0, "the small pool was meant to force preemption");
        } finally {
            pool.shutdownNow();
        }
    }

    private static SimulatedGpuBackend backend() {
        // 96 blocks of 8 = 768 positions for up to 48 sequences of up to 64 tokens: preemption is frequent.
        return new SimulatedGpuBackend(TinyAttentionBackend.config(VOCAB, 4096), 8, 96, Roofline.instant(), 0.05);
    }
}
