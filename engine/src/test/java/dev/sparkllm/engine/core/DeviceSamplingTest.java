package dev.sparkllm.engine.core;

import dev.sparkllm.engine.api.EngineFailedException;
import dev.sparkllm.engine.api.FinishReason;
import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.api.GenerationResult.TokenLogprob;
import dev.sparkllm.engine.backend.ModelBackend;
import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepOutput;
import dev.sparkllm.engine.backend.StepOutput.SampledToken;
import dev.sparkllm.engine.backend.sim.Roofline;
import dev.sparkllm.engine.backend.sim.SimulatedGpuBackend;
import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.sampling.Sampler;
import dev.sparkllm.engine.sampling.SamplingParams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sampling on the device gives the tokens of sampling on the host. The reference: the simulated backend with
 * device sampling off, so the engine chooses every token on the host from the backend's logits; the same
 * requests then run with the backend choosing them inside its step, in other batch shapes, with preemption,
 * on one and on several sampling threads. Tokens, finish reasons, text and log-probabilities must all agree.
 */
class DeviceSamplingTest {

    static final int VOCAB = 96;
    static final int REQUESTS = 120;
    static final int MAX_PROMPT = 60;
    static final int MAX_NEW = 40;

    static List<GenerationRequest> requests;
    static List<GenerationResult> hostSampled;

    @BeforeAll
    static void sampleOnTheHost() throws InterruptedException {
        requests = requests();
        EngineOptions options = new EngineOptions(32, 2048, 64, 1024, true, 0, 2);
        try (Engine e = new Engine(simulated(16, 4096, 0), new WordTokenizer(VOCAB), options)) {
            assertFalse(e.samplesOnDevice());
            hostSampled = e.generate(requests);
        }
    }

    /**
     * Mixed requests: greedy and seeded sampling (temperature, top-k, top-p, min-p), penalties, min_new_tokens
     * (EOS suppressed for a while), stop ids, and log-probabilities (none, chosen only, top 3).
     */
    static List<GenerationRequest> requests() {
        Random r = new Random(2024);
        List<GenerationRequest> list = new ArrayList<>();
        for (GenerationRequest base : TestRequests.mixed(REQUESTS, VOCAB, MAX_PROMPT, MAX_NEW, 77)) {
            SamplingParams b = base.sampling();
            int i = list.size();
            SamplingParams p = new SamplingParams(b.temperature(), b.topK(), b.topP(), i % 5 == 1 ? 0.05 : 0,
                    b.repetitionPenalty(), i % 4 == 1 ? 0.5 : 0, i % 4 == 3 ? 0.3 : 0, b.maxNewTokens(),
                    i % 6 == 0 ? 3 : 0, List.of(), i % 9 == 0 ? new int[]{3 + r.nextInt(VOCAB - 3)} : new int[0],
                    false, b.seed(), i % 3 - 1);
            list.add(new GenerationRequest(base.id(), base.promptTokenIds(), p));
        }
        return list;
    }

    @Test
    void referenceRunIsNonTrivial() {
        long stops = hostSampled.stream().filter(r -> r.finishReason() == FinishReason.STOP).count();
        long lengths = hostSampled.stream().filter(r -> r.finishReason() == FinishReason.LENGTH).count();
        assertTrue(stops >= 10 && lengths >= 10, "want both EOS and length finishes, got " + stops + " and " + lengths);
        assertTrue(hostSampled.stream().allMatch(r -> r.error() == null), "no request may fail");
        long distinct = hostSampled.stream().map(r -> Arrays.toString(r.tokenIds())).distinct().count();
        assertTrue(distinct > REQUESTS * 3 / 4, "outputs barely differ: " + distinct + " distinct of " + REQUESTS);
        long withTopLogprobs = hostSampled.stream().filter(r -> r.logprobs() != null && !r.logprobs().isEmpty()
                && r.logprobs().get(0).topIds().length == 1).count();
        assertTrue(withTopLogprobs > 10, "top log-probabilities were meant to be compared, got " + withTopLogprobs);
    }

    @ParameterizedTest(name = "batch {0}, step tokens {1}, chunk {2}, blocks {3}, device threads {4}")
    @CsvSource({
            "32,  2048, 64, 4096, 1",
            "7,   256,  5,  4096, 3",
            "120, 2048, 16, 4096, 4",
            "64,  512,  32, 24,   2",
    })
    void deviceSamplingGivesTheHostsTokens(int batch, int stepTokens, int chunk, int blocks, int threads)
            throws InterruptedException {
        EngineOptions options = new EngineOptions(batch, stepTokens, chunk, 1024, true, 0, 2);
        try (Engine e = new Engine(simulated(16, blocks, threads), new WordTokenizer(VOCAB), options)) {
            assertTrue(e.samplesOnDevice());
            List<GenerationResult> device = e.generate(requests);
            assertNull(TestRequests.firstDifference(hostSampled, device));
            for (int i = 0; i < REQUESTS; i++) {
                GenerationResult h = hostSampled.get(i);
                GenerationResult d = device.get(i);
                assertEquals(h.text(), d.text(), h.id());
                assertEquals(h.error(), d.error(), h.id());
                assertLogprobsEqual(h.logprobs(), d.logprobs(), h.id());
            }
            if (blocks < 100) assertTrue(e.preemptions() > 0, "the small KV pool was meant to force preemption");
            assertEquals(REQUESTS, e.metrics().finishedRequests());
        }
    }

    /** A row the device could not sample ends its request with the sampler's message; the others go on. */
    @Test
    void aRowThatFailsToSampleEndsOnlyItsRequest() throws InterruptedException {
        ModelBackend failing = new SamplingOverride(simulated(16, 4096, 1), 1, t -> SampledToken.failed("every token is NaN"));
        try (Engine e = new Engine(failing, new WordTokenizer(VOCAB), EngineOptions.defaults())) {
            List<GenerationResult> results = e.generate(requests.subList(0, 4));
            GenerationResult bad = results.get(1);
            assertEquals(FinishReason.ERROR, bad.finishReason());
            assertEquals("sampling failed for request " + bad.id() + ": every token is NaN", bad.error());
            for (int i : new int[]{0, 2, 3}) {
                assertNull(TestRequests.firstDifference(List.of(hostSampled.get(i)), List.of(results.get(i))));
            }
        }
    }

    /** A sampling backend that returns no token, or no log-probabilities where asked, breaks its contract. */
    @Test
    void aBrokenSampledTokenFailsTheEngine() throws InterruptedException {
        assertEngineFails(requests.get(0), t -> null, "no sampled token");
        assertTrue(requests.get(1).sampling().logprobs() >= 0);
        assertEngineFails(requests.get(1), t -> SampledToken.chosen(new Sampler.Choice(t.choice().tokenId(), null)),
                "no log-probabilities where they were asked");
        assertEngineFails(requests.get(0), t -> SampledToken.chosen(new Sampler.Choice(VOCAB, null)),
                "token id " + VOCAB + " outside the vocabulary");
    }

    private static void assertEngineFails(GenerationRequest request, UnaryOperator<SampledToken> breakage, String message)
            throws InterruptedException {
        ModelBackend broken = new SamplingOverride(simulated(16, 4096, 1), 0, breakage);
        try (Engine e = new Engine(broken, new WordTokenizer(VOCAB), EngineOptions.defaults())) {
            var handle = e.submit(request, null);
            ExecutionException thrown = assertThrows(ExecutionException.class, () -> handle.result().get());
            assertInstanceOf(EngineFailedException.class, thrown.getCause());
            assertTrue(thrown.getCause().getMessage().contains(message), thrown.getCause().getMessage());
        }
    }

    static SimulatedGpuBackend simulated(int blockSize, int blocks, int deviceSamplingThreads) {
        return new SimulatedGpuBackend(TinyAttentionBackend.config(VOCAB, 4096), blockSize, blocks, Roofline.instant(),
                0.04, deviceSamplingThreads);
    }

    static void assertLogprobsEqual(List<TokenLogprob> expected, List<TokenLogprob> actual, String id) {
        if (expected == null) {
            assertNull(actual, id);
            return;
        }
        assertNotNull(actual, id);
        assertEquals(expected.size(), actual.size(), id);
        for (int i = 0; i < expected.size(); i++) {
            TokenLogprob e = expected.get(i);
            TokenLogprob a = actual.get(i);
            String where = id + " token " + i;
            assertEquals(e.tokenId(), a.tokenId(), where);
            assertEquals(e.logprob(), a.logprob(), 0f, where);
            assertEquals(Arrays.toString(e.topIds()), Arrays.toString(a.topIds()), where);
            assertEquals(Arrays.toString(e.topLogprobs()), Arrays.toString(a.topLogprobs()), where);
        }
    }

    /** Replaces the sampled token of the chunks of one sequence id. */
    private record SamplingOverride(SimulatedGpuBackend inner, long sequenceId, UnaryOperator<SampledToken> replace)
            implements ModelBackend {
        @Override public LlamaConfig config() { return inner.config(); }
        @Override public int kvBlockSize() { return inner.kvBlockSize(); }
        @Override public int kvBlockCount() { return inner.kvBlockCount(); }
        @Override public String describe() { return "overriding " + inner.describe(); }
        @Override public boolean samplesTokens() { return inner.samplesTokens(); }
        @Override public void close() { inner.close(); }

        @Override
        public StepOutput execute(StepInput input) {
            StepOutput out = inner.execute(input);
            List<SampledToken> sampled = new ArrayList<>(out.sampled());
            for (int i = 0; i < sampled.size(); i++) {
                if (input.chunks().get(i).sequenceId() == sequenceId && sampled.get(i) != null) {
                    sampled.set(i, replace.apply(sampled.get(i)));
                }
            }
            return new StepOutput(out.logits(), sampled);
        }
    }
}
