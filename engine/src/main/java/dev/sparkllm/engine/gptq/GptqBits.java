package dev.sparkllm.engine.gptq;

/**
 * Reading values out of GPTQ's packed int32 arrays. Values of {@code bits} bits form one continuous
 * little-endian bit stream along the packed dimension: value {@code j} starts at bit {@code j*bits}, so
 * 3-bit values 10 and 21 of every 32 straddle two words (bits 30..32 and 63..65 of the stream).
 */
public final class GptqBits {

    private GptqBits() {
    }

    /**
     * Value {@code j} along the packed dimension of a row-major int32 array whose packed words are
     * {@code stride} elements apart, starting at {@code base}.
     */
    public static int unpack(int[] words, int base, int stride, long j, int bits) {
        long bit = j * bits;
        int word = (int) (bit >>> 5);
        int shift = (int) (bit & 31);
        int value = words[base + word * stride] >>> shift;
        if (shift + bits > 32) {
            value |= words[base + (word + 1) * stride] << (32 - shift);
        }
        return value & ((1 << bits) - 1);
    }

    /**
     * Which zero-point convention the data shows, for a symmetric checkpoint: v1 stores
     * {@code 2^(bits-1) - 1} everywhere, v2 stores {@code 2^(bits-1)}. Null when the stored values are
     * neither uniformly one nor the other (asymmetric data, or corrupt).
     */
    public static GptqTensors.ZeroPoints symmetricConvention(int[] qzeros, int bits, int groups, int outFeatures) {
        int wordsPerGroup = outFeatures * bits / 32;
        int v1 = (1 << (bits - 1)) - 1;
        int v2 = 1 << (bits - 1);
        boolean allV1 = true;
        boolean allV2 = true;
        for (int g = 0; g < groups && (allV1 || allV2); g++) {
            for (int o = 0; o < outFeatures; o++) {
                int z = unpack(qzeros, g * wordsPerGroup, 1, o, bits);
                allV1 &= z == v1;
                allV2 &= z == v2;
            }
        }
        if (allV1) return GptqTensors.ZeroPoints.STORED_MINUS_ONE;
        if (allV2) return GptqTensors.ZeroPoints.STORED_AS_IS;
        return null;
    }
}
