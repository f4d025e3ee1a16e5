package dev.sparkllm.engine.checkpoint;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ModelDirectory rejects what it cannot load with a CheckpointException naming the file and the problem. */
class ModelDirectoryRejectionTest {

    @TempDir
    Path tmp;

    private int counter;

    private Path dir() {
        return tmp.resolve("m" + (counter++));
    }

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
    void aContextTooLargeToCountIsRefusedNamingTheFileAndField() throws IOException {
        TinyLlamaCheckpoint huge = new TinyLlamaCheckpoint();
        huge.configEdits = c -> c.put("max_position_embeddings", Integer.MAX_VALUE);
        assertRejected(huge, "config.json", "max_position_embeddings 2147483647 is more than this engine supports");
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
        awq.configEdits = c -> ((ObjectNode) c.get("quantization_config")).put("quant_method", "awq");
        assertRejected(awq, "config.json", "quant_method 'awq' is not supported");
        TinyLlamaCheckpoint fiveBits = new TinyLlamaCheckpoint();
        fiveBits.bits = 4;
        fiveBits.configEdits = c -> ((ObjectNode) c.get("quantization_config")).put("bits", 5);
        assertRejected(fiveBits, "bits 5 is not supported");
        TinyLlamaCheckpoint format = new TinyLlamaCheckpoint();
        format.bits = 4;
        format.configEdits = c -> ((ObjectNode) c.get("quantization_config")).put("checkpoint_format", "marlin");
        assertRejected(format, "checkpoint_format 'marlin' is not supported");
        TinyLlamaCheckpoint group = new TinyLlamaCheckpoint();
        group.bits = 4;
        group.configEdits = c -> ((ObjectNode) c.get("quantization_config")).put("group_size", 48);
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
        wrongBits.configEdits = c -> ((ObjectNode) c.get("quantization_config")).put("bits", 8);
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
