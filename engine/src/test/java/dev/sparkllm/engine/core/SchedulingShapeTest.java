package dev.sparkllm.engine.core;

import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.backend.ModelBackend;
import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepInput.Logits;
import dev.sparkllm.engine.backend.StepInput.SequenceChunk;
import dev.sparkllm.engine.backend.StepOutput;
import dev.sparkllm.engine.backend.sim.Roofline;
import dev.sparkllm.engine.backend.sim.SimulatedGpuBackend;
import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the scheduler hands the backend, step by step: budgets, chunking beside decodes, no wasted steps. */
class SchedulingShapeTest {

    static final int VOCAB = 128;

    /** Records every step's chunks (copied: the engine may reuse nothing, but tests should not rely on it). */
    static final class RecordingBackend implements ModelBackend {
        final ModelBackend inner;
        final List<List<SequenceChunk>> steps = new ArrayList<>();

        RecordingBackend(ModelBackend inner) { this.inner = inner; }

        @Override public LlamaConfig config() { return inner.config(); }
        @Override public int kvBlockSize() { return inner.kvBlockSize(); }
        @Override public int kvBlockCount() { return inner.kvBlockCount(); }
        @Override public String describe() { return inner.describe(); }
        @Override public void close() { inner.close(); }

        @Override
        public StepOutput execute(StepInput input) {
            steps.add(input.chunks());
            return inner.execute(input);
        }
    }

    static SamplingParams exactly(int n) {
        return new SamplingParams(0, 0, 1, 0, 1, 0, 0, n, 0, List.of(), new int[0], true, null, -1);
    }

    static SimulatedGpuBackend sim(int blocks) {
        return new SimulatedGpuBackend(TinyAttentionBackend.config(VOCAB, 4096), 16, blocks, Roofline.instant(), 0);
    }

    @Test
    void fullBatchDecodesInOneStepPerTokenWithNoWastedSteps() throws Exception {
        int batch = 256;
        int newTokens = 20;
        GatedBackend gate = new GatedBackend(sim(4096));
        RecordingBackend backend = new RecordingBackend(gate);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            requests.add(new GenerationRequest("r" + i, TestRequests.randomTokens(new java.util.Random(i), 8, VOCAB), exactly(newTokens)));
        }
        try (Engine e = new Engine(backend, new WordTokenizer(VOCAB), EngineOptions.defaults().withMaxBatchSequences(batch))) {
            List<dev.sparkllm.engine.api.RequestHandle> handles = new ArrayList<>();
            handles.add(e.submit(requests.get(0), null));
            gate.awaitWaitingStep(); // the first request's step waits; the rest queue up behind it
            for (GenerationRequest r : requests.subList(1, batch)) handles.add(e.submit(r, null));
            gate.open();
            for (var h : handles) assertEquals(newTokens, h.await().tokenIds().length);
        }
        // Step 1 prefills the first request; step 2 admits the other 255 (255 x 8 tokens fit the budget of 2048)
        // beside its decode; every later step decodes the whole batch. So newTokens + 1 steps, all but the
        // first and the last full.
        assertEquals(newTokens + 1, backend.steps.size());
        for (int i = 1; i < newTokens; i++) assertEquals(batch, backend.steps.get(i).size(), "chunks in step " + i);
        for (List<SequenceChunk> step : backend.steps) assertTrue(step.size() <= batch);
    }

    @Test
    void longPromptIsChunkedBesideRunningDecodesWithinTheBudget() throws Exception {
        int chunk = 32;
        int budget = 48;
        GatedBackend gate = new GatedBackend(sim(512));
        RecordingBackend backend = new RecordingBackend(gate);
        EngineOptions options = new EngineOptions(8, budget, chunk, 64, true, 0);
        try (Engine e = new Engine(backend, new WordTokenizer(VOCAB), options)) {
            List<dev.sparkllm.engine.api.RequestHandle> handles = new ArrayList<>();
            for (int i = 0; i < 4; i++) handles.add(e.submit(new GenerationRequest("short" + i, new int[]{5, 6, 7 + i}, exactly(60)), null));
            gate.allow(3);
            gate.awaitWaitingStep();
            handles.add(e.submit(new GenerationRequest("long", TestRequests.randomTokens(new java.util.Random(3), 300, VOCAB), exactly(5)), null));
            gate.open();
            for (var h : handles) h.await();
        }
        Map<Long, Integer> computed = new HashMap<>();
        boolean sawChunkBesideDecodes = false;
        for (List<SequenceChunk> step : backend.steps) {
            int tokens = 0;
            int decodes = 0;
            for (SequenceChunk c : step) {
                tokens += c.tokenIds().length;
                int done = computed.getOrDefault(c.sequenceId(), 0);
                assertEquals(done, c.startPosition(), "chunks of a sequence follow each other without gaps or overlap");
                computed.put(c.sequenceId(), c.endPosition());
                assertTrue((long) c.blockTable().length * 16 >= c.endPosition(), "block table covers the chunk");
                if (c.tokenIds().length == 1 && c.startPosition() > 3) decodes++;
                if (c.tokenIds().length > 1) assertTrue(c.tokenIds().length <= chunk, "prefill chunk larger than the chunk size");
            }
            assertTrue(tokens <= budget, "step of " + tokens + " tokens exceeds the budget " + budget);
            boolean longChunk = step.stream().anyMatch(c -> c.tokenIds().length > 1 && c.startPosition() > 0);
            if (longChunk && decodes > 0) sawChunkBesideDecodes = true;
            for (SequenceChunk c : step) {
                boolean lastOfPrompt = c.logits() == Logits.LAST;
                assertTrue(lastOfPrompt || c.logits() == Logits.NONE);
            }
        }
        assertTrue(sawChunkBesideDecodes, "the long prompt was never prefilled in chunks beside running decodes");
    }
}
