package dev.sparkllm.engine.cpu;

import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.model.LlamaConfig.RopeConfig;

/**
 * Rotary position embedding in the half-split layout of Hugging Face Llama checkpoints: dimension {@code i}
 * of a head is rotated together with dimension {@code i + headDim/2} ({@code rotate_half}), by the angle
 * {@code position × invFreq[i]}, {@code invFreq[i] = 1 / base^(2i / headDim)}.
 *
 * <p>Scaling, as Hugging Face's Llama implements it:
 * <ul>
 *   <li>LINEAR: positions are divided by the factor (HF divides {@code invFreq} by it; the same thing).</li>
 *   <li>DYNAMIC (NTK-aware): once the sequence is longer than the original context {@code orig}, the base
 *       grows: {@code base = theta × (factor × seqLen / orig − (factor − 1))^(headDim / (headDim − 2))}.</li>
 * </ul>
 *
 * <p>Dynamic scaling and the KV cache. HF stores keys in its cache already rotated and recomputes
 * {@code invFreq} from {@code seqLen = max(position_ids) + 1} of each forward call; cached keys keep the
 * rotation they got when they were computed. So in HF a position's rotation depends on how many positions
 * were in the call that computed it: a whole prompt longer than {@code orig} is rotated with the base of the
 * prompt's length, while in token-by-token decoding position {@code p} gets the base of {@code p + 1} (HF also
 * takes the max over the whole batch, and keeps the grown base across calls until a short sequence resets it).
 * We choose the token-by-token rule for every position: position {@code p} is rotated with the base for
 * {@code seqLen = p + 1}, and, like HF, cached keys are never re-rotated. This matches HF exactly for every
 * decoded token and for every prompt up to {@code orig} positions, and it is the only choice that keeps a
 * position's keys independent of how the scheduler chunked its prompt and of the other sequences in the
 * batch (the row-independence rule of {@link dev.sparkllm.engine.backend.ModelBackend}). It differs from HF
 * for the prompt positions of a prompt longer than {@code orig} processed in one call.
 */
public final class RotaryEmbedding {

    private final int headDim;
    private final int half;
    private final RopeConfig.Scaling scaling;
    private final double theta;
    private final double factor;
    private final int originalMaxPositions;
    private final float[] invFreq;        // [headDim/2] for the unscaled base (LINEAR: already divided by factor)
    private final float[] dynamicInvFreq; // [headDim/2] scratch for DYNAMIC positions beyond the original context

    public RotaryEmbedding(LlamaConfig config) {
        RopeConfig rope = config.rope();
        this.headDim = config.headDim();
        this.half = headDim / 2;
        this.scaling = rope.scaling();
        this.theta = rope.theta();
        this.factor = rope.factor();
        // HF's dynamic NTK measures the factor against max_position_embeddings when no original length is given.
        this.originalMaxPositions = rope.originalMaxPositions() > 0
                ? rope.originalMaxPositions() : config.maxPositionEmbeddings();
        if (headDim % 2 != 0) throw new IllegalArgumentException("rotary embedding needs an even head_dim, got " + headDim);
        if (scaling != RopeConfig.Scaling.NONE && !(factor > 0)) {
            throw new IllegalArgumentException("rope_scaling " + scaling + " needs a positive factor, got " + factor);
        }
        this.invFreq = inverseFrequencies(theta);
        if (scaling == RopeConfig.Scaling.LINEAR) {
            for (int i = 0; i < half; i++) invFreq[i] = invFreq[i] / (float) factor;
        }
        this.dynamicInvFreq = new float[half];
    }

    /** {@code 1 / base^(2i / headDim)} for {@code i < headDim/2}, computed in double and rounded to float as HF's float32 buffer is. */
    private float[] inverseFrequencies(double base) {
        float[] f = new float[half];
        for (int i = 0; i < half; i++) f[i] = (float) (1.0 / Math.pow(base, (2.0 * i) / headDim));
        return f;
    }

    /**
     * Writes the cosines and sines for {@code position} into {@code cos} and {@code sin} at {@code offset}
     * ({@code headDim/2} floats each). Not thread-safe (DYNAMIC uses a scratch array): call from one thread.
     */
    public void angles(int position, float[] cos, float[] sin, int offset) {
        float[] freq = invFreq;
        int seqLen = position + 1;
        if (scaling == RopeConfig.Scaling.DYNAMIC && seqLen > originalMaxPositions) {
            double base = theta * Math.pow(factor * seqLen / originalMaxPositions - (factor - 1),
                    (double) headDim / (headDim - 2));
            for (int i = 0; i < half; i++) dynamicInvFreq[i] = (float) (1.0 / Math.pow(base, (2.0 * i) / headDim));
            freq = dynamicInvFreq;
        }
        for (int i = 0; i < half; i++) {
            float angle = (float) position * freq[i]; // float32 product, as HF's position_ids.float() @ inv_freq
            cos[offset + i] = (float) Math.cos(angle);
            sin[offset + i] = (float) Math.sin(angle);
        }
    }

    /**
     * Rotates {@code heads} consecutive heads of one row in place, starting at {@code x[offset]}:
     * {@code x' = x × cos + rotate_half(x) × sin}, {@code rotate_half(x) = [−x[half:], x[:half]]}.
     */
    void rotate(float[] x, int offset, int heads, float[] cos, float[] sin, int angleOffset) {
        for (int h = 0; h < heads; h++) {
            int base = offset + h * headDim;
            for (int i = 0; i < half; i++) {
                float c = cos[angleOffset + i];
                float s = sin[angleOffset + i];
                float a = x[base + i];
                float b = x[base + i + half];
                x[base + i] = a * c - b * s;
                x[base + i + half] = b * c + a * s;
            }
        }
    }
}
