package dev.sparkllm.engine.gptq;

/**
 * One GPTQ linear layer as stored on disk (AutoGPTQ layout), before any repacking.
 *
 * @param inFeatures  input features (columns of x)
 * @param outFeatures output features
 * @param bits        bits per weight: 2, 3, 4 or 8
 * @param groupSize   input rows per group, or -1 for one group over the whole input
 * @param qweight     int32 {@code [inFeatures*bits/32, outFeatures]}: values packed along the input dimension,
 *                    least-significant bits first, 3-bit values straddling word boundaries
 * @param qzeros      int32 {@code [groups, outFeatures*bits/32]}: zero-points packed along the output dimension
 * @param scales      {@code [groups, outFeatures]} as floats (fp16 on disk)
 * @param gIdx        {@code [inFeatures]}: the group of each input row, or null for {@code i / groupSize}
 * @param zeroPoints  how the zero-points are stored
 */
public record GptqTensors(int inFeatures, int outFeatures, int bits, int groupSize,
                          int[] qweight, int[] qzeros, float[] scales, int[] gIdx, ZeroPoints zeroPoints) {

    /** How a checkpoint stores zero-points. */
    public enum ZeroPoints {
        /** AutoGPTQ "v1" ({@code checkpoint_format: gptq}): stored value = zero - 1. */
        STORED_MINUS_ONE,
        /** GPTQModel "v2" ({@code checkpoint_format: gptq_v2}): stored value = zero. */
        STORED_AS_IS
    }

    /** Number of quantisation groups: {@code inFeatures / groupSize}, or 1 when groupSize is -1. */
    public int groups() {
        return groupSize == -1 ? 1 : inFeatures / groupSize;
    }

    /** Validates the sizes against each other; throws IllegalArgumentException naming the first mismatch. */
    public void validate() {
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
            throw new IllegalArgumentException("bits " + bits + " unsupported; expected 2, 3, 4 or 8");
        }
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("dimensions must be positive: in " + inFeatures + ", out " + outFeatures);
        }
        if (groupSize != -1 && (groupSize <= 0 || inFeatures % groupSize != 0)) {
            throw new IllegalArgumentException("group_size " + groupSize + " does not divide the input dimension " + inFeatures);
        }
        if ((long) inFeatures * bits % 32 != 0) {
            throw new IllegalArgumentException("input dimension " + inFeatures + " times " + bits + " bits is not a whole number of int32 words");
        }
        if ((long) outFeatures * bits % 32 != 0) {
            throw new IllegalArgumentException("output dimension " + outFeatures + " times " + bits + " bits is not a whole number of int32 words");
        }
        expectLength("qweight", qweight.length, (long) inFeatures * bits / 32 * outFeatures);
        expectLength("qzeros", qzeros.length, (long) groups() * outFeatures * bits / 32);
        expectLength("scales", scales.length, (long) groups() * outFeatures);
        if (gIdx != null) {
            expectLength("g_idx", gIdx.length, inFeatures);
            for (int i = 0; i < gIdx.length; i++) {
                if (gIdx[i] < 0 || gIdx[i] >= groups()) {
                    throw new IllegalArgumentException("g_idx[" + i + "] = " + gIdx[i] + " is outside the " + groups() + " groups");
                }
            }
        }
    }

    private static void expectLength(String what, int actual, long expected) {
        if (actual != expected) {
            throw new IllegalArgumentException(what + " has " + actual + " elements, expected " + expected);
        }
    }
}
