package dev.sparkllm.engine.gptq;

import dev.sparkllm.engine.gptq.GptqTensors.ZeroPoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GptqLinear against the independent test packer: exact dequantisation, forward accuracy, batch invariance. */
class GptqLinearTest {

    static Stream<Arguments> layouts() {
        List<Arguments> cases = new ArrayList<>();
        int seed = 0;
        for (int bits : new int[] {2, 3, 4, 8}) {
            for (int group : new int[] {32, 128, -1}) {
                for (boolean actOrder : new boolean[] {false, true}) {
                    for (boolean v1 : new boolean[] {true, false}) {
                        for (boolean sym : new boolean[] {true, false}) {
                            cases.add(Arguments.of(bits, group, actOrder, v1, sym, seed++));
                        }
                    }
                }
            }
        }
        // A group size that is not a multiple of the packing unit forces padded groups.
        cases.add(Arguments.of(3, 36, true, true, true, seed++));
        cases.add(Arguments.of(4, 36, false, false, false, seed++));
        return cases.stream();
    }

    private static GptqTestPacker.Packed pack(int bits, int group, boolean actOrder, boolean v1, boolean sym, long seed) {
        int in = group == 36 ? 288 : 256;
        int out = 96;
        float[] w = GptqTestPacker.randomWeights(in, out, 0.05, seed);
        return GptqTestPacker.quantize(w, in, out, bits, group, actOrder, sym, v1, seed);
    }

    private static ZeroPoints zeroPoints(boolean v1) {
        return v1 ? ZeroPoints.STORED_MINUS_ONE : ZeroPoints.STORED_AS_IS;
    }

    @ParameterizedTest(name = "{0}-bit group {1} act-order {2} v1 {3} sym {4}")
    @MethodSource("layouts")
    void dequantiseEqualsPackedValues(int bits, int group, boolean actOrder, boolean v1, boolean sym, long seed) {
        GptqTestPacker.Packed p = pack(bits, group, actOrder, v1, sym, seed);
        GptqLinear linear = GptqLinear.of(p.tensors(zeroPoints(v1)));
        assertArrayEquals(p.expected(), linear.dequantize());
    }

    @ParameterizedTest(name = "{0}-bit group {1} act-order {2} v1 {3} sym {4}")
    @MethodSource("layouts")
    void forwardMatchesDenseReference(int bits, int group, boolean actOrder, boolean v1, boolean sym, long seed) {
        GptqTestPacker.Packed p = pack(bits, group, actOrder, v1, sym, seed);
        GptqLinear linear = GptqLinear.of(p.tensors(zeroPoints(v1)));
        int rows = 3;
        float[] x = randomInput(rows * p.in(), seed);
        float[] y = new float[rows * p.out()];
        linear.forward(x, rows, y, 0, p.out());
        for (int r = 0; r < rows; r++) {
            double diff = 0, norm = 0;
            for (int o = 0; o < p.out(); o++) {
                double ref = 0, magnitude = 0;
                for (int i = 0; i < p.in(); i++) {
                    double term = (double) x[r * p.in() + i] * p.expected()[o * p.in() + i];
                    ref += term;
                    magnitude += Math.abs(term);
                }
                double d = y[r * p.out() + o] - ref;
                assertTrue(Math.abs(d) <= 1e-4 * magnitude + 1e-7,
                        "row " + r + " out " + o + ": " + y[r * p.out() + o] + " vs " + ref);
                diff += d * d;
                norm += ref * ref;
            }
            assertTrue(Math.sqrt(diff / norm) < 1e-4, "row " + r + " relative error " + Math.sqrt(diff / norm));
        }
    }

    @ParameterizedTest(name = "{0}-bit group {1} act-order {2} v1 {3} sym {4}")
    @MethodSource("layouts")
    void batchAndSplitInvariant(int bits, int group, boolean actOrder, boolean v1, boolean sym, long seed) {
        GptqTestPacker.Packed p = pack(bits, group, actOrder, v1, sym, seed);
        GptqLinear linear = GptqLinear.of(p.tensors(zeroPoints(v1)));
        int rows = 5;
        int in = p.in();
        int out = p.out();
        float[] x = randomInput(rows * in, seed + 1000);
        float[] batch = new float[rows * out];
        linear.forward(x, rows, batch, 0, out);

        Random random = new Random(seed);
        for (int r = 0; r < rows; r++) {
            float[] single = new float[out];
            float[] row = new float[in];
            System.arraycopy(x, r * in, row, 0, in);
            // The row alone, computed in a random split of the output range.
            int cut = 1 + random.nextInt(out - 1);
            linear.forward(row, 1, single, cut, out);
            linear.forward(row, 1, single, 0, cut);
            for (int o = 0; o < out; o++) {
                assertEquals(Float.floatToRawIntBits(batch[r * out + o]), Float.floatToRawIntBits(single[o]),
                        "row " + r + " out " + o + " differs alone (cut at " + cut + ") vs in a batch of " + rows);
            }
        }
    }

    @Test
    void concurrentDisjointRangesMatchOneCall() throws Exception {
        GptqTestPacker.Packed p = pack(4, 128, true, true, true, 99);
        GptqLinear linear = GptqLinear.of(p.tensors(ZeroPoints.STORED_MINUS_ONE));
        int rows = 4;
        float[] x = randomInput(rows * p.in(), 7);
        float[] expected = new float[rows * p.out()];
        linear.forward(x, rows, expected, 0, p.out());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int trial = 0; trial < 20; trial++) {
                float[] y = new float[rows * p.out()];
                List<Future<?>> parts = new ArrayList<>();
                int step = p.out() / 4;
                for (int t = 0; t < 4; t++) {
                    int start = t * step;
                    int end = t == 3 ? p.out() : start + step;
                    parts.add(pool.submit(() -> linear.forward(x, rows, y, start, end)));
                }
                for (Future<?> f : parts) f.get();
                assertArrayEquals(expected, y);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void trivialActOrderIsNotPermuted() {
        GptqTestPacker.Packed plain = pack(4, 32, false, true, true, 5);
        assertTrue(!GptqLinear.of(plain.tensors(ZeroPoints.STORED_MINUS_ONE)).permuted());
        GptqTestPacker.Packed scrambled = pack(4, 32, true, true, true, 5);
        assertTrue(GptqLinear.of(scrambled.tensors(ZeroPoints.STORED_MINUS_ONE)).permuted());
    }

    @Test
    void detectsZeroPointConvention() {
        GptqTestPacker.Packed v1 = pack(4, 128, false, true, true, 1);
        GptqTestPacker.Packed v2 = pack(4, 128, false, false, true, 1);
        GptqTestPacker.Packed asym = pack(4, 128, false, true, false, 1);
        assertEquals(ZeroPoints.STORED_MINUS_ONE, GptqBits.symmetricConvention(v1.qzeros(), 4, 2, 96));
        assertEquals(ZeroPoints.STORED_AS_IS, GptqBits.symmetricConvention(v2.qzeros(), 4, 2, 96));
        assertNull(GptqBits.symmetricConvention(asym.qzeros(), 4, 2, 96));
        GptqTestPacker.Packed v1three = pack(3, -1, true, true, true, 1);
        assertEquals(ZeroPoints.STORED_MINUS_ONE, GptqBits.symmetricConvention(v1three.qzeros(), 3, 1, 96));
    }

    @Test
    void threeBitStraddlingValuesUnpack() {
        int[] values = new int[64];
        Random random = new Random(3);
        for (int i = 0; i < values.length; i++) values[i] = random.nextInt(8);
        values[10] = 7; // straddles words 0 and 1
        values[21] = 5; // straddles words 1 and 2
        values[42] = 6;
        values[53] = 3;
        int[] words = GptqTestPacker.pack(values, 3);
        for (int i = 0; i < values.length; i++) {
            assertEquals(values[i], GptqBits.unpack(words, 0, 1, i, 3), "value " + i);
        }
    }

    @Test
    void rejectsInconsistentTensors() {
        GptqTestPacker.Packed p = pack(4, 128, true, true, true, 11);
        IllegalArgumentException badGroup = assertThrows(IllegalArgumentException.class, () -> GptqLinear.of(
                new GptqTensors(p.in(), p.out(), 4, 100, p.qweight(), p.qzeros(), p.scales(), p.gIdx(), ZeroPoints.STORED_MINUS_ONE)));
        assertTrue(badGroup.getMessage().contains("group_size 100 does not divide"), badGroup.getMessage());
        int[] gIdx = p.gIdx().clone();
        gIdx[17] = 2;
        IllegalArgumentException badIdx = assertThrows(IllegalArgumentException.class, () -> GptqLinear.of(
                new GptqTensors(p.in(), p.out(), 4, 128, p.qweight(), p.qzeros(), p.scales(), gIdx, ZeroPoints.STORED_MINUS_ONE)));
        assertTrue(badIdx.getMessage().contains("g_idx[17] = 2"), badIdx.getMessage());
        IllegalArgumentException badBits = assertThrows(IllegalArgumentException.class, () -> GptqLinear.of(
                new GptqTensors(p.in(), p.out(), 5, 128, p.qweight(), p.qzeros(), p.scales(), p.gIdx(), ZeroPoints.STORED_MINUS_ONE)));
        assertTrue(badBits.getMessage().contains("bits 5"), badBits.getMessage());
        IllegalArgumentException badScales = assertThrows(IllegalArgumentException.class, () -> GptqLinear.of(
                new GptqTensors(p.in(), p.out(), 4, 128, p.qweight(), p.qzeros(), new float[5], p.gIdx(), ZeroPoints.STORED_MINUS_ONE)));
        assertTrue(badScales.getMessage().contains("scales has 5 elements"), badScales.getMessage());
    }

    static float[] randomInput(int n, long seed) {
        Random random = new Random(seed * 31 + 17);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) random.nextGaussian();
        return x;
    }
}
