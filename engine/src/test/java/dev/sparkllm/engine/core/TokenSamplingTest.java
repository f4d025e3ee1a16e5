package dev.sparkllm.engine.core;

import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.sampling.SamplingParams;
import dev.sparkllm.engine.sampling.StopConditions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Choosing tokens on several threads gives exactly the tokens chosen on one. */
class TokenSamplingTest {

    static final int VOCAB = 500;
    static final int[] EOS = {2};

    @Test
    void threadsDoNotChangeTheChosenTokens() {
        int[][] one = run(1, Long.MAX_VALUE);
        int[][] many = run(4, 0);
        for (int i = 0; i < one.length; i++) assertArrayEquals(one[i], many[i], "sequence " + i);
    }

    /** 100 sequences, 12 steps of random logits each; returns every sequence's tokens. */
    private static int[][] run(int threads, long parallelMinLogits) {
        List<Sequence> seqs = new ArrayList<>();
        WordTokenizer tokenizer = new WordTokenizer(VOCAB);
        for (int i = 0; i < 100; i++) {
            SamplingParams p = i % 3 == 0 ? SamplingParams.greedy(12).withSeed(0L)
                    : new SamplingParams(0.9, 40, 0.95, 0.01, 1.2, 0.1, 0.1, 12, 0, List.of(), new int[0], true, (long) i, -1);
            GenerationRequest r = new GenerationRequest("s" + i, new int[]{1, 3 + i}, p);
            Sequence s = new Sequence(i, r, p, p.seed(), new StopConditions(p, tokenizer, EOS), null);
            s.status = Sequence.Status.RUNNING;
            seqs.add(s);
        }
        List<String> finished = new ArrayList<>();
        try (TokenSampling sampling = new TokenSampling(VOCAB, EOS, threads, parallelMinLogits,
                (s, reason, error) -> {
                    s.status = Sequence.Status.FINISHED;
                    finished.add(s.requestId() + " " + reason + (error == null ? "" : " " + error));
                })) {
            Random r = new Random(5);
            for (int step = 0; step < 12; step++) {
                List<float[]> logits = new ArrayList<>();
                for (int i = 0; i < seqs.size(); i++) {
                    float[] l = new float[VOCAB];
                    for (int k = 0; k < VOCAB; k++) l[k] = (float) (3 * r.nextGaussian());
                    logits.add(l);
                }
                sampling.advance(seqs, logits, 4096);
            }
        }
        assertEquals(seqs.size(), finished.size());
        return seqs.stream().map(s -> Arrays.copyOf(s.output, s.outputLength)).toArray(int[][]::new);
    }
}
