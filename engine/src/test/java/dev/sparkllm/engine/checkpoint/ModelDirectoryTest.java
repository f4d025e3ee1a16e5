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
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    // ---- errors -------------------------------------------------------------------------------------------

    private void assertRejected(TinyLlamaCheckpoint c, String... expected) throws IOException {
        Path dir = c.write(dir());
        assertRejected(dir, expected);
    }

    private static void assertRejected(Path dir, String... expected) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelDirectory.open(dir).close());
        for (String s : expected) {
            assertTrue(e.getMessage().contains(s), "message '" + e.getMessage() + "' lacks '" + s + "'");
        }
    }

    @Test
    void missingConfigJson() throws IOException {
        Path dir = new TinyLlamaCheckpoint().write(dir());
        Files.delete(dir.resolve("config.json"));
        assertRejected(dir, "config.json not found in " + dir, "expected a Hugging Face model directory");
        assertRejected(tmp.resolve("nowhere"), "not a directory");
    }

    @Test
    void unsupportedArchitecturesAndFeatures() throws IOException {
        TinyLlamaCheckpoint mistral = new TinyLlamaCheckpoint();
        mistral.configEdits = c -> {
            c.putArray("architectures").add("MistralForCausalLM");
            c.put("model_type", "mistral");
        };
        assertRejected(mistral, "config.json", "model_type 'mistral' is not supported");
        TinyLlamaCheckpoint arch = new TinyLlamaCheckpoint();
        arch.configEdits = c -> c.putArray("architectures").add("LlamaForSequenceClassification");
        assertRejected(arch, "architecture 'LlamaForSequenceClassification' is not supported");
        TinyLlamaCheckpoint bias = new TinyLlamaCheckpoint();
        bias.configEdits = c -> c.put("attention_bias", true);
        assertRejected(bias, "attention_bias true is not supported");
        TinyLlamaCheckpoint mlpBias = new TinyLlamaCheckpoint();
        mlpBias.configEdits = c -> c.put("mlp_bias", true);
        assertRejected(mlpBias, "mlp_bias true is not supported");
        TinyLlamaCheckpoint gelu = new TinyLlamaCheckpoint();
        gelu.configEdits = c -> c.put("hidden_act", "gelu");
        assertRejected(gelu, "hidden_act 'gelu' is not supported");
        TinyLlamaCheckpoint yarn = new TinyLlamaCheckpoint();
        yarn.ropeScaling = Map.of("rope_type", "yarn", "factor", 4.0);
        assertRejected(yarn, "rope type 'yarn' is not supported");
        TinyLlamaCheckpoint llama3 = new TinyLlamaCheckpoint();
        llama3.newSpelling = true;
        llama3.ropeScaling = Map.of("rope_type", "llama3", "factor", 8.0);
        assertRejected(llama3, "rope type 'llama3' is not supported");
        TinyLlamaCheckpoint heads = new TinyLlamaCheckpoint();
        heads.configEdits = c -> c.put("num_key_value_heads", 3);
        assertRejected(heads, "num_attention_heads 4 is not a multiple of num_key_value_heads 3");
    }

    @Test
    void unsupportedQuantisation() throws IOException {
        TinyLlamaCheckpoint awq = new TinyLlamaCheckpoint();
        awq.bits = 4;
        awq.configEdits = c -> ((com.fasterxml.jackson.databind.node.ObjectNode) c.get("quantization_config")).put("quant_method", "awq");
        assertRejected(awq, "config.json", "quant_method 'awq' is not supported");
        TinyLlamaCheckpoint fiveBits = new TinyLlamaCheckpoint();
        fiveBits.bits = 4;
        fiveBits.configEdits = c -> ((com.fasterxml.jackson.databind.node.ObjectNode) c.get("quantization_config")).put("bits", 5);
        assertRejected(fiveBits, "bits 5 is not supported");
        TinyLlamaCheckpoint format = new TinyLlamaCheckpoint();
        format.bits = 4;
        format.configEdits = c -> ((com.fasterxml.jackson.databind.node.ObjectNode) c.get("quantization_config")).put("checkpoint_format", "marlin");
        assertRejected(format, "checkpoint_format 'marlin' is not supported");
        TinyLlamaCheckpoint group = new TinyLlamaCheckpoint();
        group.bits = 4;
        group.configEdits = c -> ((com.fasterxml.jackson.databind.node.ObjectNode) c.get("quantization_config")).put("group_size", 48);
        assertRejected(group, "group_size 48 does not divide the input dimension 64");
        TinyLlamaCheckpoint noConfig = new TinyLlamaCheckpoint();
        noConfig.bits = 4;
        noConfig.quantInConfigJson = false;
        noConfig.quantizeConfigFile = false;
        assertRejected(noConfig, "is GPTQ-quantised but the directory has no quantize_config.json");
    }

    @Test
    void tensorsMissingOrMisshapen() throws IOException {
        TinyLlamaCheckpoint moreLayers = new TinyLlamaCheckpoint();
        moreLayers.configEdits = c -> c.put("num_hidden_layers", 3);
        assertRejected(moreLayers, "model.safetensors", "tensor 'model.layers.2.input_layernorm.weight' is missing");
        TinyLlamaCheckpoint wider = new TinyLlamaCheckpoint();
        wider.configEdits = c -> c.put("intermediate_size", 160);
        assertRejected(wider, "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [128, 64], expected [160, 64]");
        TinyLlamaCheckpoint quantWider = new TinyLlamaCheckpoint();
        quantWider.bits = 4;
        quantWider.configEdits = c -> c.put("vocab_size", 100);
        assertRejected(quantWider, "tensor 'model.embed_tokens.weight' has shape [96, 64], expected [100, 64]");
        TinyLlamaCheckpoint wrongBits = new TinyLlamaCheckpoint();
        wrongBits.bits = 4;
        wrongBits.configEdits = c -> ((com.fasterxml.jackson.databind.node.ObjectNode) c.get("quantization_config")).put("bits", 8);
        wrongBits.quantizeConfigFile = false;
        assertRejected(wrongBits, "q_proj.qweight' has shape [8, 64], expected [16, 64]", "8-bit GPTQ");
        TinyLlamaCheckpoint noHead = new TinyLlamaCheckpoint();
        noHead.tied = true;
        noHead.configEdits = c -> c.put("tie_word_embeddings", false);
        assertRejected(noHead, "'lm_head.weight' is missing", "tie_word_embeddings");
    }

    @Test
    void weightFilesMissingOrInconsistent() throws IOException {
        Path none = new TinyLlamaCheckpoint().write(dir());
        Files.delete(none.resolve("model.safetensors"));
        assertRejected(none, "no safetensors weights found");

        TinyLlamaCheckpoint sharded = new TinyLlamaCheckpoint();
        sharded.sharded = true;
        Path dir = sharded.write(dir());
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        assertRejected(dir, "model-00002-of-00002.safetensors: weights file not found", "model.safetensors.index.json");

        Path truncated = new TinyLlamaCheckpoint().write(dir());
        Path file = truncated.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        assertRejected(truncated, file.toString(), "outside the data region");
    }

    @Test
    void nonZeroBiasIsRejectedZeroBiasIgnored() throws IOException {
        for (float value : new float[] {0f, 0.5f}) {
            TinyLlamaCheckpoint c = new TinyLlamaCheckpoint();
            Path dir = c.write(dir());
            // Rewrite the file with one extra bias tensor.
            SafetensorsWriter w = new SafetensorsWriter();
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
                for (TensorInfo t : f.tensors().values()) {
                    w.addFloats(t.name(), DType.F32, t.shape(), f.map(t.name()).toFloatArray());
                }
            }
            w.addFloats("model.layers.1.self_attn.q_proj.bias", DType.F16, new long[] {64}, filled(64, value));
            w.write(dir.resolve("model.safetensors"));
            if (value == 0f) {
                try (ModelDirectory m = ModelDirectory.open(dir)) {
                    assertInstanceOf(DenseLinear.class, m.loadWeights().layers().get(1).wq());
                }
            } else {
                CheckpointException e = assertThrows(CheckpointException.class, () -> {
                    try (ModelDirectory m = ModelDirectory.open(dir)) {
                        m.loadWeights();
                    }
                });
                assertTrue(e.getMessage().contains("'model.layers.1.self_attn.q_proj.bias' is a non-zero bias"), e.getMessage());
            }
        }
    }

    @Test
    void gIdxOutOfRangeIsRejectedNamingTheFile() throws IOException {
        TinyLlamaCheckpoint c = new TinyLlamaCheckpoint();
        c.bits = 4;
        c.actOrder = true;
        Path dir = c.write(dir());
        Path file = dir.resolve("model.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (TensorInfo t : f.tensors().values()) {
                if (t.dtype() == DType.I32) {
                    int[] v = f.map(t.name()).toIntArray();
                    if (t.name().equals("model.layers.0.mlp.up_proj.g_idx")) v[5] = 9; // only groups 0 and 1 exist
                    w.addInts(t.name(), t.shape(), v);
                } else {
                    w.addFloats(t.name(), t.dtype(), t.shape(), f.map(t.name()).toFloatArray());
                }
            }
        }
        w.write(file);
        CheckpointException e = assertThrows(CheckpointException.class, () -> {
            try (ModelDirectory m = ModelDirectory.open(dir)) {
                m.loadWeights();
            }
        });
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("model.layers.0.mlp.up_proj: g_idx[5] = 9 is outside the 2 groups"), e.getMessage());
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
