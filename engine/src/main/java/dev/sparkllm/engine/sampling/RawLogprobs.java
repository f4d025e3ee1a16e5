package dev.sparkllm.engine.sampling;

import dev.sparkllm.engine.api.GenerationResult;

/**
 * Log-probabilities as vLLM reports them by default: log-softmax of the raw logits, before penalties,
 * temperature or truncation, so they describe the model and not the sampling settings.
 *
 * <p>Reproducible bit for bit, like {@link TokenDraw}: the normalizer is {@code max + log Σ exp(l - max)} in
 * doubles, summed in token-id order, with {@link StrictMath}'s exp and log, whose results the Java specification
 * fixes (fdlibm's). {@link Math#exp} and {@link Math#log} may differ by an ulp between JVMs and platforms (on JDK 17
 * x86-64, HotSpot's exp intrinsic differs from fdlibm on about one input in ten), so the GPU sampler, which ports
 * fdlibm, could not match them.
 */
final class RawLogprobs {

    private final float[] logits;   // [vocabSize], a copy of the raw logits
    private final int vocabSize;
    private final double logNormalizer;  // max + log Σ exp(l - max)

    RawLogprobs(float[] rawLogits, int vocabSize) {
        this.logits = java.util.Arrays.copyOf(rawLogits, vocabSize);
        this.vocabSize = vocabSize;
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double sum = 0;
        for (float l : logits) sum += StrictMath.exp(l - max);
        this.logNormalizer = max + StrictMath.log(sum);
    }

    float of(int tokenId) {
        return (float) (logits[tokenId] - logNormalizer);
    }

    /** The chosen token's log-probability and the {@code topN} most likely tokens (ties: lower id first). */
    GenerationResult.TokenLogprob describe(int chosen, int topN) {
        int n = Math.min(topN, vocabSize);
        int[] topIds = new int[n];
        int filled = 0;
        // Insertion into a short sorted list: n is small (vLLM caps it at 20), the vocabulary is not.
        for (int id = 0; n > 0 && id < vocabSize; id++) {
            if (filled == n && !(logits[id] > logits[topIds[n - 1]])) continue;
            int pos = filled < n ? filled++ : n - 1;
            while (pos > 0 && logits[id] > logits[topIds[pos - 1]]) {
                topIds[pos] = topIds[pos - 1];
                pos--;
            }
            topIds[pos] = id;
        }
        float[] topLogprobs = new float[n];
        for (int i = 0; i < n; i++) topLogprobs[i] = of(topIds[i]);
        return new GenerationResult.TokenLogprob(chosen, of(chosen), topIds, topLogprobs);
    }
}
