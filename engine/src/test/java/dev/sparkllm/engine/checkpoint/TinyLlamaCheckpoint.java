package dev.sparkllm.engine.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sparkllm.engine.gptq.GptqTestPacker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Writes small synthetic Llama checkpoints for tests: random weights, dense in any float dtype or GPTQ with
 * any bits/group/act-order/zero-point convention (through {@link GptqTestPacker}), single-file or sharded,
 * config.json in either spelling. Records what each weight must load as, for comparison.
 */
public final class TinyLlamaCheckpoint {

    public int vocab = 96;
    public int hidden = 64;
    public int intermediate = 128;
    public int layers = 2;
    public int heads = 4;
    public int kvHeads = 2;
    public Integer headDim;          // null: hidden / heads, and no head_dim in config.json
    public DType dtype = DType.F16;  // dense weights
    public boolean tied;
    public boolean newSpelling;      // rope_parameters + head_dim instead of rope_theta + rope_scaling
    public double ropeTheta = 10000;
    public Map<String, Object> ropeScaling; // e.g. {type: linear, factor: 2}; null for none

    // GPTQ (bits 0: unquantised)
    public int bits;
    public int groupSize = 32;
    public boolean actOrder;
    public boolean sym = true;
    public boolean storeV1 = true;          // how zero-points are actually stored
    public String declaredFormat = "gptq";  // what the config says
    public boolean quantInConfigJson = true;
    public boolean quantizeConfigFile = true;
    public String modelFileBaseName;        // null: model.safetensors
    public boolean sharded;

    /** Edits applied to config.json just before it is written. */
    public Consumer<ObjectNode> configEdits = c -> { };

    /** The weights each tensor must load as: dense values, or the dequantised GPTQ weight [out, in]. */
    public final Map<String, float[]> expected = new LinkedHashMap<>();

    private final ObjectMapper json = new ObjectMapper();

    int headDim() {
        return headDim != null ? headDim : hidden / heads;
    }

    public Path write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Random random = new Random(7);
        Map<String, SafetensorsWriter> shards = new LinkedHashMap<>();
        SafetensorsWriter first = new SafetensorsWriter().metadata("format", "pt");
        SafetensorsWriter second = sharded ? new SafetensorsWriter().metadata("format", "pt") : first;
        String firstName = sharded ? "model-00001-of-00002.safetensors"
                : (modelFileBaseName != null ? modelFileBaseName : "model") + ".safetensors";
        shards.put(firstName, first);
        if (sharded) shards.put("model-00002-of-00002.safetensors", second);
        Map<String, String> weightMap = new HashMap<>();

        dense(first, firstName, weightMap, "model.embed_tokens.weight", vocab, hidden, random);
        for (int l = 0; l < layers; l++) {
            SafetensorsWriter w = l < layers / 2 ? first : second;
            String wName = l < layers / 2 ? firstName : "model-00002-of-00002.safetensors";
            String p = "model.layers." + l + ".";
            vector(w, wName, weightMap, p + "input_layernorm.weight", hidden, random);
            linear(w, wName, weightMap, p + "self_attn.q_proj", hidden, heads * headDim(), random);
            linear(w, wName, weightMap, p + "self_attn.k_proj", hidden, kvHeads * headDim(), random);
            linear(w, wName, weightMap, p + "self_attn.v_proj", hidden, kvHeads * headDim(), random);
            linear(w, wName, weightMap, p + "self_attn.o_proj", heads * headDim(), hidden, random);
            vector(w, wName, weightMap, p + "post_attention_layernorm.weight", hidden, random);
            linear(w, wName, weightMap, p + "mlp.gate_proj", hidden, intermediate, random);
            linear(w, wName, weightMap, p + "mlp.up_proj", hidden, intermediate, random);
            linear(w, wName, weightMap, p + "mlp.down_proj", intermediate, hidden, random);
        }
        String lastName = sharded ? "model-00002-of-00002.safetensors" : firstName;
        vector(second, lastName, weightMap, "model.norm.weight", hidden, random);
        if (!tied) dense(second, lastName, weightMap, "lm_head.weight", vocab, hidden, random);

        for (Map.Entry<String, SafetensorsWriter> e : shards.entrySet()) e.getValue().write(dir.resolve(e.getKey()));
        if (sharded) {
            ObjectNode index = json.createObjectNode();
            index.putObject("metadata").put("total_size", 0);
            ObjectNode map = index.putObject("weight_map");
            weightMap.forEach(map::put);
            json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
        }
        writeConfigs(dir);
        return dir;
    }

    private void writeConfigs(Path dir) throws IOException {
        ObjectNode c = json.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("vocab_size", vocab);
        c.put("hidden_size", hidden);
        c.put("intermediate_size", intermediate);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        c.put("max_position_embeddings", 256);
        c.put("rms_norm_eps", 1e-6);
        c.put("hidden_act", "silu");
        c.put("tie_word_embeddings", tied);
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        if (newSpelling) {
            c.put("head_dim", headDim());
            ObjectNode rope = c.putObject("rope_parameters");
            rope.put("rope_theta", ropeTheta);
            rope.put("rope_type", "default");
            if (ropeScaling != null) rope.setAll((ObjectNode) json.valueToTree(ropeScaling));
        } else {
            if (headDim != null) c.put("head_dim", headDim);
            c.put("rope_theta", ropeTheta);
            if (ropeScaling != null) c.set("rope_scaling", json.valueToTree(ropeScaling));
            else c.putNull("rope_scaling");
        }
        if (bits != 0) {
            ObjectNode q = json.createObjectNode();
            q.put("bits", bits);
            q.put("group_size", groupSize);
            q.put("desc_act", actOrder);
            q.put("sym", sym);
            q.put("quant_method", "gptq");
            q.put("checkpoint_format", declaredFormat);
            if (modelFileBaseName != null) q.put("model_file_base_name", modelFileBaseName);
            if (quantInConfigJson) c.set("quantization_config", q);
            if (quantizeConfigFile) json.writeValue(dir.resolve("quantize_config.json").toFile(), q);
        }
        configEdits.accept(c);
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), c);
        ObjectNode g = json.createObjectNode();
        g.put("do_sample", true);
        g.put("temperature", 0.6);
        g.put("top_p", 0.9);
        g.putArray("eos_token_id").add(2).add(5);
        json.writeValue(dir.resolve("generation_config.json").toFile(), g);
    }

    private void dense(SafetensorsWriter w, String file, Map<String, String> map, String name, int rows, int cols, Random random) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = (float) (random.nextGaussian() * 0.05);
        w.addFloats(name, dtype, new long[] {rows, cols}, v);
        expected.put(name, rounded(v));
        map.put(name, file);
    }

    private void vector(SafetensorsWriter w, String file, Map<String, String> map, String name, int n, Random random) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (1 + random.nextGaussian() * 0.1);
        w.addFloats(name, dtype, new long[] {n}, v);
        expected.put(name, rounded(v));
        map.put(name, file);
    }

    private void linear(SafetensorsWriter w, String file, Map<String, String> map, String prefix, int in, int out, Random random) {
        if (bits == 0) {
            dense(w, file, map, prefix + ".weight", out, in, random);
            return;
        }
        float[] weights = GptqTestPacker.randomWeights(in, out, 0.05, random.nextLong());
        GptqTestPacker.Packed p = GptqTestPacker.quantize(weights, in, out, bits, groupSize, actOrder, sym, storeV1, random.nextLong());
        int groups = groupSize == -1 ? 1 : in / groupSize;
        w.addInts(prefix + ".qweight", new long[] {in * bits / 32, out}, p.qweight());
        w.addInts(prefix + ".qzeros", new long[] {groups, out * bits / 32}, p.qzeros());
        w.addFloats(prefix + ".scales", DType.F16, new long[] {groups, out}, p.scales());
        w.addInts(prefix + ".g_idx", new long[] {in}, p.gIdx());
        for (String suffix : new String[] {".qweight", ".qzeros", ".scales", ".g_idx"}) map.put(prefix + suffix, file);
        expected.put(prefix, p.expected());
    }

    private float[] rounded(float[] v) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = switch (dtype) {
                case F16 -> Half.f16ToFloat(Half.floatToF16(v[i]));
                case BF16 -> Half.bf16ToFloat(Half.floatToBf16(v[i]));
                default -> v[i];
            };
        }
        return r;
    }
}
