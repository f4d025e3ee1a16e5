package dev.sparkllm.engine.sampling;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Each processor against small examples worked out by hand from its definition. */
class LogitAdjustmentsTest {

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOncePerDistinctToken() {
        float[] logits = {2f, -2f, 0.5f, 1f, 0f};
        // token 1 occurs in prompt and twice in output: penalised once; token 4 (logit 0) stays 0; 3 unseen
        LogitAdjustments.repetitionPenalty(logits, 5, 2f, new int[]{0, 1, 4}, new int[]{1, 1, 2, 99}, 3);
        assertArrayEquals(new float[]{1f, -4f, 0.25f, 1f, 0f}, logits);
    }

    @Test
    void repetitionPenaltyOnlyLooksAtTheValidPartOfTheOutput() {
        float[] logits = {3f, 3f};
        LogitAdjustments.repetitionPenalty(logits, 2, 1.5f, new int[0], new int[]{0, 1}, 1);
        assertArrayEquals(new float[]{2f, 3f}, logits);
    }

    @Test
    void repetitionPenaltyBelowOneRewardsRepeats() {
        float[] logits = {-1f, 1f};
        LogitAdjustments.repetitionPenalty(logits, 2, 0.5f, new int[]{0, 1}, new int[0], 0);
        assertArrayEquals(new float[]{-0.5f, 2f}, logits);
    }

    @Test
    void presenceAndFrequencyPenaltiesCountOutputTokensOnly() {
        float[] logits = {1f, 1f, 1f, 1f};
        // output: token 0 twice, token 2 once; token 3 only in the (ignored) tail past outputLength
        LogitAdjustments.presenceAndFrequencyPenalties(logits, 4, 0.5f, 0.25f, new int[]{0, 2, 0, 3}, 3);
        assertArrayEquals(new float[]{1f - 0.5f - 0.5f, 1f, 1f - 0.25f - 0.5f, 1f}, logits);
    }

    @Test
    void negativePenaltiesEncourageRepeats() {
        float[] logits = {0f, 0f};
        LogitAdjustments.presenceAndFrequencyPenalties(logits, 2, -1f, 0f, new int[]{1}, 1);
        assertArrayEquals(new float[]{0f, 1f}, logits);
    }

    @Test
    void suppressIgnoresIdsOutsideTheVocabulary() {
        float[] logits = {1f, 2f, 3f};
        LogitAdjustments.suppress(logits, 3, new int[]{2, 7, -1});
        assertArrayEquals(new float[]{1f, 2f, NEG_INF}, logits);
    }

    @Test
    void topKKeepsEveryTokenTiedWithTheKth() {
        float[] logits = {1f, 3f, 3f, 2f};
        LogitAdjustments.topK(logits, 4, 1);
        assertArrayEquals(new float[]{NEG_INF, 3f, 3f, NEG_INF}, logits);

        float[] three = {1f, 3f, 3f, 2f};
        LogitAdjustments.topK(three, 4, 3);
        assertArrayEquals(new float[]{NEG_INF, 3f, 3f, 2f}, three);
    }

    @Test
    void topKAtOrBeyondTheVocabularyOrZeroChangesNothing() {
        for (int k : new int[]{0, 4, 5, 1000}) {
            float[] logits = {1f, 3f, 3f, 2f};
            LogitAdjustments.topK(logits, 4, k);
            assertArrayEquals(new float[]{1f, 3f, 3f, 2f}, logits, "k=" + k);
        }
    }

    @Test
    void topKIgnoresPaddingBeyondTheVocabulary() {
        float[] logits = {1f, 2f, 3f, 100f};
        LogitAdjustments.topK(logits, 3, 1);
        assertArrayEquals(new float[]{NEG_INF, NEG_INF, 3f, 100f}, logits);
    }

    @Test
    void kthLargestAgreesWithSorting() {
        java.util.Random random = new java.util.Random(3);
        for (int trial = 0; trial < 500; trial++) {
            int n = 1 + random.nextInt(60);
            float[] values = new float[n];
            // few distinct values, so ties are everywhere; some -infinity as after suppression
            for (int i = 0; i < n; i++) values[i] = random.nextInt(8) == 0 ? NEG_INF : random.nextInt(6) - 2.5f;
            float[] sorted = values.clone();
            java.util.Arrays.sort(sorted);
            int k = 1 + random.nextInt(n);
            assertEquals(sorted[n - k], LogitAdjustments.kthLargest(values.clone(), k), "trial " + trial);
        }
    }

    @Test
    void argmaxTakesTheLowestIdAmongTies() {
        assertEquals(1, LogitAdjustments.argmax(new float[]{0f, 5f, 5f, 5f}, 4));
        assertEquals(0, LogitAdjustments.argmax(new float[]{-1f, -1f}, 2));
    }

    @Test
    void argmaxRefusesWhenEverythingIsSuppressed() {
        assertThrows(IllegalStateException.class, () -> LogitAdjustments.argmax(new float[]{NEG_INF, NEG_INF}, 2));
    }

    @Test
    void nanLogitsAreRejectedWithTheTokenNamed() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> LogitAdjustments.requireNoNaN(new float[]{0f, Float.NaN}, 2));
        assertEquals("logit of token 1 is NaN; the model's output is invalid", e.getMessage());
    }
}
