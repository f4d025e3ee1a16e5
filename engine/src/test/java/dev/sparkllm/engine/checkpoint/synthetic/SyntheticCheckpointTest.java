package dev.sparkllm.engine.checkpoint.synthetic;

import dev.sparkllm.engine.checkpoint.Half;
import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.gptq.GptqBits;
import dev.sparkllm.engine.gptq.GptqTensors;
import dev.sparkllm.engine.model.LlamaWeights;
import dev.sparkllm.engine.tokenizer.Tokenizer;
import dev.sparkllm.engine.tokenizer.TokenizerLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tiny synthetic checkpoints written in full: what the engine reads back from them, value by value. */
class SyntheticCheckpointTest {

    static Path write(Path dir, int bits, int group, boolean actOrder, long seed, int threads) throws IOException {
        CheckpointSpec spec = new CheckpointSpec(LlamaShape.TINY, bits, group, actOrder, "model", seed);
        SyntheticCheckpoint.Result r = SyntheticCheckpoint.write(spec, dir, threads, "test", (b, t, n) -> { });
        assertEquals(SafetensorsLayout.of(spec).fileSize(), Files.size(r.weights()));
        assertFalse(Files.exists(dir.resolve("model.safetensors.partial")));
        return dir;
    }

    @ParameterizedTest(name = "{0}-bit group {1} act-order {2}")
    @CsvSource({"4, 32, true", "4, 128, false", "4, -1, true", "3, 128, true", "3, 64, false", "3, -1, true"})
    void tinyCheckpointOpensAndLoadsOnTheCpu(int bits, int group, boolean actOrder, @TempDir Path dir) throws IOException {
        write(dir, bits, group, actOrder, 0, 2);
        try (ModelDirectory model = ModelDirectory.open(dir)) {
            LlamaWeights w = model.loadWeights();
            assertEquals(2, w.layers().size());
            assertEquals(32000, model.config().vocabSize());
        }
        Tokenizer tokenizer = TokenizerLoader.load(dir);
        int[] ids = tokenizer.encode("hi there, é!", true);
        assertEquals(1, ids[0], "BOS first");
        assertTrue(Arrays.stream(ids).allMatch(id -> id >= 0 && id < 32000));
        assertEquals("hi there, é!", tokenizer.decode(ids, true));
    }

    @Test
    void actOrderGIdxComesFromOnePermutationPerInput(@TempDir Path dir) throws IOException {
        write(dir, 4, 32, true, 0, 2);
        try (ModelDirectory model = ModelDirectory.open(dir)) {
            int[] q = gIdx(model, 0, "self_attn.q_proj");
            int groupSize = 32;
            int[] count = new int[256 / groupSize];
            int moved = 0;
            for (int i = 0; i < q.length; i++) {
                count[q[i]]++;
                if (q[i] != i / groupSize) moved++;
            }
            for (int c : count) assertEquals(groupSize, c, "every group has group_size rows");
            assertTrue(moved > q.length / 2, "rows scattered over the groups: " + moved + " of " + q.length + " moved");
            // q/k/v share their input's permutation, as gate/up do; other inputs and layers have their own.
            assertArrayEquals(q, gIdx(model, 0, "self_attn.k_proj"));
            assertArrayEquals(q, gIdx(model, 0, "self_attn.v_proj"));
            int[] gate = gIdx(model, 0, "mlp.gate_proj");
            assertArrayEquals(gate, gIdx(model, 0, "mlp.up_proj"));
            assertFalse(Arrays.equals(q, gate));
            assertFalse(Arrays.equals(q, gIdx(model, 0, "self_attn.o_proj")));
            assertFalse(Arrays.equals(q, gIdx(model, 1, "self_attn.q_proj")));
            int[] down = gIdx(model, 0, "mlp.down_proj");
            assertEquals(768, down.length);
            assertEquals(768 / groupSize - 1, Arrays.stream(down).max().orElseThrow());
        }
    }

    @Test
    void withoutActOrderGIdxIsRowOverGroupSize(@TempDir Path dir) throws IOException {
        write(dir, 3, 64, false, 0, 2);
        try (ModelDirectory model = ModelDirectory.open(dir)) {
            int[] down = gIdx(model, 1, "mlp.down_proj");
            for (int i = 0; i < down.length; i++) assertEquals(i / 64, down[i]);
        }
    }

    static int[] gIdx(ModelDirectory model, int layer, String projection) {
        return model.mapTensor("model.layers." + layer + "." + projection + ".g_idx").toIntArray();
    }

    @ParameterizedTest(name = "{0}-bit")
    @CsvSource({"4, 8, 7", "3, 4, 3"})
    void zeroPointsAreAutoGptqV1(int bits, int zeroPoint, int stored, @TempDir Path dir) throws IOException {
        write(dir, bits, 128, true, 0, 1);
        try (ModelDirectory model = ModelDirectory.open(dir)) {
            for (String p : List.of("self_attn.q_proj", "self_attn.k_proj", "mlp.down_proj")) {
                String prefix = "model.layers.1." + p;
                long[] shape = model.tensor(prefix + ".scales").shape();
                int groups = (int) shape[0];
                int out = (int) shape[1];
                int[] qzeros = model.mapTensor(prefix + ".qzeros").toIntArray();
                assertEquals(GptqTensors.ZeroPoints.STORED_MINUS_ONE, GptqBits.symmetricConvention(qzeros, bits, groups, out), prefix);
                for (int g = 0; g < groups; g++) {
                    for (int o = 0; o < out; o++) assertEquals(stored, GptqBits.unpack(qzeros, g * out * bits / 32, 1, o, bits));
                }
                assertEquals(zeroPoint, stored + 1);
            }
        }
    }

    /** Quantised values: a triangle on [1, 2^bits - 1] centred on the zero-point; scales, norms and biases in range. */
    @ParameterizedTest(name = "{0}-bit")
    @CsvSource({"4", "3"})
    void valuesAreCentredOnTheZeroPointWithRealisticScales(int bits, @TempDir Path dir) throws IOException {
        write(dir, bits, 128, true, 5, 2);
        int zero = 1 << (bits - 1);
        try (ModelDirectory model = ModelDirectory.open(dir)) {
            String prefix = "model.layers.0.mlp.down_proj";
            int in = 768;
            int out = 256;
            int[] qweight = model.mapTensor(prefix + ".qweight").toIntArray();
            long[] histogram = new long[1 << bits];
            double sum = 0;
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    int v = GptqBits.unpack(qweight, o, out, i, bits);
                    histogram[v]++;
                    sum += v - zero;
                }
            }
            long n = (long) in * out;
            assertEquals(0, histogram[0], "values stay within the symmetric range");
            assertEquals(0, sum / n, 0.02, "mean value is the zero-point");
            // Triangle: P(zero) = 2^(bits-1) / 4^(bits-1), P(1) = 1 / 4^(bits-1).
            double side = 1 << (bits - 1);
            assertEquals(1 / side, histogram[zero] / (double) n, 0.2 / side);
            assertEquals(1 / (side * side), histogram[1] / (double) n, 0.3 / (side * side));
            assertEquals(histogram[1], histogram[(1 << bits) - 1], 0.3 * histogram[1]);

            double meanScale = SafetensorsLayout.WEIGHT_STD_DEV / TensorFill.valueStdDev(bits);
            float[] scales = model.mapTensor(prefix + ".scales").toFloatArray();
            for (float s : scales) assertTrue(s >= 0.49 * meanScale && s <= 1.51 * meanScale, "scale " + s);
            assertTrue(meanScale >= 0.002 && 1.5 * meanScale <= 0.02, "scales between 0.002 and 0.02");
            for (float b : model.mapTensor(prefix + ".bias").toFloatArray()) assertEquals(0f, b);
            for (float w : model.mapTensor("model.layers.0.input_layernorm.weight").toFloatArray()) assertEquals(1, w, 0.3);
            float[] embed = model.mapTensor("model.embed_tokens.weight").toFloatArray();
            double sq = 0;
            for (float e : embed) sq += e * e;
            assertEquals(0.02, Math.sqrt(sq / embed.length), 0.002);
        }
    }

    @Test
    void theSameSeedGivesTheSameBytesOnAnyNumberOfThreads(@TempDir Path dir) throws IOException {
        Path one = write(dir.resolve("one"), 3, 128, true, 9, 1);
        Path three = write(dir.resolve("three"), 3, 128, true, 9, 3);
        Path other = write(dir.resolve("other"), 3, 128, true, 10, 3);
        assertEquals(-1, Files.mismatch(one.resolve("model.safetensors"), three.resolve("model.safetensors")));
        long firstDifference = Files.mismatch(one.resolve("model.safetensors"), other.resolve("model.safetensors"));
        long headerLength = SafetensorsLayout.of(new CheckpointSpec(LlamaShape.TINY, 3, 128, true, "model", 9)).headerBytes().length;
        assertTrue(firstDifference >= headerLength, "another seed changes data, never the header");
        for (String f : List.of("config.json", "tokenizer.json", "quantize_config.json")) {
            assertEquals(-1, Files.mismatch(one.resolve(f), other.resolve(f)), f);
        }
    }

    @Test
    void packedWidthsTwoAndEightStayInRange() {
        for (int bits : new int[] {2, 8}) {
            TensorFill fill = TensorFill.packedWeights(256, 64, bits, 3);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) fill.byteSize()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int c = 0; c < fill.chunks(); c++) fill.fill(c, b);
            assertEquals(fill.byteSize(), b.position());
            int[] words = new int[b.position() / 4];
            b.flip().asIntBuffer().get(words);
            double sum = 0;
            for (int o = 0; o < 64; o++) {
                for (int i = 0; i < 256; i++) {
                    int v = GptqBits.unpack(words, o, 64, i, bits);
                    assertTrue(v >= 1 && v <= (1 << bits) - 1, bits + "-bit value " + v);
                    sum += v;
                }
            }
            assertEquals(1 << (bits - 1), sum / (256 * 64), 0.05 * (1 << (bits - 1)));
        }
    }

    @Test
    void fp16TablesHoldWhatTheySay() {
        short[] uniform = TensorFill.uniformTable(0.0025, 0.0075);
        assertEquals(0.0025, Half.f16ToFloat(uniform[0]), 1e-5);
        assertEquals(0.0075, Half.f16ToFloat(uniform[uniform.length - 1]), 1e-5);
        assertNotNull(TensorFill.normalTable(1, 0.05, 1));
    }
}
