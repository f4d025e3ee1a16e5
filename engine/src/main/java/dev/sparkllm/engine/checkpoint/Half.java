package dev.sparkllm.engine.checkpoint;

/**
 * Conversions between 16-bit floats and {@code float}. Java 17 has no {@code Float.float16ToFloat}, and
 * checkpoints store most weights as IEEE half (F16) or bfloat16 (BF16).
 */
public final class Half {

    /** Every F16 bit pattern as a float: indexed by the unsigned 16-bit pattern (65536 entries, 256 KiB). */
    private static final float[] F16_TABLE = buildTable();

    private Half() {
    }

    /** The F16 value with bit pattern {@code bits} (only the low 16 bits are used). */
    public static float f16ToFloat(short bits) {
        return F16_TABLE[bits & 0xFFFF];
    }

    /** The BF16 value with bit pattern {@code bits}: the top half of a float32. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Rounds {@code value} to the nearest F16 (ties to even), saturating to infinity; NaN stays NaN. */
    public static short floatToF16(float value) {
        int f = Float.floatToRawIntBits(value);
        int sign = (f >>> 16) & 0x8000;
        int exp = (f >>> 23) & 0xFF;
        int mant = f & 0x7FFFFF;
        if (exp == 0xFF) {
            return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 : 0));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1F) {
            return (short) (sign | 0x7C00);
        }
        if (e <= 0) {
            if (e < -10) {
                return (short) sign;
            }
            // Subnormal half: shift the full significand (with its implicit 1) right, rounding to even.
            int m = mant | 0x800000;
            int shift = 14 - e;
            int half = m >>> shift;
            int rem = m & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) {
            half++; // may carry into the exponent, which is the correct rounding (up to infinity)
        }
        return (short) (sign | half);
    }

    /** Rounds {@code value} to the nearest BF16 (ties to even); NaN stays NaN. */
    public static short floatToBf16(float value) {
        int f = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((f >>> 16) | 0x40);
        }
        int rounded = f + 0x7FFF + ((f >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    private static float[] buildTable() {
        float[] table = new float[65536];
        for (int bits = 0; bits < 65536; bits++) {
            table[bits] = decode(bits);
        }
        return table;
    }

    private static float decode(int bits) {
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            // Subnormal (or zero): mant * 2^-24, exact in float.
            float magnitude = mant * 0x1p-24f;
            return sign != 0 ? -magnitude : magnitude;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }
}
