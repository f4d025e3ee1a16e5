package dev.sparkllm.engine.checkpoint;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Half-precision conversions against the IEEE 754 definition evaluated in double arithmetic. */
class HalfTest {

    /** (-1)^s * 2^(e-15) * (1 + m/1024), or the subnormal/special forms, computed independently in double. */
    private static double reference(int bits) {
        int s = (bits >> 15) & 1;
        int e = (bits >> 10) & 0x1F;
        int m = bits & 0x3FF;
        double sign = s == 1 ? -1 : 1;
        if (e == 0x1F) return m == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
        if (e == 0) return sign * Math.scalb((double) m, -24);
        return sign * Math.scalb(1 + m / 1024.0, e - 15);
    }

    @Test
    void everyF16PatternDecodes() {
        for (int bits = 0; bits < 65536; bits++) {
            double expected = reference(bits);
            float got = Half.f16ToFloat((short) bits);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(got), "pattern " + bits);
            } else {
                assertEquals(expected, got, 0.0, "pattern " + Integer.toHexString(bits));
                assertEquals(Math.copySign(1.0, expected), Math.copySign(1.0f, got), "sign of " + Integer.toHexString(bits));
            }
        }
    }

    @Test
    void everyFiniteF16RoundTrips() {
        for (int bits = 0; bits < 65536; bits++) {
            if (((bits >> 10) & 0x1F) == 0x1F) continue;
            assertEquals(bits, Half.floatToF16(Half.f16ToFloat((short) bits)) & 0xFFFF, Integer.toHexString(bits));
        }
    }

    @Test
    void floatToF16RoundsToNearest() {
        Random random = new Random(1);
        for (int i = 0; i < 200_000; i++) {
            float f = (float) (random.nextGaussian() * Math.pow(2, random.nextInt(40) - 28));
            double got = Half.f16ToFloat(Half.floatToF16(f));
            // No other half value is closer to f than the one chosen.
            int bits = Half.floatToF16(f) & 0xFFFF;
            for (int neighbour : new int[] {bits - 1, bits + 1}) {
                if ((neighbour & 0x7C00) == 0x7C00 || neighbour < 0 || ((neighbour ^ bits) & 0x8000) != 0) continue;
                double other = reference(neighbour);
                assertTrue(Math.abs(got - f) <= Math.abs(other - f), f + " -> " + got + " but " + other + " is closer");
            }
        }
        assertEquals(Float.POSITIVE_INFINITY, Half.f16ToFloat(Half.floatToF16(70000f)));
        assertEquals(65504f, Half.f16ToFloat(Half.floatToF16(65504f)));
        assertEquals(0x1p-24f, Half.f16ToFloat(Half.floatToF16(0x1p-24f)));
        assertEquals(0f, Half.f16ToFloat(Half.floatToF16(0x1p-26f)));
    }

    @Test
    void bf16IsTheTopHalfOfAFloat() {
        Random random = new Random(2);
        for (int i = 0; i < 100_000; i++) {
            float f = Float.intBitsToFloat(random.nextInt() & 0xFFFF0000);
            if (Float.isNaN(f)) continue;
            short b = Half.floatToBf16(f);
            assertEquals(f, Half.bf16ToFloat(b), 0f);
        }
        // bf16 keeps 7 fraction bits: at 1.0 the step is 2^-7, so 2^-8 is an exact tie.
        assertEquals(1.0f, Half.bf16ToFloat(Half.floatToBf16(1.0f + 0x1p-8f)));                      // tie, down to even
        assertEquals(1.0f + 0x1p-6f, Half.bf16ToFloat(Half.floatToBf16(1.0f + 0x1p-7f + 0x1p-8f)));  // tie, up to even
        assertEquals(1.0f + 0x1p-7f, Half.bf16ToFloat(Half.floatToBf16(1.0f + 0x1p-7f + 0x1p-9f)));  // below the tie
    }
}
