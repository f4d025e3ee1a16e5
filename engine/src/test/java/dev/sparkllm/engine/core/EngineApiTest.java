package dev.sparkllm.engine.core;

import dev.sparkllm.engine.api.EngineFailedException;
import dev.sparkllm.engine.api.EngineMetrics;
import dev.sparkllm.engine.api.FinishReason;
import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.api.RequestHandle;
import dev.sparkllm.engine.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Streaming, cancellation, request errors, engine failure, back-pressure and close. */
class EngineApiTest {

    static final int VOCAB = 96;

    static GenerationRequest request(String id, int promptLength, SamplingParams p) {
        int[] prompt = new int[promptLength];
        for (int i = 0; i < promptLength; i++) prompt[i] = 3 + (i * 7 + id.hashCode() & 0x7fff) % (VOCAB - 3);
        return new GenerationRequest(id, prompt, p);
    }


    static SamplingParams ignoreEos(int maxNew) {
        return new SamplingParams(0, 0, 1, 0, 1, 0, 0, maxNew, 0, List.of(), new int[0], true, null, -1);
    }

    @Test
    void streamedTokensAndTextAddUpToTheResult() throws Exception {
        Map<String, List<Integer>> tokens = new ConcurrentHashMap<>();
        Map<String, StringBuilder> text = new ConcurrentHashMap<>();
        List<RequestHandle> handles = new ArrayList<>();
        try (Engine e = new Engine(new TinyAttentionBackend(VOCAB, 16, 512, 2.5f), new WordTokenizer(VOCAB), EngineOptions.defaults())) {
            for (GenerationRequest r : TestRequests.mixed(20, VOCAB, 40, 30, 5)) {
                handles.add(e.submit(r, (id, token, delta) -> {
                    tokens.computeIfAbsent(id, k -> new ArrayList<>()).add(token);
                    text.computeIfAbsent(id, k -> new StringBuilder()).append(delta);
                }));
            }
            for (RequestHandle h : handles) {
                GenerationResult r = h.await();
                int[] streamed = tokens.getOrDefault(r.id(), List.of()).stream().mapToInt(Integer::intValue).toArray();
                assertArrayEquals(r.tokenIds(), streamed, "streamed tokens of " + r.id());
                assertEquals(r.text(), text.getOrDefault(r.id(), new StringBuilder()).toString(), "streamed text of " + r.id());
                assertEquals(new WordTokenizer(VOCAB).decode(r.tokenIds(), true), r.text());
                for (int t : r.tokenIds()) assertTrue(t != 2, "EOS must not appear in the result's tokens");
            }
        }
    }

    @Test
    void requestWithoutSeedGetsOneAndCompletes() throws Exception {
        SamplingParams sampled = new SamplingParams(1.0, 0, 1, 0, 1, 0, 0, 8, 0, List.of(), new int[0], true, null, -1);
        try (Engine e = new Engine(new TinyAttentionBackend(VOCAB, 16, 64, 0), new WordTokenizer(VOCAB), EngineOptions.defaults())) {
            GenerationResult r = e.submit(request("s", 5, sampled), null).await();
            assertEquals(FinishReason.LENGTH, r.finishReason());
            assertEquals(8, r.tokenIds().length);
        }
    }

    @Test
    void badRequestsEndWithErrorAndTheEngineGoesOn() throws Exception {
        EngineOptions options = EngineOptions.defaults().withContextLength(100);
        try (Engine e = new Engine(new TinyAttentionBackend(VOCAB, 4, 16, 0), new WordTokenizer(VOCAB), options)) {
            GenerationResult tooLong = e.submit(request("long", 90, ignoreEos(20)), null).await();
            assertEquals(FinishReason.ERROR, tooLong.finishReason());
            assertTrue(tooLong.error().contains("context length 100"), tooLong.error());

            GenerationResult tooBig = e.submit(request("big", 50, ignoreEos(20)), null).await(); // 70 tokens > 16 blocks of 4
            assertEquals(FinishReason.ERROR, tooBig.finishReason());
            assertTrue(tooBig.error().contains("KV blocks"), tooBig.error());

            GenerationResult badId = e.submit(new GenerationRequest("id", new int[]{1, VOCAB}, ignoreEos(3)), null).await();
            assertEquals(FinishReason.ERROR, badId.finishReason());
            assertTrue(badId.error().contains("vocabulary"), badId.error());

            GenerationResult fine = e.submit(request("ok", 30, ignoreEos(30)), null).await(); // exactly 16 blocks
            assertEquals(FinishReason.LENGTH, fine.finishReason());
            assertEquals(30, fine.tokenIds().length);
            assertEquals(4, e.metrics().finishedRequests());
        }
    }

    @Test
    void listenerThatThrowsFailsOnlyItsRequest() throws Exception {
        try (Engine e = new Engine(new TinyAttentionBackend(VOCAB, 16, 64, 0), new WordTokenizer(VOCAB), EngineOptions.defaults())) {
            RequestHandle bad = e.submit(request("bad", 5, ignoreEos(10)), (id, t, d) -> { throw new IllegalStateException("boom"); });
            RequestHandle good = e.submit(request("good", 5, ignoreEos(10)), null);
            GenerationResult r = bad.await();
            assertEquals(FinishReason.ERROR, r.finishReason());
            assertTrue(r.error().contains("boom"), r.error());
            assertEquals(FinishReason.LENGTH, good.await().finishReason());
        }
    }

    @Test
    void cancellingRunningAndQueuedRequestsFreesTheirBlocks() throws Exception {
        GatedBackend gate = new GatedBackend(new TinyAttentionBackend(VOCAB, 4, 64, 0));
        EngineOptions options = EngineOptions.defaults().withMaxBatchSequences(2).withMaxStepTokens(64);
        try (Engine e = new Engine(gate, new WordTokenizer(VOCAB), options)) {
            java.util.concurrent.atomic.AtomicInteger runTokens = new java.util.concurrent.atomic.AtomicInteger();
            RequestHandle running = e.submit(request("run", 10, ignoreEos(40)), (id, t, d) -> runTokens.incrementAndGet());
            RequestHandle other = e.submit(request("other", 10, ignoreEos(5)), null);
            RequestHandle queued = e.submit(request("queued", 10, ignoreEos(40)), null);
            gate.allow(3);
            while (runTokens.get() < 3) Thread.onSpinWait();
            gate.awaitWaitingStep(); // three steps done, the fourth waits at the gate
            assertTrue(e.metrics().kvBlocksUsed() > 0);
            assertEquals(1, e.metrics().queuedRequests());
            running.cancel();
            queued.cancel();
            gate.open();
            GenerationResult r = running.await();
            assertEquals(FinishReason.CANCELLED, r.finishReason());
            assertTrue(r.tokenIds().length >= 2 && r.tokenIds().length < 40, "cancelled mid-generation: " + r.tokenIds().length);
            GenerationResult q = queued.await();
            assertEquals(FinishReason.CANCELLED, q.finishReason());
            assertEquals(0, q.tokenIds().length);
            assertEquals(FinishReason.LENGTH, other.await().finishReason());
            EngineMetrics m = e.metrics();
            assertEquals(0, m.kvBlocksUsed());
            assertEquals(0, m.runningSequences());
            assertEquals(0, m.queuedRequests());
        }
    }

    @Test
    void cancellingFromTheListenerStopsAtTheNextStep() throws Exception {
        try (Engine e = new Engine(new TinyAttentionBackend(VOCAB, 16, 64, 0), new WordTokenizer(VOCAB), EngineOptions.defaults())) {
            AtomicReference<RequestHandle> self = new AtomicReference<>();
            List<Integer> seen = new ArrayList<>();
            RequestHandle h = e.submit(request("c", 5, ignoreEos(50)), (id, t, d) -> {
                seen.add(t);
                while (self.get() == null) Thread.onSpinWait(); // submit has not returned the handle yet
                if (seen.size() == 3) self.get().cancel();
            });
            self.set(h);
            GenerationResult r = h.await();
            assertEquals(FinishReason.CANCELLED, r.finishReason());
            assertTrue(r.tokenIds().length >= 3 && r.tokenIds().length <= 4, "tokens after cancel: " + r.tokenIds().length);
            assertEquals(0, e.metrics().kvBlocksUsed());
        }
    }

    @Test
    void backendFailureFailsEveryPendingRequestAndLaterSubmits() throws Exception {
        TinyAttentionBackend backend = new TinyAttentionBackend(VOCAB, 16, 256, 0);
        GatedBackend gate = new GatedBackend(backend);
        Engine e = new Engine(gate, new WordTokenizer(VOCAB), EngineOptions.defaults().withMaxBatchSequences(2));
        List<RequestHandle> handles = new ArrayList<>();
        RuntimeException deviceError = new RuntimeException("simulated device error");
        handles.add(e.submit(request("a", 5, ignoreEos(50)), (id, t, d) -> backend.failNextStep = deviceError));
        for (int i = 0; i < 5; i++) handles.add(e.submit(request("q" + i, 5, ignoreEos(50)), null));
        gate.open(); // the first token's listener makes the next step fail, with requests running and queued
        for (RequestHandle h : handles) {
            ExecutionException ex = assertThrows(ExecutionException.class, () -> h.result().get());
            assertInstanceOf(EngineFailedException.class, ex.getCause());
            assertSame(deviceError, ex.getCause().getCause());
            assertThrows(EngineFailedException.class, h::await);
        }
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> e.submit(request("late", 5, ignoreEos(5)), null));
        assertTrue(refused.getMessage().contains("failed"), refused.getMessage());
        e.close();
    }

    @Test
    void backendThatBreaksItsContractFailsTheEngine() throws Exception {
        TinyAttentionBackend inner = new TinyAttentionBackend(VOCAB, 16, 64, 0);
        dev.sparkllm.engine.backend.ModelBackend noLogits = new dev.sparkllm.engine.backend.ModelBackend() {
            @Override public dev.sparkllm.engine.model.LlamaConfig config() { return inner.config(); }
            @Override public int kvBlockSize() { return inner.kvBlockSize(); }
            @Override public int kvBlockCount() { return inner.kvBlockCount(); }
            @Override public String describe() { return "backend returning no logits"; }
            @Override public void close() { }

            @Override
            public dev.sparkllm.engine.backend.StepOutput execute(dev.sparkllm.engine.backend.StepInput input) {
                List<float[]> none = new ArrayList<>();
                for (int i = 0; i < input.chunks().size(); i++) none.add(null);
                return new dev.sparkllm.engine.backend.StepOutput(none);
            }
        };
        try (Engine e = new Engine(noLogits, new WordTokenizer(VOCAB), EngineOptions.defaults())) {
            RequestHandle h = e.submit(request("x", 5, ignoreEos(5)), null);
            EngineFailedException ex = assertThrows(EngineFailedException.class, h::await);
            assertTrue(ex.getCause().getMessage().contains("no logits"), ex.getCause().getMessage());
        }
    }

    @Test
    void fullQueueBlocksSubmitUntilThereIsRoom() throws Exception {
        GatedBackend gate = new GatedBackend(new TinyAttentionBackend(VOCAB, 16, 64, 0));
        EngineOptions options = EngineOptions.defaults().withMaxBatchSequences(1).withQueueCapacity(2);
        try (Engine e = new Engine(gate, new WordTokenizer(VOCAB), options)) {
            List<RequestHandle> handles = new ArrayList<>();
            handles.add(e.submit(request("r0", 5, ignoreEos(3)), null));
            gate.awaitWaitingStep(); // r0 is admitted; the engine waits at the gate
            handles.add(e.submit(request("r1", 5, ignoreEos(3)), null));
            handles.add(e.submit(request("r2", 5, ignoreEos(3)), null));
            AtomicReference<RequestHandle> late = new AtomicReference<>();
            Thread submitter = new Thread(() -> {
                try {
                    late.set(e.submit(request("r3", 5, ignoreEos(3)), null));
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
            });
            submitter.start();
            while (submitter.getState() == Thread.State.RUNNABLE || submitter.getState() == Thread.State.NEW) Thread.onSpinWait();
            assertTrue(submitter.isAlive(), "submit returned although the queue was full");
            assertEquals(2, e.metrics().queuedRequests());
            assertEquals(null, late.get());
            gate.open();
            submitter.join();
            assertNotNull(late.get());
            handles.add(late.get());
            for (RequestHandle h : handles) assertEquals(FinishReason.LENGTH, h.await().finishReason());
        }
    }

    @Test
    void closeCancelsWhatIsLeftClosesTheBackendAndRefusesSubmits() throws Exception {
        GatedBackend gate = new GatedBackend(new TinyAttentionBackend(VOCAB, 16, 64, 0));
        Engine e = new Engine(gate, new WordTokenizer(VOCAB), EngineOptions.defaults().withMaxBatchSequences(1));
        RequestHandle running = e.submit(request("r", 5, ignoreEos(30)), null);
        RequestHandle queued = e.submit(request("q", 5, ignoreEos(30)), null);
        gate.allow(2);
        gate.awaitWaitingStep();
        Thread closer = new Thread(e::close);
        closer.start();
        while (closer.getState() != Thread.State.WAITING) Thread.onSpinWait(); // close() is joining the engine thread
        gate.open();
        closer.join();
        assertEquals(FinishReason.CANCELLED, running.await().finishReason());
        assertEquals(FinishReason.CANCELLED, queued.await().finishReason());
        assertTrue(gate.closed);
        assertThrows(IllegalStateException.class, () -> e.submit(request("x", 5, ignoreEos(3)), null));
        assertFalse(running.result().isCompletedExceptionally());
    }
}
