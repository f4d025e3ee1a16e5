package dev.sparkllm.engine.checkpoint;

import dev.sparkllm.engine.gptq.GptqLinear;
import dev.sparkllm.engine.model.Linear;
import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.model.LlamaConfig.RopeConfig;
import dev.sparkllm.engine.model.LlamaWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ModelDirectory over synthetic checkpoints: layouts, config spellings, quantisation settings, and errors. */
class ModelDirectoryTest {

    @TempDir
    Path tmp;

    private int counter;

    private Path dir() {
        return tmp.resolve("m" + (counter++));
    }

    /** Loads the checkpoint and checks every weight against what was written. */
    private LlamaWeights loadAndCompare(TinyLlamaCheckpoint c, Path dir) {
        try (ModelDirectory m = ModelDirectory.open(dir)) {
            LlamaWeights w = m.loadWeights();
            Map<String, float[]> e = c.expected;
            float[] row = new float[c.hidden];
            for (int t = 0; t < c.vocab; t++) {
                w.embedding().lookup(t, row, 0);
                for (int i = 0; i < c.hidden; i++) {
                    assertEquals(e.get("model.embed_tokens.weight")[t * c.hidden + i], row[i], "embedding " + t);
                }
            }
            for (int l = 0; l < c.layers; l++) {
                String p = "model.layers." + l + ".";
                LlamaWeights.Layer layer = w.layers().get(l);
                assertArrayEquals(e.get(p + "input_layernorm.weight"), layer.attnNorm());
                assertArrayEquals(e.get(p + "post_attention_layernorm.weight"), layer.mlpNorm());
                String[] names = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                        "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
                List<Linear> linears = KjvTinyCheckpointTest.linears(layer);
                for (int k = 0; k < names.length; k++) {
                    float[] want = e.containsKey(p + names[k]) ? e.get(p + names[k]) : e.get(p + names[k] + ".weight");
                    assertArrayEquals(want, linears.get(k).dequantize(), p + names[k]);
                    assertEquals(c.bits != 0, linears.get(k) instanceof GptqLinear);
                }
            }
            assertArrayEquals(e.get("model.norm.weight"), w.finalNorm());
            float[] head = c.tied ? e.get("model.embed_tokens.weight") : e.get("lm_head.weight");
            assertArrayEquals(head, w.lmHead().dequantize());
            return w;
        }
    }

    @ParameterizedTest(name = "{0}-bit group {1} act-order {2} stored v1 {3} sym {4}")
    @CsvSource({
            "2, 32, true, true, true", "2, -1, false, false, true",
            "3, 32, true, true, true", "3, -1, true, true, true", "3, 64, false, false, false",
            "4, 32, false, true, true", "4, 64, true, false, true", "4, 32, true, true, false",
            "8, 32, true, true, true", "8, 64, false, false, false"})
    void gptqCheckpointsLoadExactly(int bits, int group, boolean actOrder, boolean v1, boolean sym) throws IOException {
        TinyLlamaCheckpoint c = new TinyLlamaCheckpoint();
        c.bits = bits;
        c.groupSize = group;
        c.actOrder = actOrder;
        c.storeV1 = v1;
        c.sym = sym;
        c.declaredFormat = v1 ? "gptq" : "gptq_v2";
        Path dir = c.write(dir());
        loadAndCompare(c, dir);
        try (ModelDirectory m = ModelDirectory.open(dir)) {
            QuantizationConfig q = m.quantization().orElseThrow();
            assertEquals(bits, q.bits());
            assertEquals(group, q.groupSize());
            assertEquals(actOrder, q.descAct());
            assertEquals(v1 ? QuantizationConfig.Format.GPTQ : QuantizationConfig.Format.GPTQ_V2, q.format());
        }
    }

    @Test
    void zeroPointsFollowTheDataWhenTheDeclaredFormatDisagrees() throws IOException {
        TinyLlamaCheckpoint c = new TinyLlamaCheckpoint();
        c.bits = 4;
        c.storeV1 = false;          // stored as v2
        c.declaredFormat = "gptq";  // but declared v1
        loadAndCompare(c, c.write(dir()));
        TinyLlamaCheckpoint d = new TinyLlamaCheckpoint();
        d.bits = 3;
        d.storeV1 = true;
        d.declaredFormat = "gptq_v2";
        loadAndCompare(d, d.write(dir()));
    }

    @Test
    void denseDtypesAndTiedEmbeddings() throws IOException {
        for (DType dtype : new DType[] {DType.F16, DType.BF16, DType.F32}) {
            for (boolean tied : new boolean[] {false, true}) {
                TinyLlamaCheckpoint c = new TinyLlamaCheckpoint();
                c.dtype = dtype;
                c.tied = tied;
                LlamaWeights w = loadAndCompare(c, c.write(dir()));
                if (tied) {
                    assertSame(((DenseEmbedding) w.embedding()).table(), ((DenseLinear) w.lmHead()).weight());
                }
            }
        }
    }

    @Test
    void shardedAndNamedWeightFiles() throws IOException {
        TinyLlamaCheckpoint sharded = new TinyLlamaCheckpoint();
        sharded.sharded = true;
        sharded.newSpelling = true;
        Path dir = sharded.write(dir());
        loadAndCompare(sharded, dir);
        try (ModelDirectory m = ModelDirectory.open(dir)) {
            assertEquals(2, m.weightFiles().size());
        }

        TinyLlamaCheckpoint named = new TinyLlamaCheckpoint();
        named.bits = 4;
        named.modelFileBaseName = "gptq_model-4bit-32g";
        named.quantInConfigJson = false; // only quantize_config.json, like the reference model's main branch
        Path namedDir = named.write(dir());
        loadAndCompare(named, namedDir);
        try (ModelDirectory m = ModelDirectory.open(namedDir)) {
            assertEquals(List.of(namedDir.resolve("gptq_model-4bit-32g.safetensors")), m.weightFiles());
        }

        TinyLlamaCheckpoint onlyConfig = new TinyLlamaCheckpoint();
        onlyConfig.bits = 3;
        onlyConfig.quantizeConfigFile = false;
        loadAndCompare(onlyConfig, onlyConfig.write(dir()));
    }

    @Test
    void codeLlamaLikeShapes() throws IOException {
        TinyLlamaCheckpoint c = new TinyLlamaCheckpoint();
        c.vocab = 32016;
        c.hidden = 64;
        c.heads = 8;
        c.kvHeads = 2;      // grouped-query attention, 4 query heads per KV head
        c.headDim = 16;     // q width 128, not the hidden size
        c.intermediate = 96;
        c.ropeTheta = 1e6;
        c.layers = 1;
        c.bits = 4;
        c.actOrder = true;
        Path dir = c.write(dir());
        loadAndCompare(c, dir);
        try (ModelDirectory m = ModelDirectory.open(dir)) {
            LlamaConfig cfg = m.config();
            assertEquals(32016, cfg.vocabSize());
            assertEquals(1e6, cfg.rope().theta());
            assertEquals(8, cfg.numHeads());
            assertEquals(2, cfg.numKvHeads());
            assertEquals(128, cfg.qDim());
            assertEquals(32, cfg.kvDim());
        }
    }

    @ParameterizedTest(name = "new spelling {0}: {1}")
    @CsvSource({
            "false, type, linear, 2.0, LINEAR",
            "false, rope_type, linear, 4.0, LINEAR",
            "false, type, dynamic, 2.0, DYNAMIC",
            "true, rope_type, linear, 8.0, LINEAR",
            "true, rope_type, dynamic, 2.0, DYNAMIC",
            "true, rope_type, default, 1.0, NONE"})
    void ropeScalingSpellings(boolean newSpelling, String key, String type, double factor, RopeConfig.Scaling expected) throws IOException {
        TinyLlamaCheckpoint c = new TinyLlamaCheckpoint();
        c.newSpelling = newSpelling;
        c.ropeTheta = 500000;
        c.ropeScaling = Map.of(key, type, "factor", factor);
        try (ModelDirectory m = ModelDirectory.open(c.write(dir()))) {
            RopeConfig rope = m.config().rope();
            assertEquals(500000, rope.theta());
            assertEquals(expected, rope.scaling());
            assertEquals(expected == RopeConfig.Scaling.NONE ? 1.0 : factor, rope.factor());
            if (expected == RopeConfig.Scaling.DYNAMIC) assertEquals(256, rope.originalMaxPositions());
        }
    }

    @Test
    void generationConfigAndEosLists() throws IOException {
        TinyLlamaCheckpoint c = new TinyLlamaCheckpoint();
        c.configEdits = cfg -> cfg.putArray("eos_token_id").add(2).add(32000);
        Path dir = c.write(dir());
        try (ModelDirectory m = ModelDirectory.open(dir)) {
            assertArrayEquals(new int[] {2, 32000}, m.config().eosTokenIds());
            GenerationConfig g = m.generationConfig();
            assertEquals(Boolean.TRUE, g.doSample());
            assertEquals(0.6, g.temperature());
            assertEquals(0.9, g.topP());
            assertArrayEquals(new int[] {2, 5}, g.eosTokenIds());
            assertEquals(null, g.topK());
        }
        Files.delete(dir.resolve("generation_config.json"));
        try (ModelDirectory m = ModelDirectory.open(dir)) {
            assertEquals(null, m.generationConfig().temperature());
        }
    }

    @Test
    void fingerprintIsStableAndSensitive() throws IOException {
        Path a = new TinyLlamaCheckpoint().write(dir());
        Path b = new TinyLlamaCheckpoint().write(dir());
        TinyLlamaCheckpoint other = new TinyLlamaCheckpoint();
        other.ropeTheta = 20000;
        Path c = other.write(dir());
        TinyLlamaCheckpoint quantised = new TinyLlamaCheckpoint();
        quantised.bits = 4;
        Path d = quantised.write(dir());
        try (ModelDirectory ma = ModelDirectory.open(a); ModelDirectory mb = ModelDirectory.open(b);
             ModelDirectory mc = ModelDirectory.open(c); ModelDirectory md = ModelDirectory.open(d)) {
            assertEquals(ma.fingerprint(), mb.fingerprint());
            assertNotEquals(ma.fingerprint(), mc.fingerprint());
            assertNotEquals(ma.fingerprint(), md.fingerprint());
            assertTrue(ma.fingerprint().matches("[0-9a-f]{16}"), ma.fingerprint());
        }
    }

    @Test
    void headersAreExposedForDeviceBackends() throws IOException {
        TinyLlamaCheckpoint c = new TinyLlamaCheckpoint();
        c.bits = 4;
        try (ModelDirectory m = ModelDirectory.open(c.write(dir()))) {
            TensorInfo q = m.tensor("model.layers.0.self_attn.q_proj.qweight");
            assertArrayEquals(new long[] {8, 64}, q.shape());
            assertEquals(DType.I32, q.dtype());
            assertEquals(8 * 64, m.mapTensor("model.layers.0.self_attn.q_proj.qweight").toIntArray().length);
        }
    }
}
