package dev.sparkllm.engine.sampling;

/**
 * The random part of sampling, defined so that any implementation (this one, a CUDA kernel) reproduces it bit
 * for bit, whatever the batch, thread count or reduction order. Everything is IEEE-754 double arithmetic with
 * each operation rounded separately (no fused multiply-add: on CUDA use {@code __dmul_rn}/{@code __dadd_rn} or
 * {@code -fmad=false}) and 64-bit integer sums, which are exact and therefore independent of summation order.
 *
 * <h2>The formula</h2>
 * Given processed logits {@code l[0..V)} (float32, -inf for removed tokens), temperature {@code T > 0}, seed
 * {@code s} and token index {@code n} (number of tokens already generated):
 * <ol>
 *   <li>{@code m = max l}; {@code W = 62 - bitLength(V)} (so that V weights of at most 2^W sum below 2^62).</li>
 *   <li>Weight of each token: {@code w[i] = (long) trunc(exp2W((double(l[i]) - double(m)) / T))}, where
 *       {@code exp2W(d) = 0} when {@code d < -(W+1)·ln2}, else with {@code k = rint(d · (1/ln2))},
 *       {@code r = (d - k·LN2_HI) - k·LN2_LO} and {@code p = Σ_{j=0..11} r^j / j!} evaluated by Horner from j = 11
 *       down (coefficients {@code 1.0 / j!} rounded to double), {@code exp2W(d) = p · 2^(k+W)} (an exact scaling). So the most
 *       likely token weighs exactly 2^W and the weights are e^((l-m)/T) in fixed point with W fraction bits.</li>
 *   <li>Top-p (when {@code p < 1}): tokens ranked by weight descending, ties by lower id first; a token is kept
 *       when the weights ranked before it sum to less than {@code p · total} (as doubles); the others get
 *       weight 0. This is Hugging Face's rule (drop the tail whose cumulative probability is at most 1 - p).</li>
 *   <li>Min-p (when {@code minP > 0}): a token's weight becomes 0 when {@code double(w) < minP · 2^W}, that is
 *       when its probability is below minP times the top probability.</li>
 *   <li>{@code z = splitMix64(s, n)}: the (n+1)-th output of SplitMix64 seeded with {@code s}, i.e.
 *       {@code mix64(s + (n + 1) · 0x9E3779B97F4A7C15)} with Stafford's mix13 finaliser (the generator of
 *       {@link java.util.SplittableRandom}). It is the uniform number {@code u = z / 2^64} in [0, 1), unsigned.</li>
 *   <li>{@code target = floor(z · total / 2^64)} (the high word of the unsigned 128-bit product,
 *       {@code __umul64hi} on CUDA); the chosen token is the lowest id whose inclusive prefix sum of weights, in
 *       token-id order, exceeds {@code target}. This is the inverse CDF at {@code u}.</li>
 * </ol>
 * Tokens more than (W+1)·ln2 ≈ 32 nats (times T) below the best have weight 0 and are never drawn; their total
 * probability is below V·2^-W, under 10^-9 for a 32k vocabulary.
 */
final class TokenDraw {

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;
    /** ln 2 split so that k·LN2_HI is exact for |k| < 2^20 (fdlibm's constants). */
    private static final double LN2_HI = 6.93147180369123816490e-01;
    private static final double LN2_LO = 1.90821492927058770002e-10;
    private static final double INV_LN2 = 1.44269504088896338700e+00;
    private static final int EXP_DEGREE = 11;
    /** EXP_COEFFICIENTS[j] = 1/j!, rounded to double (j! is exact in double for j <= 18). */
    private static final double[] EXP_COEFFICIENTS = new double[EXP_DEGREE + 1];

    static {
        double factorial = 1;
        for (int j = 0; j <= EXP_DEGREE; j++) {
            if (j > 0) factorial *= j;
            EXP_COEFFICIENTS[j] = 1.0 / factorial;
        }
    }

    private TokenDraw() {
    }

    /** The uniform 64-bit number for token index {@code index} of a sequence with seed {@code seed}. */
    static long splitMix64(long seed, long index) {
        long z = seed + (index + 1) * GOLDEN_GAMMA;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Fraction bits W of the fixed-point weights for a vocabulary of this size. */
    static int weightBits(int vocabSize) {
        return 62 - (32 - Integer.numberOfLeadingZeros(vocabSize));
    }

    /** e^d · 2^W truncated to an integer, for d <= 0, by the documented fixed-operation formula. */
    static long fixedPointExp(double d, int weightBits) {
        if (!(d >= -(weightBits + 1) * LN2_HI)) return 0;  // also catches -inf and NaN
        double k = Math.rint(d * INV_LN2);
        double r = (d - k * LN2_HI) - k * LN2_LO;
        double p = EXP_COEFFICIENTS[EXP_DEGREE];
        for (int j = EXP_DEGREE - 1; j >= 0; j--) p = p * r + EXP_COEFFICIENTS[j];
        // p · 2^(k+W) by an exact power of two built from its bits (Math.scalb is correct but slow).
        return (long) (p * Double.longBitsToDouble((long) ((int) k + weightBits + 1023) << 52));
    }

    /** Step 2: weights[0..V) of the logits at temperature T; the best token weighs exactly 2^W. */
    static long[] weights(float[] logits, int vocabSize, double temperature) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocabSize; i++) max = Math.max(max, logits[i]);
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalStateException("every token's logit is -infinity (all suppressed); nothing can be sampled");
        }
        int w = weightBits(vocabSize);
        long[] weights = new long[vocabSize];
        for (int i = 0; i < vocabSize; i++) {
            weights[i] = fixedPointExp(((double) logits[i] - (double) max) / temperature, w);
        }
        return weights;
    }

    /**
     * Step 3: Hugging Face top-p on fixed-point weights; p >= 1 changes nothing. Equivalent to ranking every
     * token (weight descending, id ascending) and keeping ranks while the weight ranked before stays below
     * {@code p · total}, but sorts only the candidates that could be kept.
     */
    static void topP(long[] weights, double p) {
        if (p >= 1) return;
        long total = 0;
        for (long w : weights) total += w;
        double threshold = p * (double) total;
        long[] ranked = candidatesDescending(weights, total, p);
        if (ranked.length == 0) return;
        // Walk the ranks: the kept ones are ranks [0, kept). HF keeps at least one (min_tokens_to_keep = 1).
        int kept = 1;
        long before = ranked[0];
        while (kept < ranked.length && (double) before < threshold) before += ranked[kept++];
        long lastKept = ranked[kept - 1];
        int keptAtLast = 0;  // how many of the kept ranks carry exactly the last kept weight
        for (int r = kept - 1; r >= 0 && ranked[r] == lastKept; r--) keptAtLast++;
        // Tokens heavier than the last kept weight all stay; of those tied with it, the lowest ids stay.
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] > lastKept) continue;
            if (weights[i] == lastKept && keptAtLast > 0) {
                keptAtLast--;
                continue;
            }
            weights[i] = 0;
        }
    }

    /**
     * The nonzero weights that top-p might keep, largest first. A token whose weight w satisfies
     * {@code V·w <= (1-p)·total/2} is dropped by the exact rule whatever its rank (everything ranked from it on
     * weighs at most (1-p)·total/2, far below the drop threshold), so it need not be sorted.
     */
    private static long[] candidatesDescending(long[] weights, long total, double p) {
        double dropBelow = 1 - p > 1e-9 ? (1 - p) * (double) total / 2 / weights.length : 0;
        int n = 0;
        long[] values = new long[weights.length];
        for (long w : weights) {
            if (w > 0 && (double) w > dropBelow) values[n++] = w;
        }
        values = java.util.Arrays.copyOf(values, n);
        java.util.Arrays.sort(values);
        for (int i = 0, j = n - 1; i < j; i++, j--) {
            long t = values[i];
            values[i] = values[j];
            values[j] = t;
        }
        return values;
    }

    /** Step 4: min-p on fixed-point weights (the top token weighs 2^W); 0 changes nothing. */
    static void minP(long[] weights, int vocabSize, double minP) {
        if (minP <= 0) return;
        double floor = minP * Math.scalb(1.0, weightBits(vocabSize));
        for (int i = 0; i < weights.length; i++) {
            if ((double) weights[i] < floor) weights[i] = 0;
        }
    }

    /** Steps 5 and 6: the inverse CDF at the uniform number {@code z / 2^64}. */
    static int inverseCdf(long[] weights, long z) {
        long total = 0;
        for (long w : weights) total += w;
        // Unsigned high word of z * total; total < 2^62, so only z's sign bit needs the correction.
        long target = Math.multiplyHigh(z, total) + ((z >> 63) & total);
        long prefix = 0;
        for (int i = 0; i < weights.length; i++) {
            prefix += weights[i];
            if (prefix > target) return i;
        }
        throw new IllegalStateException("inverse CDF ran past the vocabulary (target " + target + ", total " + total + ")");
    }

}
