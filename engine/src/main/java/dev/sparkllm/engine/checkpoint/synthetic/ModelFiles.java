package dev.sparkllm.engine.checkpoint.synthetic;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The small files of a synthetic checkpoint, as the reference repository (TheBloke/Llama-2-70B-chat-GPTQ and its
 * 7B/13B siblings) carries them: Meta's {@code config.json} (keys sorted, as transformers writes them) with the
 * GPTQ settings appended as {@code quantization_config}, Meta's {@code generation_config.json}, AutoGPTQ's
 * {@code quantize_config.json}, and a README that says the weights and vocabulary are synthetic.
 */
final class ModelFiles {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** Python's {@code json.dumps(indent=2)} layout: two-space indents, arrays one element a line, {@code "k": v}. */
    private static final ObjectWriter PYTHON_STYLE = new ObjectMapper().writer(new DefaultPrettyPrinter(
            Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                    .withObjectEmptySeparator("").withArrayEmptySeparator(""))
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n")));

    private ModelFiles() {
    }

    /** config.json: Llama-2-chat's for the shape, then quantization_config. */
    static ObjectNode config(CheckpointSpec spec) {
        LlamaShape s = spec.shape();
        ObjectNode c = F.objectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        c.put("hidden_act", "silu");
        c.put("hidden_size", s.hiddenSize());
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", s.intermediateSize());
        c.put("max_position_embeddings", s.maxPositions());
        c.put("model_type", "llama");
        c.put("num_attention_heads", s.numHeads());
        c.put("num_hidden_layers", s.numLayers());
        c.put("num_key_value_heads", s.numKvHeads());
        c.put("pad_token_id", 0);
        c.put("pretraining_tp", 1);
        c.putRawValue("rms_norm_eps", new RawValue("1e-05"));
        c.putNull("rope_scaling");
        c.put("rope_theta", 10000.0);
        c.put("tie_word_embeddings", false);
        c.put("torch_dtype", "float16");
        c.put("transformers_version", "4.32.0.dev0");
        c.put("use_cache", true);
        c.put("vocab_size", s.vocabSize());
        ObjectNode q = quantizeConfig(spec);
        q.put("quant_method", "gptq");
        c.set("quantization_config", q);
        return c;
    }

    /** quantize_config.json as AutoGPTQ writes it (symmetric, true-sequential, damping 0.1 as in the reference). */
    static ObjectNode quantizeConfig(CheckpointSpec spec) {
        ObjectNode q = F.objectNode();
        q.put("bits", spec.bits());
        q.put("group_size", spec.groupSize());
        q.put("damp_percent", 0.1);
        q.put("desc_act", spec.actOrder());
        q.put("sym", true);
        q.put("true_sequential", true);
        q.putNull("model_name_or_path");
        q.put("model_file_base_name", spec.fileBaseName());
        return q;
    }

    /** generation_config.json as Meta ships Llama-2-chat's: sampling at temperature 0.6, top-p 0.9. */
    static ObjectNode generationConfig(LlamaShape shape) {
        ObjectNode g = F.objectNode();
        g.put("bos_token_id", 1);
        g.put("do_sample", true);
        g.put("eos_token_id", 2);
        g.put("max_length", shape.maxPositions());
        g.put("pad_token_id", 0);
        g.put("temperature", 0.6);
        g.put("top_p", 0.9);
        g.put("transformers_version", "4.32.0.dev0");
        return g;
    }

    static void writeJson(Path file, JsonNode node) throws IOException {
        Files.writeString(file, PYTHON_STYLE.writeValueAsString(node), StandardCharsets.UTF_8);
    }

    static String size(long bytes) {
        return bytes >= 100_000_000 ? String.format(Locale.ROOT, "%.2f GB", bytes / 1e9)
                : String.format(Locale.ROOT, "%.2f MB", bytes / 1e6);
    }

    static String readme(CheckpointSpec spec, SafetensorsLayout layout, String command) {
        LlamaShape s = spec.shape();
        StringBuilder b = new StringBuilder();
        b.append("# Synthetic Llama-2 ").append(s.name().toUpperCase(Locale.ROOT)).append(" GPTQ checkpoint: ")
                .append(spec.branchName()).append("\n\n");
        b.append("**Random weights and a synthetic tokenizer: this model generates gibberish.** It exists to test loading,\n")
                .append("memory and speed on a checkpoint laid out exactly as the GPTQ branches of TheBloke/Llama-2-70B-chat-GPTQ\n")
                .append("(and its 7B/13B siblings) are, without downloading one. Made by:\n\n    ").append(command).append("\n\n");
        b.append("| | |\n| --- | --- |\n");
        b.append("| shape | `LlamaForCausalLM`, ").append(s.numLayers()).append(" layers, hidden ").append(s.hiddenSize())
                .append(", intermediate ").append(s.intermediateSize()).append(", ").append(s.numHeads()).append(" heads of ")
                .append(s.headDim()).append(", ").append(s.numKvHeads()).append(" KV heads, vocabulary ").append(s.vocabSize())
                .append(", context ").append(s.maxPositions()).append(" |\n");
        b.append("| GPTQ | ").append(spec.bits()).append("-bit, group_size ").append(spec.groupSize()).append(", desc_act ")
                .append(spec.actOrder()).append(", sym, AutoGPTQ v1 zero-points (stored minus one: ")
                .append((1 << (spec.bits() - 1)) - 1).append(") |\n");
        b.append("| weights | `").append(spec.fileName()).append("`, ").append(layout.tensors().size()).append(" tensors, ")
                .append(layout.fileSize()).append(" bytes (").append(size(layout.fileSize())).append(") |\n");
        layout.bytesByKind().forEach((k, v) -> b.append("| ").append(k).append(" | ").append(size(v)).append(" |\n"));
        b.append("| seed | ").append(spec.seed()).append(" |\n\n");
        b.append("## What is real and what is not\n\n");
        b.append("- `config.json`, `generation_config.json` and `quantize_config.json` are those of Meta's Llama-2-chat at this\n")
                .append("  shape and of an AutoGPTQ branch with these settings (damp_percent 0.1, true_sequential).\n");
        b.append("- Tensor names, dtypes, shapes and the order of the data are AutoGPTQ's as written by `safetensors`\n")
                .append("  (I32 tensors, then F16, each by name), with the all-zero fp16 `bias` AutoGPTQ saved for every projection.\n")
                .append("  Quantised values are `x + y + 1` with `x, y` uniform, a triangle\n")
                .append("  centred on the zero-point; scales are uniform in a realistic range (weights of standard deviation about\n")
                .append(String.format(Locale.ROOT, "  %.3f); embeddings and lm_head are normal with standard deviation 0.02, norms about 1.\n",
                        SafetensorsLayout.WEIGHT_STD_DEV));
        b.append("- With act-order, `g_idx` comes from a random permutation of the input rows, shared by the projections that\n")
                .append("  read the same input (q/k/v, gate/up), as GPTQ's Hessian order is.\n");
        b.append("- The tokenizer is **synthetic**: Llama-2's format (BPE with byte fallback, `<unk>` `<s>` `</s>`, 256 byte\n")
                .append("  tokens, then made-up pieces and merges, 32000 tokens) but not Meta's vocabulary, and there is no\n")
                .append("  `tokenizer.model`. Token ids are in range for the model; the text means nothing.\n");
        return b.toString();
    }
}
