package dev.sparkllm.engine.sampling;

import dev.sparkllm.engine.api.GenerationResult;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {

    private static final int[] NONE = new int[0];
    private static final int EOS = 2;

    /** temperature, topK, topP, minP, repetition, presence, frequency, minNew, logprobs; the rest neutral. */
    private static SamplingParams params(double temperature, int topK, double topP, double minP, double repetition,
                                         double presence, double frequency, int minNew, int logprobs) {
        return new SamplingParams(temperature, topK, topP, minP, repetition, presence, frequency, 100, minNew,
                List.of(), new int[]{7}, false, null, logprobs);
    }

    private static SamplingParams sampling(double temperature) {
        return params(temperature, 0, 1, 0, 1, 0, 0, 0, -1);
    }

    @Test
    void greedyTakesTheArgmaxAfterPenalties() {
        Sampler sampler = new Sampler(3, new int[]{EOS});
        SamplingParams p = params(0, 0, 1, 0, 2, 0, 0, 0, -1);
        // token 0 (5.0) is in the prompt: 5/2 = 2.5 < 4.9
        assertEquals(1, sampler.choose(new float[]{5f, 4.9f, 0f}, p, 0, new int[]{0}, NONE, 0).tokenId());
        assertEquals(0, sampler.choose(new float[]{5f, 4.9f, 0f}, SamplingParams.greedy(10), 0, new int[]{0}, NONE, 0).tokenId());
    }

    @Test
    void greedyBreaksTiesTowardsTheLowestId() {
        Sampler sampler = new Sampler(4, new int[]{EOS});
        assertEquals(1, sampler.choose(new float[]{1f, 3f, 3f, 3f}, SamplingParams.greedy(5), 9, new int[]{1}, NONE, 0).tokenId());
    }

    @Test
    void minNewTokensSuppressesEosAndStopIdsUntilReached() {
        Sampler sampler = new Sampler(8, new int[]{EOS});
        SamplingParams p = params(0, 0, 1, 0, 1, 0, 0, 2, -1);
        float[] eosBest = {0f, 1f, 9f, 0f, 0f, 0f, 0f, 8f};  // EOS first, stop id 7 second, then 1
        int[] out = {5, 5};
        assertEquals(1, sampler.choose(eosBest.clone(), p, 0, new int[]{1}, out, 0).tokenId());
        assertEquals(1, sampler.choose(eosBest.clone(), p, 0, new int[]{1}, out, 1).tokenId());
        assertEquals(EOS, sampler.choose(eosBest.clone(), p, 0, new int[]{1}, out, 2).tokenId());
    }

    @Test
    void sameSeedIndexAndLogitsGiveTheSameTokenWhateverElseIsInTheBatch() {
        Sampler sampler = new Sampler(50, new int[]{EOS});
        float[] logits = new float[50];
        for (int i = 0; i < 50; i++) logits[i] = (float) Math.sin(i);  // fairly flat
        SamplingParams p = sampling(1.0);
        int[] first = new int[40];
        for (int index = 0; index < 40; index++) {
            first[index] = sampler.choose(logits.clone(), p, 1234, new int[]{1}, new int[40], index).tokenId();
        }
        // Interleave with other sequences' calls in reverse order: nothing may change.
        for (int index = 39; index >= 0; index--) {
            sampler.choose(logits.clone(), p, 99, new int[]{1}, new int[40], index);
            assertEquals(first[index], new Sampler(50, new int[]{EOS})
                    .choose(logits.clone(), p, 1234, new int[]{1}, new int[40], index).tokenId());
        }
        assertTrue(java.util.Arrays.stream(first).distinct().count() > 5, "the token index must change the draw");
    }

    @Test
    void drawsAgreeWithAnIndependentDoublePrecisionInverseCdf() {
        float[] logits = {0.3f, -1.2f, 2.0f, 0.0f, 1.1f, -0.4f};
        Sampler sampler = new Sampler(6, new int[]{EOS});
        double temperature = 0.8;
        double[] cdf = new double[6];
        double max = 2.0, sum = 0;
        for (int i = 0; i < 6; i++) sum += Math.exp((logits[i] - max) / temperature);
        double running = 0;
        for (int i = 0; i < 6; i++) {
            running += Math.exp((logits[i] - max) / temperature) / sum;
            cdf[i] = running;
        }
        int checked = 0;
        for (long seed = 0; seed < 3000; seed++) {
            double u = new BigDecimal(new BigInteger(Long.toUnsignedString(TokenDraw.splitMix64(seed, 3))))
                    .divide(new BigDecimal(BigInteger.ONE.shiftLeft(64))).doubleValue();
            int expected = 0;
            while (expected < 5 && u >= cdf[expected]) expected++;
            boolean nearBoundary = false;
            for (double c : cdf) nearBoundary |= Math.abs(u - c) < 1e-9;
            if (nearBoundary) continue;
            checked++;
            assertEquals(expected, sampler.choose(logits.clone(), sampling(temperature), seed, new int[]{0}, new int[4], 3).tokenId(),
                    "seed " + seed + ", u " + u);
        }
        assertTrue(checked > 2990);
    }

    @Test
    void samplingFollowsTheDistributionChiSquare() {
        double[] probs = {0.1, 0.2, 0.3, 0.4};
        float[] logits = new float[4];
        for (int i = 0; i < 4; i++) logits[i] = (float) Math.log(probs[i]);
        // T = 1: the distribution itself.
        assertChiSquare(logits, sampling(1.0), probs);
        // T = 0.5: p^2, renormalised (0.01, 0.04, 0.09, 0.16)/0.30.
        assertChiSquare(logits, sampling(0.5), new double[]{1 / 30.0, 4 / 30.0, 9 / 30.0, 16 / 30.0});
        // top-k 2: the two most likely, renormalised.
        assertChiSquare(logits, params(1, 2, 1, 0, 1, 0, 0, 0, -1), new double[]{0, 0, 3 / 7.0, 4 / 7.0});
        // top-p 0.65: ascending cumulative 0.1, 0.3, 0.6, 1.0; drop <= 0.35 -> keep 0.3 and 0.4.
        assertChiSquare(logits, params(1, 0, 0.65, 0, 1, 0, 0, 0, -1), new double[]{0, 0, 3 / 7.0, 4 / 7.0});
        // min-p 0.6: keep p >= 0.24 -> 0.3 and 0.4.
        assertChiSquare(logits, params(1, 0, 1, 0.6, 1, 0, 0, 0, -1), new double[]{0, 0, 3 / 7.0, 4 / 7.0});
    }

    private static void assertChiSquare(float[] logits, SamplingParams p, double[] expected) {
        Sampler sampler = new Sampler(4, new int[]{EOS});
        int draws = 20000;
        int[] counts = new int[4];
        for (long seed = 0; seed < draws; seed++) {
            counts[sampler.choose(logits.clone(), p, seed * 31 + 5, new int[]{0}, new int[8], (int) (seed % 8)).tokenId()]++;
        }
        double chi2 = 0;
        int categories = 0;
        for (int i = 0; i < 4; i++) {
            if (expected[i] == 0) {
                assertEquals(0, counts[i], "token " + i + " must never be drawn");
                continue;
            }
            double e = expected[i] * draws;
            chi2 += (counts[i] - e) * (counts[i] - e) / e;
            categories++;
        }
        // Critical values at p = 0.001 for 1 and 3 degrees of freedom; seeds are fixed, so this cannot flake.
        double critical = categories == 2 ? 10.83 : 16.27;
        assertTrue(chi2 < critical, "chi-square " + chi2 + " for counts " + java.util.Arrays.toString(counts));
    }

    @Test
    void penaltiesRunBeforeTheWarpers() {
        Sampler sampler = new Sampler(3, new int[]{EOS});
        // Token 0 leads until the repetition penalty halves it (3 -> 1.5); top-k 1 then keeps only token 1.
        SamplingParams repetitionThenTopK = params(1, 1, 1, 0, 2, 0, 0, 0, -1);
        // Token 1 was generated twice: 2.9 - 2*1 - 1 = -0.1; min-p 0.5 then drops it against token 0 (3).
        SamplingParams penaltiesThenMinP = params(1, 0, 1, 0.5, 1, 1, 1, 0, -1);
        for (long seed = 0; seed < 200; seed++) {
            assertEquals(1, sampler.choose(new float[]{3f, 2.9f, 0f}, repetitionThenTopK, seed, new int[]{0}, NONE, 0).tokenId());
            assertEquals(0, sampler.choose(new float[]{3f, 2.9f, 0f}, penaltiesThenMinP, seed, new int[]{0}, new int[]{1, 1}, 2).tokenId());
        }
    }

    @Test
    void minNewTokensAlsoHoldsWhenSampling() {
        Sampler sampler = new Sampler(3, new int[]{EOS});
        SamplingParams p = params(1, 0, 1, 0, 1, 0, 0, 1, -1);
        for (long seed = 0; seed < 200; seed++) {
            assertNotEquals(EOS, sampler.choose(new float[]{0f, 0f, 5f}, p, seed, new int[]{0}, NONE, 0).tokenId());
        }
    }

    @Test
    void logprobsAreLogSoftmaxOfTheRawLogitsWithTheTopAlternatives() {
        float[] logits = {1f, 3f, 3f, -2f, 0.5f};
        double norm = 0;
        for (float l : logits) norm += Math.exp(l);
        double logZ = Math.log(norm);
        Sampler sampler = new Sampler(5, new int[]{EOS});
        // Penalties and temperature change the choice but not the reported log-probabilities.
        SamplingParams p = params(0, 0, 1, 0, 10, 0, 0, 0, 3);
        GenerationResult.TokenLogprob lp = sampler.choose(logits.clone(), p, 0, new int[]{1, 2}, NONE, 0).logprob();
        assertEquals(0, lp.tokenId());
        assertEquals(1 - logZ, lp.logprob(), 1e-6);
        assertArrayEquals(new int[]{1, 2, 0}, lp.topIds());
        assertArrayEquals(new float[]{(float) (3 - logZ), (float) (3 - logZ), (float) (1 - logZ)}, lp.topLogprobs(), 1e-6f);

        GenerationResult.TokenLogprob only = sampler.choose(logits.clone(), params(0, 0, 1, 0, 1, 0, 0, 0, 0),
                0, new int[]{1}, NONE, 0).logprob();
        assertEquals(1, only.tokenId());
        assertEquals(0, only.topIds().length);
        assertNull(sampler.choose(logits.clone(), sampling(0), 0, new int[]{1}, NONE, 0).logprob());
    }

    @Test
    void paddedLogitsBeyondTheVocabularyAreNeverChosen() {
        Sampler sampler = new Sampler(3, new int[]{EOS});
        float[] logits = {0f, 1f, 0f, 50f, 50f};
        assertEquals(1, sampler.choose(logits.clone(), SamplingParams.greedy(4), 0, new int[]{0}, NONE, 0).tokenId());
        for (long seed = 0; seed < 200; seed++) {
            int t = sampler.choose(logits.clone(), sampling(1), seed, new int[]{0}, NONE, 0).tokenId();
            assertTrue(t < 3, "token " + t);
        }
    }

    @Test
    void differentSeedsGiveDifferentStreams() {
        Sampler sampler = new Sampler(100, new int[]{EOS});
        float[] flat = new float[100];
        int same = 0;
        for (int index = 0; index < 50; index++) {
            int a = sampler.choose(flat.clone(), sampling(1), 1, new int[]{0}, new int[50], index).tokenId();
            int b = sampler.choose(flat.clone(), sampling(1), 2, new int[]{0}, new int[50], index).tokenId();
            if (a == b) same++;
        }
        assertNotEquals(50, same);
        assertTrue(same < 10, same + " of 50 equal");
    }
}
