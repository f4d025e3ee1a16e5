package dev.sparkllm.engine.core;

import dev.sparkllm.engine.api.EngineMetrics;
import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.sampling.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Rows of a job share a system prompt: with prefix caching its KV blocks are computed once and reused, the
 * prefill work drops by exactly the shared full blocks, and the results do not change.
 */
class PrefixSharingTest {

    static final int VOCAB = 96;
    static final int BLOCK = 16;
    static final int SYSTEM = 64;   // four full blocks
    static final int ROWS = 32;

    @Test
    void sharedSystemPromptIsComputedOnceAndResultsAreUnchanged() throws InterruptedException {
        Random r = new Random(11);
        int[] system = TestRequests.randomTokens(r, SYSTEM, VOCAB);
        List<GenerationRequest> requests = new ArrayList<>();
        int promptTokens = 0;
        for (int i = 0; i < ROWS; i++) {
            int[] suffix = TestRequests.randomTokens(r, 5 + r.nextInt(40), VOCAB);
            int[] prompt = new int[SYSTEM + suffix.length];
            System.arraycopy(system, 0, prompt, 0, SYSTEM);
            System.arraycopy(suffix, 0, prompt, SYSTEM, suffix.length);
            promptTokens += prompt.length;
            SamplingParams p = i % 2 == 0 ? SamplingParams.greedy(20)
                    : new SamplingParams(0.8, 0, 0.9, 0, 1, 0, 0, 20, 0, List.of(), new int[0], false, (long) i, -1);
            requests.add(new GenerationRequest("row" + i, prompt, p));
        }

        Run off = run(requests, false);
        Run on = run(requests, true);

        assertNull(TestRequests.firstDifference(off.results, on.results));
        // Without sharing every prompt token is computed; with it, each row after the first reuses the
        // system prompt's four blocks.
        assertEquals(promptTokens, off.metrics.prefillTokens());
        assertEquals(0, off.metrics.prefixCacheHitTokens());
        assertEquals((ROWS - 1) * SYSTEM, on.metrics.prefixCacheHitTokens());
        assertEquals(promptTokens - (ROWS - 1) * SYSTEM, on.metrics.prefillTokens());
        // The backend's own count agrees: it computed exactly that much less.
        assertEquals(off.backendTokens - (ROWS - 1) * SYSTEM, on.backendTokens);
    }

    record Run(List<GenerationResult> results, EngineMetrics metrics, long backendTokens) { }

    /** The first row alone (so its blocks are cached), then the rest together. */
    private static Run run(List<GenerationRequest> requests, boolean prefixCaching) throws InterruptedException {
        TinyAttentionBackend backend = new TinyAttentionBackend(VOCAB, BLOCK, 1024, 2.0f);
        try (Engine e = new Engine(backend, new WordTokenizer(VOCAB), EngineOptions.defaults().withPrefixCaching(prefixCaching))) {
            List<GenerationResult> results = new ArrayList<>(e.generate(requests.subList(0, 1)));
            results.addAll(e.generate(requests.subList(1, requests.size())));
            return new Run(results, e.metrics(), backend.computedTokens);
        }
    }
}
