package dev.sparkllm.engine.core;

import dev.sparkllm.engine.api.GenerationEngine;
import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.sampling.SamplingParams;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Request sets and result comparison for engine tests. */
public final class TestRequests {

    private TestRequests() {
    }

    /**
     * {@code n} requests of mixed shape: prompts of 1..maxPrompt tokens (a third of them starting with one
     * shared 24-token prefix, as rows of a job share a system prompt), 4..maxNew new tokens, half greedy and
     * half sampled with a fixed seed each.
     */
    public static List<GenerationRequest> mixed(int n, int vocabSize, int maxPrompt, int maxNew, long seed) {
        Random r = new Random(seed);
        int[] shared = randomTokens(r, 24, vocabSize);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int length = 1 + r.nextInt(maxPrompt);
            int[] prompt = randomTokens(r, length, vocabSize);
            if (i % 3 == 0 && length > shared.length) System.arraycopy(shared, 0, prompt, 0, shared.length);
            int newTokens = 4 + r.nextInt(maxNew - 3);
            SamplingParams p = i % 2 == 0 ? SamplingParams.greedy(newTokens)
                    : new SamplingParams(0.9, 20, 0.95, 0, 1.1, 0, 0, newTokens, 0, List.of(), new int[0], false,
                    r.nextLong(), -1);
            requests.add(new GenerationRequest("r" + i, prompt, p));
        }
        return requests;
    }

    public static int[] randomTokens(Random r, int length, int vocabSize) {
        int[] t = new int[length];
        for (int i = 0; i < length; i++) t[i] = 3 + r.nextInt(vocabSize - 3);
        return t;
    }

    /** Each request alone: submitted only after the previous one finished. */
    public static List<GenerationResult> oneByOne(GenerationEngine engine, List<GenerationRequest> requests) throws InterruptedException {
        List<GenerationResult> results = new ArrayList<>();
        for (GenerationRequest r : requests) results.add(engine.submit(r, null).await());
        return results;
    }

    /** A readable account of the first difference between two result lists, or null when their tokens agree. */
    public static String firstDifference(List<GenerationResult> expected, List<GenerationResult> actual) {
        if (expected.size() != actual.size()) return "result counts differ: " + expected.size() + " vs " + actual.size();
        for (int i = 0; i < expected.size(); i++) {
            GenerationResult e = expected.get(i);
            GenerationResult a = actual.get(i);
            if (!Arrays.equals(e.tokenIds(), a.tokenIds()) || e.finishReason() != a.finishReason()) {
                return "request " + e.id() + ": expected " + e.finishReason() + " " + Arrays.toString(e.tokenIds())
                        + " but got " + a.finishReason() + " " + Arrays.toString(a.tokenIds())
                        + (a.error() == null ? "" : " error " + a.error());
            }
        }
        return null;
    }
}
