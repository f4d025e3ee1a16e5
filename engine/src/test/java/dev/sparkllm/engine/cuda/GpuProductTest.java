package dev.sparkllm.engine.cuda;

import dev.sparkllm.engine.checkpoint.Half;
import dev.sparkllm.engine.gptq.GptqLinear;
import dev.sparkllm.engine.gptq.GptqTensors;
import dev.sparkllm.engine.gptq.GptqTestPacker;
import jcuda.Pointer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GPU's GPTQ and dense products ({@code gemm.cu} over {@code repack.cu}'s layouts) against the CPU's
 * {@link GptqLinear}, on random weights quantised like a checkpoint, at Llama-2-70B shapes and small odd ones.
 *
 * <p>Tolerance: the inputs are fp16-representable, so the only difference is the GPU's fp16 rounding of each
 * dequantised weight ((q − zero)·scale, as Hugging Face and the GPTQ kernels compute it) against the CPU's float
 * arithmetic: about 2⁻¹¹ per weight, averaging out over a dot product to a relative error near 3·10⁻⁴. The
 * bound is 1.5·10⁻³. Batch invariance is exact: every row of a 1-, 7- and n-row product is bit-identical, whether
 * the n rows took the split-K kernels (gemm.cu) or, from 128 rows, the tiled ones (gemm_tiles.cu).
 */
@Tag("gpu")
class GpuProductTest {

    static final double TOLERANCE = 1.5e-3;

    @ParameterizedTest(name = "{0}-bit g{1} act-order {2}: {3} x {4}, {5} rows")
    @CsvSource({
            // prefill-sized batches: the tiled kernels (gemm_tiles.cu), rows compared with split-K's row 0 and rows 0..6
            "4, 128, true,  8192,  8192, 200",
            "3, 128, true,  8192, 10240, 130",
            "4,  32, false, 8192,  8192, 128",
            // Llama-2-70B shapes (k x n): qkv fused, o, gate (one of the fused pair), down
            "4, 128, true,  8192, 10240, 17",
            "4, 128, true,  8192,  8192, 17",
            "4, 128, true,  8192, 28672, 5",
            "4, 128, true, 28672,  8192, 17",
            "3, 128, true,  8192, 10240, 17",
            "3, 128, true, 28672,  8192, 5",
            // every branch of the reference model on the o shape
            "4, 128, false, 8192,  8192, 9",
            "4,  32, true,  8192,  8192, 9",
            "4,  64, true,  8192,  8192, 9",
            "3,  -1, true,  8192,  8192, 9",
            "3, 128, false, 8192,  8192, 9",
            "3,  64, true,  8192,  8192, 9",
            // small and odd: widths not a multiple of 64, inputs not of 128, more rows than one launch
            "4,  32, true,   384,   200, 300",
            "3,  32, false,  160,    96, 70",
            "4,  -1, true,   416,  1024, 40",
    })
    void gptqProductMatchesCpu(int bits, int group, boolean actOrder, int in, int out, int rows) {
        CudaDevice d = Gpu.device();
        GptqTestPacker.Packed p = GptqTestPacker.quantize(GptqTestPacker.randomWeights(in, out, 0.02, 11), in, out, bits,
                group, actOrder, true, true, 5);
        GptqTensors t = p.tensors(GptqTensors.ZeroPoints.STORED_MINUS_ONE);
        float[] x = fp16Inputs(rows, in, 3);
        float[] expected = new float[rows * out];
        GptqLinear.of(t).forward(x, rows, expected, 0, out);
        float[][] got = d.call(() -> {
            GpuLinear g = GpuLinears.gptq(d, List.of("test"), List.of(t));
            try {
                return run(d, g, x, rows, in, out);
            } finally {
                free(d, g);
            }
        });
        double err = Gpu.relativeError(got[0], expected, rows * out);
        System.out.printf("gptq %d-bit g%d act %s %dx%d rows %d: relative error %.2e%n", bits, group, actOrder, in, out, rows, err);
        assertTrue(err < TOLERANCE, "relative error " + err + " >= " + TOLERANCE);
        assertBatchInvariant(got, rows, out);
    }

    /**
     * The two tiled kernels ({@code -Dsparkllm.cuda.tiles=ksplit|plain}) give the same values bit for bit, and so
     * split-K's: an odd split count (qkv, 13), 16 (o, down), every weight kind, a partial row tile and columns not a
     * multiple of 64.
     */
    @ParameterizedTest(name = "{0}-bit g{1} act-order {2}: {3} x {4}, {5} rows")
    @CsvSource({
            "4, 128, true,  8192, 10240, 200",
            "4, 128, true, 28672,  8192, 256",
            "3, 128, true,  8192, 10240, 130",
            "4,  32, false, 8192,  8192, 128",
            "4,  32, true,   384,   200, 300",
            "16,  0, false, 8192,  4096, 130",
    })
    void bothTiledKernelsGiveTheSameValues(int bits, int group, boolean actOrder, int in, int out, int rows) {
        float[][][] got = runEachChoice(bits, group, actOrder, in, out, rows, v -> GpuLinear.tiles = v, GpuLinear.tiles,
                "plain", "ksplit");
        assertArrayEquals(got[0][0], got[1][0], "ksplit tiles differ from the plain tiles");
        assertBatchInvariant(got[1], rows, out);
    }

    /**
     * The decode kernels ({@code -Dsparkllm.cuda.small=plain|early|wide}) give the same values bit for bit at 1, 7 and
     * up to 16 rows: 70B shapes with 13, 16 and 2 split-K ranges, 3-bit, dense, and columns not a multiple of 64
     * (a last 8-warp block with idle warps).
     */
    @ParameterizedTest(name = "{0}-bit g{1} act-order {2}: {3} x {4}, {5} rows")
    @CsvSource({
            "4, 128, true,  8192, 10240, 16",
            "4, 128, true, 28672,  8192, 9",
            "4, 128, true,  8192, 28672, 1",
            "3, 128, true,  8192,  8192, 5",
            "4,  32, true,   384,   200, 12",
            "16,  0, false, 8192,  4096, 3",
    })
    void theDecodeKernelsGiveTheSameValues(int bits, int group, boolean actOrder, int in, int out, int rows) {
        String[] choices = {"plain", "early", "wide"};
        float[][][] got = runEachChoice(bits, group, actOrder, in, out, rows, v -> GpuLinear.small = v, GpuLinear.small, choices);
        for (int v = 1; v < got.length; v++) {
            for (int r = 0; r < 3; r++) {
                assertArrayEquals(got[0][r], got[v][r], "small=" + choices[v] + " differs from small=plain (run " + r + ")");
            }
        }
    }

    /** {@link #run} with the choice set to each value in turn (then back to {@code before}): [value][all, one, seven]. */
    private static float[][][] runEachChoice(int bits, int group, boolean actOrder, int in, int out, int rows,
                                             java.util.function.Consumer<String> set, String before, String... values) {
        CudaDevice d = Gpu.device();
        float[] x = fp16Inputs(rows, in, 6);
        GptqTensors t = bits == 16 ? null : GptqTestPacker.quantize(GptqTestPacker.randomWeights(in, out, 0.02, 12), in,
                out, bits, group, actOrder, true, true, 5).tensors(GptqTensors.ZeroPoints.STORED_MINUS_ONE);
        float[] w = bits == 16 ? GptqTestPacker.randomWeights(in, out, 0.02, 12) : null;
        float[][][] got = new float[values.length][][];
        try {
            d.call(() -> {
                GpuLinear g;
                DeviceBuffer raw = null;
                if (t != null) {
                    g = GpuLinears.gptq(d, List.of("test"), List.of(t));
                } else {
                    raw = d.alloc((long) w.length * 4, "dense test weight");
                    d.upload(raw, w, w.length);
                    g = GpuLinears.dense(d, List.of("dense"), List.of(new GpuLinears.RawDense(raw, 2, out)), in);
                }
                try {
                    for (int v = 0; v < values.length; v++) {
                        set.accept(values[v]);
                        got[v] = run(d, g, x, rows, in, out);
                    }
                } finally {
                    free(d, g);
                    if (raw != null) d.free(raw);
                }
                return null;
            });
        } finally {
            set.accept(before);
        }
        return got;
    }

    /** The lm_head shape at decode batch sizes (split-K kernels) and a prefill-sized batch (tiled kernels). */
    @ParameterizedTest(name = "dense 8192 x {0}, {1} rows")
    @CsvSource({"32000, 9", "4096, 130"})
    void denseProductMatchesCpuAtLmHeadShape(int out, int rows) {
        CudaDevice d = Gpu.device();
        int in = 8192;
        Random r = new Random(2);
        float[] w = new float[out * in]; // fp16-representable, so the GPU's weights are exact
        for (int i = 0; i < w.length; i++) w[i] = Half.f16ToFloat(Half.floatToF16((float) (r.nextGaussian() * 0.02)));
        float[] x = fp16Inputs(rows, in, 4);
        float[] expected = new float[rows * out];
        for (int m = 0; m < rows; m++) {
            for (int n = 0; n < out; n++) {
                double s = 0;
                for (int k = 0; k < in; k++) s += (double) x[m * in + k] * w[n * in + k];
                expected[m * out + n] = (float) s;
            }
        }
        float[][] got = d.call(() -> {
            DeviceBuffer raw = d.alloc((long) w.length * 4, "dense test weight");
            d.upload(raw, w, w.length);
            GpuLinear g = GpuLinears.dense(d, List.of("lm_head"), List.of(new GpuLinears.RawDense(raw, 2, out)), in);
            try {
                return run(d, g, x, rows, in, out);
            } finally {
                free(d, g);
            }
        });
        double err = Gpu.relativeError(got[0], expected, rows * out);
        System.out.printf("dense 8192x%d rows %d: relative error %.2e%n", out, rows, err);
        assertTrue(err < 1e-4, "relative error " + err); // exact products, fp32 sums in another order
        assertBatchInvariant(got, rows, out);
    }

    /** Products of all rows, of row 0 alone and of the first min(7, rows) rows: {all, one, seven}. */
    static float[][] run(CudaDevice d, GpuLinear g, float[] x, int rows, int in, int out) {
        DeviceBuffer x32 = d.alloc((long) x.length * 4, "x");
        DeviceBuffer x16 = d.alloc((long) x.length * 2, "x fp16");
        DeviceBuffer y = d.alloc((long) rows * out * 4, "y");
        DeviceBuffer ws = d.alloc(g.workspaceFloats() * 4, "workspace");
        try {
            d.upload(x32, x, x.length);
            d.launch("convert_to_f16", GpuLinears.blocks(x.length), 1, 1, 256, 0, x32, 2, x16, (long) x.length);
            float[] all = new float[rows * out];
            g.forward(d, x16, in, rows, ws, y, out, 0, false);
            d.download(Pointer.to(all), y, 0, (long) rows * out * 4);
            float[] one = new float[out];
            g.forward(d, x16, in, 1, ws, y, out, 0, false);
            d.download(Pointer.to(one), y, 0, (long) out * 4);
            int sevenRows = Math.min(7, rows);
            float[] seven = new float[sevenRows * out];
            g.forward(d, x16, in, sevenRows, ws, y, out, 0, false);
            d.download(Pointer.to(seven), y, 0, (long) sevenRows * out * 4);
            return new float[][]{all, one, seven};
        } finally {
            d.free(x32);
            d.free(x16);
            d.free(y);
            d.free(ws);
        }
    }

    static void assertBatchInvariant(float[][] got, int rows, int out) {
        assertArrayEquals(Arrays.copyOf(got[0], out), got[1], "row 0 alone differs from row 0 in a batch of " + rows);
        assertArrayEquals(Arrays.copyOf(got[0], got[2].length), got[2], "rows of a 7-row batch differ from the same rows in " + rows);
    }

    static void free(CudaDevice d, GpuLinear g) {
        d.free(g.weights);
        d.free(g.zeroScales);
        d.free(g.stepGroup);
        d.free(g.perm);
    }

    static float[] fp16Inputs(int rows, int in, long seed) {
        Random r = new Random(seed);
        float[] x = new float[rows * in];
        for (int i = 0; i < x.length; i++) x[i] = Half.f16ToFloat(Half.floatToF16((float) r.nextGaussian()));
        return x;
    }
}
