package dev.sparkllm.engine.core;

import dev.sparkllm.engine.api.FinishReason;
import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.backend.ModelBackend;
import dev.sparkllm.engine.backend.sim.Roofline;
import dev.sparkllm.engine.backend.sim.SimulatedGpuBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A request's tokens do not depend on the batch it runs in, on prefill chunk boundaries, on prefix sharing or
 * on preemption: 64 requests run alone give the reference; every other arrangement must match it exactly.
 * Two KV-dependent backends: the tiny attention model (float attention over the paged cache) and the
 * simulated GPU (a hash chain through the paged cache).
 */
class EngineDeterminismTest {

    static final int VOCAB = 96;
    static final int REQUESTS = 64;
    static final int MAX_PROMPT = 80;
    static final int MAX_NEW = 48;
    static final int BIG_POOL = 4096;

    static List<GenerationRequest> requests;
    static List<GenerationResult> attentionAlone;
    static List<GenerationResult> simulatedAlone;

    @BeforeAll
    static void runAlone() throws InterruptedException {
        requests = TestRequests.mixed(REQUESTS, VOCAB, MAX_PROMPT, MAX_NEW, 42);
        EngineOptions alone = EngineOptions.defaults().withMaxBatchSequences(1).withPrefixCaching(false);
        try (Engine e = new Engine(attention(16, BIG_POOL), new WordTokenizer(VOCAB), alone)) {
            attentionAlone = TestRequests.oneByOne(e, requests);
        }
        try (Engine e = new Engine(simulated(16, BIG_POOL), new WordTokenizer(VOCAB), alone)) {
            simulatedAlone = TestRequests.oneByOne(e, requests);
        }
    }

    @Test
    void referenceRunIsNonTrivial() {
        // The comparisons below mean something only if outputs vary in length and content and some stop at EOS.
        for (List<GenerationResult> results : List.of(attentionAlone, simulatedAlone)) {
            long stops = results.stream().filter(r -> r.finishReason() == FinishReason.STOP).count();
            long lengths = results.stream().filter(r -> r.finishReason() == FinishReason.LENGTH).count();
            assertTrue(stops >= 5 && lengths >= 5, "want both EOS and length finishes, got " + stops + " and " + lengths);
            long distinct = results.stream().map(r -> Arrays.toString(r.tokenIds())).distinct().count();
            assertTrue(distinct > REQUESTS * 3 / 4, "outputs barely differ: " + distinct + " distinct of " + REQUESTS);
        }
    }

    @ParameterizedTest(name = "batch {0}, step tokens {1}, chunk {2}, block size {3}, blocks {4}, prefix cache {5}")
    @CsvSource({
            "7,   2048, 512, 16, 4096, true",
            "64,  2048, 16,  16, 4096, true",
            "256, 256,  3,   16, 4096, true",
            "64,  512,  7,   4,  4096, false",
            "64,  2048, 512, 4,  40,   true",
            "256, 300,  5,   4,  40,   false",
            "256, 2048, 32,  16, 12,   true",
    })
    void tokensAreIndependentOfBatchingChunkingAndPreemption(int batch, int stepTokens, int chunk, int blockSize,
                                                              int blocks, boolean prefix) throws InterruptedException {
        EngineOptions options = new EngineOptions(batch, stepTokens, chunk, 1024, prefix, 0);
        check(options, blockSize, blocks, EngineDeterminismTest::attention, attentionAlone);
        check(options, blockSize, blocks, EngineDeterminismTest::simulated, simulatedAlone);
    }

    private static void check(EngineOptions options, int blockSize, int blocks,
                              BiFunction<Integer, Integer, ModelBackend> backend, List<GenerationResult> expected)
            throws InterruptedException {
        try (Engine e = new Engine(backend.apply(blockSize, blocks), new WordTokenizer(VOCAB), options)) {
            List<GenerationResult> results = e.generate(requests);
            assertNull(TestRequests.firstDifference(expected, results));
            boolean smallPool = (long) blocks * blockSize < (long) REQUESTS * (MAX_PROMPT + MAX_NEW) / 4;
            if (smallPool) assertTrue(e.preemptions() > 0, "the small KV pool was meant to force preemption");
            assertEquals(0, e.metrics().kvBlocksUsed(), "blocks still held after every request finished");
        }
    }

    static ModelBackend attention(int blockSize, int blocks) {
        return new TinyAttentionBackend(VOCAB, blockSize, blocks, 2.5f);
    }

    static ModelBackend simulated(int blockSize, int blocks) {
        return new SimulatedGpuBackend(TinyAttentionBackend.config(VOCAB, 4096), blockSize, blocks, Roofline.instant(), 0.04);
    }
}
