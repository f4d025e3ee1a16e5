package dev.sparkllm.engine.sampling;

import java.util.Arrays;

/**
 * The logits processors that run before the random draw, each a small pure function on a {@code float[vocab]}
 * of logits, in the order {@link Sampler} applies them. Arithmetic is float32, as PyTorch does it in Hugging
 * Face {@code generate} and vLLM, so small examples computed by hand (or by either library) match.
 */
final class LogitAdjustments {

    private LogitAdjustments() {
    }

    /**
     * Hugging Face's repetition penalty: every distinct token of prompt and output has its logit divided by
     * {@code penalty} when positive (or zero) and multiplied by it when negative, so penalty > 1 always makes the
     * token less likely. Applied once per distinct token, however often it occurs.
     */
    static void repetitionPenalty(float[] logits, int vocabSize, float penalty,
                                  int[] promptTokenIds, int[] outputTokenIds, int outputLength) {
        if (penalty == 1f) return;
        for (int id : distinct(promptTokenIds, promptTokenIds.length, outputTokenIds, outputLength)) {
            if (id < 0 || id >= vocabSize) continue;
            float score = logits[id];
            logits[id] = score < 0 ? score * penalty : score / penalty;
        }
    }

    /**
     * vLLM's presence and frequency penalties, on output tokens only: {@code logit -= frequency * count} and
     * {@code logit -= presence} for every token that occurs at least once in the output.
     */
    static void presenceAndFrequencyPenalties(float[] logits, int vocabSize, float presence, float frequency,
                                              int[] outputTokenIds, int outputLength) {
        if (presence == 0f && frequency == 0f) return;
        int[] sorted = Arrays.copyOf(outputTokenIds, outputLength);
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; ) {
            int id = sorted[i];
            int count = 0;
            while (i < sorted.length && sorted[i] == id) { count++; i++; }
            if (id < 0 || id >= vocabSize) continue;
            logits[id] -= frequency * (float) count;
            logits[id] -= presence;
        }
    }

    /** Sets the logits of the given ids to -infinity (end-of-sequence and stop ids before min_new_tokens). */
    static void suppress(float[] logits, int vocabSize, int[] ids) {
        for (int id : ids) {
            if (id >= 0 && id < vocabSize) logits[id] = Float.NEGATIVE_INFINITY;
        }
    }

    /**
     * Hugging Face's top-k: every logit strictly below the k-th largest becomes -infinity, so tokens tied with
     * the k-th are all kept. k <= 0 or k >= vocabulary size changes nothing.
     */
    static void topK(float[] logits, int vocabSize, int k) {
        if (k <= 0 || k >= vocabSize) return;
        float kth = kthLargest(Arrays.copyOf(logits, vocabSize), k);
        for (int i = 0; i < vocabSize; i++) {
            if (logits[i] < kth) logits[i] = Float.NEGATIVE_INFINITY;
        }
    }

    /** The k-th largest value (1-based) of {@code values}, which it reorders: quickselect, O(n) on average. */
    static float kthLargest(float[] values, int k) {
        int target = values.length - k;  // its index in ascending order
        int lo = 0, hi = values.length - 1;
        while (lo < hi) {
            float pivot = values[(lo + hi) >>> 1];
            int i = lo, j = hi;
            while (i <= j) {
                while (values[i] < pivot) i++;
                while (values[j] > pivot) j--;
                if (i <= j) {
                    float t = values[i];
                    values[i++] = values[j];
                    values[j--] = t;
                }
            }
            if (target <= j) hi = j;
            else if (target >= i) lo = i;
            else return values[target];
        }
        return values[target];
    }

    /** Index of the largest logit, the lowest id among ties. */
    static int argmax(float[] logits, int vocabSize) {
        int best = 0;
        for (int i = 1; i < vocabSize; i++) {
            if (logits[i] > logits[best]) best = i;
        }
        if (logits[best] == Float.NEGATIVE_INFINITY) {
            throw new IllegalStateException("every token's logit is -infinity (all suppressed); nothing can be chosen");
        }
        return best;
    }

    /** Throws when a logit is NaN: the model produced garbage, and sampling from it would hide that. */
    static void requireNoNaN(float[] logits, int vocabSize) {
        for (int i = 0; i < vocabSize; i++) {
            if (Float.isNaN(logits[i])) {
                throw new IllegalStateException("logit of token " + i + " is NaN; the model's output is invalid");
            }
        }
    }

    /** The distinct ids of a[0..aLength) and b[0..bLength), ascending. */
    private static int[] distinct(int[] a, int aLength, int[] b, int bLength) {
        int[] all = new int[aLength + bLength];
        System.arraycopy(a, 0, all, 0, aLength);
        System.arraycopy(b, 0, all, aLength, bLength);
        Arrays.sort(all);
        int n = 0;
        for (int i = 0; i < all.length; i++) {
            if (i == 0 || all[i] != all[i - 1]) all[n++] = all[i];
        }
        return Arrays.copyOf(all, n);
    }
}
