package dev.sparkllm.engine.checkpoint;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DenseLinear read from a safetensors file: values, accuracy against a double reference, batch invariance. */
class DenseLinearTest {

    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F16", "BF16", "F32", "F64"})
    void forwardMatchesReferenceAndIsBatchInvariant(DType dtype) throws IOException {
        int in = 77;   // not a multiple of the eight partial sums
        int out = 45;
        Random random = new Random(dtype.ordinal());
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) w[i] = (float) random.nextGaussian();
        Path file = tmp.resolve("w.safetensors");
        new SafetensorsWriter().addFloats("w", dtype, new long[] {out, in}, w).write(file);
        DenseLinear linear;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            linear = new DenseLinear(DenseMatrix.read(f.map("w")));
        }
        float[] stored = linear.dequantize();
        for (int i = 0; i < w.length; i++) {
            float expected = switch (dtype) {
                case F16 -> Half.f16ToFloat(Half.floatToF16(w[i]));
                case BF16 -> Half.bf16ToFloat(Half.floatToBf16(w[i]));
                default -> w[i];
            };
            assertEquals(expected, stored[i], 0f, "element " + i);
        }

        int rows = 6;
        float[] x = new float[rows * in];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        float[] y = new float[rows * out];
        linear.forward(x, rows, y, 0, out);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double ref = 0, magnitude = 0;
                for (int i = 0; i < in; i++) {
                    ref += (double) x[r * in + i] * stored[o * in + i];
                    magnitude += Math.abs((double) x[r * in + i] * stored[o * in + i]);
                }
                assertTrue(Math.abs(y[r * out + o] - ref) <= 1e-6 * magnitude, "row " + r + " out " + o);
            }
            float[] single = new float[out];
            float[] row = new float[in];
            System.arraycopy(x, r * in, row, 0, in);
            int cut = 1 + random.nextInt(out - 1);
            linear.forward(row, 1, single, 0, cut);
            linear.forward(row, 1, single, cut, out);
            float[] fromBatch = new float[out];
            System.arraycopy(y, r * out, fromBatch, 0, out);
            assertArrayEquals(fromBatch, single, "row " + r + " alone, split at " + cut);
        }
    }
}
