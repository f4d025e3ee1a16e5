package dev.sparkllm.engine.sampling;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenDrawTest {

    @Test
    void splitMix64IsTheIndexthOutputOfSplittableRandom() {
        for (long seed : new long[]{0, 1, 42, -7, Long.MAX_VALUE}) {
            SplittableRandom reference = new SplittableRandom(seed);
            for (int index = 0; index < 50; index++) {
                assertEquals(reference.nextLong(), TokenDraw.splitMix64(seed, index), "seed " + seed + " index " + index);
            }
        }
    }

    @Test
    void weightBitsLeaveRoomForTheWholeVocabulary() {
        assertEquals(47, TokenDraw.weightBits(32000));   // 32000 < 2^15
        assertEquals(45, TokenDraw.weightBits(128256));  // 128256 < 2^17
        for (int v : new int[]{1, 2, 3, 1024, 32000, 32001, 128256, 256000}) {
            long max = 1L << TokenDraw.weightBits(v);
            assertTrue(Math.multiplyHigh(max, v) == 0 && max * v > 0 && max * v < (1L << 62), "vocab " + v);
        }
    }

    @Test
    void fixedPointExpMatchesMathExpClosely() {
        int w = TokenDraw.weightBits(32000);
        double scale = Math.scalb(1.0, w);
        assertEquals(1L << w, TokenDraw.fixedPointExp(0.0, w));
        for (int i = 0; i <= 20000; i++) {
            double d = -i * 0.0015;  // 0 down to -30
            double expected = Math.exp(d) * scale;
            long actual = TokenDraw.fixedPointExp(d, w);
            assertEquals(expected, actual, expected * 1e-13 + 1.0, "d=" + d);
        }
        assertEquals(0, TokenDraw.fixedPointExp(-40, w));
        assertEquals(0, TokenDraw.fixedPointExp(Double.NEGATIVE_INFINITY, w));
    }

    @Test
    void weightsFollowTheTemperature() {
        int w = TokenDraw.weightBits(3);
        float ln2 = (float) Math.log(2);
        // At T = 0.5, a logit gap of ln2 becomes a factor 4; at T = 2, a factor sqrt(2).
        long[] cold = TokenDraw.weights(new float[]{0f, -ln2, 7f}, 2, 0.5);
        assertEquals(1L << w, cold[0]);
        assertEquals(Math.scalb(0.25, w), cold[1], Math.scalb(1e-7, w));
        assertEquals(2, cold.length, "padding beyond the vocabulary is ignored");
        long[] hot = TokenDraw.weights(new float[]{0f, -ln2}, 2, 2.0);
        assertEquals(Math.scalb(Math.sqrt(0.5), w), hot[1], Math.scalb(1e-7, w));
    }

    @Test
    void topPDropsTheTailWhoseCumulativeProbabilityIsAtMostOneMinusP() {
        // probabilities 0.5, 0.3, 0.2 (ids shuffled): ascending cumulative 0.2, 0.5, 1.0
        assertArrayEquals(new long[]{0, 500, 0}, topP(new long[]{300, 500, 200}, 0.5));
        assertArrayEquals(new long[]{300, 500, 0}, topP(new long[]{300, 500, 200}, 0.6));
        assertArrayEquals(new long[]{300, 500, 0}, topP(new long[]{300, 500, 200}, 0.8));
        assertArrayEquals(new long[]{300, 500, 200}, topP(new long[]{300, 500, 200}, 0.81));
    }

    @Test
    void topPEdgeCases() {
        assertArrayEquals(new long[]{300, 500, 200}, topP(new long[]{300, 500, 200}, 1.0));
        // p = 0 still keeps the single most likely token (Hugging Face's min_tokens_to_keep)
        assertArrayEquals(new long[]{0, 500, 0}, topP(new long[]{300, 500, 200}, 0.0));
        // ties are ranked by id, lowest first
        assertArrayEquals(new long[]{100, 100, 0, 0}, topP(new long[]{100, 100, 100, 100}, 0.5));
        assertArrayEquals(new long[]{100, 100, 100, 0}, topP(new long[]{100, 100, 100, 100}, 0.51));
        // tokens already removed (weight 0) stay removed
        assertArrayEquals(new long[]{0, 10, 0, 10}, topP(new long[]{0, 10, 0, 10}, 0.9));
    }

    /** The fast top-p (filter, sort values) against the definition: rank every token, walk the ranks. */
    @Test
    void topPAgreesWithRankingEveryToken() {
        java.util.Random random = new java.util.Random(11);
        for (int trial = 0; trial < 2000; trial++) {
            int n = 1 + random.nextInt(40);
            float[] logits = new float[n];
            for (int i = 0; i < n; i++) logits[i] = random.nextInt(4) == 0 ? random.nextInt(3) : (float) random.nextGaussian() * 4;
            long[] weights = TokenDraw.weights(logits, n, 0.5 + random.nextDouble());
            double p = random.nextInt(10) == 0 ? random.nextInt(3) * 0.5 : random.nextDouble();
            long[] expected = weights.clone();
            Integer[] ranks = new Integer[n];
            for (int i = 0; i < n; i++) ranks[i] = i;
            java.util.Arrays.sort(ranks, (a, b) -> weights[a] != weights[b] ? Long.compare(weights[b], weights[a]) : Integer.compare(a, b));
            long total = java.util.Arrays.stream(weights).sum();
            long before = 0;
            for (int r = 0; r < n; r++) {
                if (r > 0 && !((double) before < p * (double) total)) expected[ranks[r]] = 0;
                before += weights[ranks[r]];
            }
            if (p >= 1) expected = weights.clone();
            assertArrayEquals(expected, topP(weights, p), "trial " + trial + ", p " + p);
        }
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheTopProbability() {
        int v = 4;
        long top = 1L << TokenDraw.weightBits(v);
        long[] weights = {top / 16, top, top / 2, top / 11, top / 9};
        TokenDraw.minP(weights, v, 0.1);
        // below 0.1 of the top probability (1/16, 1/11) dropped; 1/9 and 1/2 kept
        assertArrayEquals(new long[]{0, top, top / 2, 0, top / 9}, weights);

        long[] half = {top / 2, top};
        TokenDraw.minP(half, v, 0.5);
        assertArrayEquals(new long[]{top / 2, top}, half, "a token exactly at the threshold is kept");

        long[] off = {1, top};
        TokenDraw.minP(off, v, 0.0);
        assertArrayEquals(new long[]{1, top}, off);
    }

    @Test
    void inverseCdfPicksTheTokenWhoseIntervalHoldsTheUniformNumber() {
        long half = Long.MIN_VALUE;  // unsigned 2^63: u = 0.5
        assertEquals(0, TokenDraw.inverseCdf(new long[]{1, 1}, 0));
        assertEquals(0, TokenDraw.inverseCdf(new long[]{1, 1}, half - 1));
        assertEquals(1, TokenDraw.inverseCdf(new long[]{1, 1}, half));
        assertEquals(1, TokenDraw.inverseCdf(new long[]{0, 5, 0, 5}, 0));
        assertEquals(3, TokenDraw.inverseCdf(new long[]{0, 5, 0, 5}, -1));
        // u = 0.75 over weights 1:2:1 -> cumulative 0.25, 0.75, 1.0 -> boundary belongs to the next token
        assertEquals(2, TokenDraw.inverseCdf(new long[]{1, 2, 1}, 0xC000000000000000L));
        assertEquals(1, TokenDraw.inverseCdf(new long[]{1, 2, 1}, 0xBFFFFFFFFFFFFFFFL));
    }

    private static long[] topP(long[] weights, double p) {
        long[] copy = weights.clone();
        TokenDraw.topP(copy, p);
        return copy;
    }
}
