package dev.sparkllm.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.model.LlamaConfig.RopeConfig;

import java.nio.file.Path;
import java.util.Locale;

import static dev.sparkllm.engine.checkpoint.JsonFiles.has;
import static dev.sparkllm.engine.checkpoint.JsonFiles.optBoolean;
import static dev.sparkllm.engine.checkpoint.JsonFiles.optDouble;
import static dev.sparkllm.engine.checkpoint.JsonFiles.optIdList;
import static dev.sparkllm.engine.checkpoint.JsonFiles.optInt;
import static dev.sparkllm.engine.checkpoint.JsonFiles.optText;
import static dev.sparkllm.engine.checkpoint.JsonFiles.requireInt;

/**
 * Reads a Hugging Face {@code config.json} of the Llama family into a {@link LlamaConfig}, in both the older
 * spelling ({@code rope_theta}, {@code rope_scaling}) and the newer one ({@code rope_parameters},
 * {@code head_dim}). Anything the engine does not implement (another architecture, biases, an activation
 * other than SiLU, a rope type other than default/linear/dynamic) is rejected by name, never ignored.
 */
final class LlamaConfigReader {

    /** Most positions a context may have: 2^24, far beyond any Llama checkpoint, far below int overflow. */
    static final int MAX_POSITIONS = 1 << 24;

    private LlamaConfigReader() {
    }

    static LlamaConfig read(JsonNode c, Path file) {
        checkArchitecture(c, file);
        rejectIfTrue(c, "attention_bias", file);
        rejectIfTrue(c, "mlp_bias", file);
        String act = optText(c, "hidden_act", "silu", file);
        if (!act.equals("silu")) {
            throw new CheckpointException(file + ": hidden_act '" + act + "' is not supported; only silu (SwiGLU) Llama models are");
        }
        int hidden = positive(c, "hidden_size", requireInt(c, "hidden_size", file), file);
        int heads = positive(c, "num_attention_heads", requireInt(c, "num_attention_heads", file), file);
        int kvHeads = positive(c, "num_key_value_heads", optInt(c, "num_key_value_heads", heads, file), file);
        if (heads % kvHeads != 0) {
            throw new CheckpointException(file + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        int headDim;
        if (has(c, "head_dim")) {
            headDim = positive(c, "head_dim", requireInt(c, "head_dim", file), file);
        } else {
            if (hidden % heads != 0) {
                throw new CheckpointException(file + ": hidden_size " + hidden + " is not divisible by num_attention_heads "
                        + heads + " and no head_dim is given");
            }
            headDim = hidden / heads;
        }
        if (headDim % 2 != 0) {
            throw new CheckpointException(file + ": head_dim " + headDim + " is odd; rotary embeddings need an even head_dim");
        }
        int maxPositions = positive(c, "max_position_embeddings", optInt(c, "max_position_embeddings", 2048, file), file);
        if (maxPositions > MAX_POSITIONS) {
            // Positions are counted in ints throughout (KV blocks, rotary tables); a larger value would overflow
            // far from here, in a message about blocks that names neither the file nor the field.
            throw new CheckpointException(file + ": max_position_embeddings " + maxPositions + " is more than this engine "
                    + "supports (at most " + MAX_POSITIONS + " positions); set the model's real context length in config.json");
        }
        int[] eos = optIdList(c, "eos_token_id", file);
        return new LlamaConfig(
                positive(c, "vocab_size", requireInt(c, "vocab_size", file), file),
                hidden,
                positive(c, "intermediate_size", requireInt(c, "intermediate_size", file), file),
                positive(c, "num_hidden_layers", requireInt(c, "num_hidden_layers", file), file),
                heads,
                kvHeads,
                headDim,
                maxPositions,
                (float) optDouble(c, "rms_norm_eps", 1e-6, file),
                readRope(c, maxPositions, file),
                optBoolean(c, "tie_word_embeddings", false, file),
                optInt(c, "bos_token_id", -1, file),
                eos == null ? new int[0] : eos);
    }

    private static void checkArchitecture(JsonNode c, Path file) {
        String modelType = optText(c, "model_type", null, file);
        JsonNode archs = c.get("architectures");
        boolean llamaArch = false;
        String named = null;
        if (archs != null && archs.isArray()) {
            for (JsonNode a : archs) {
                if (a.isTextual()) {
                    named = a.textValue();
                    llamaArch |= a.textValue().equals("LlamaForCausalLM");
                }
            }
        }
        if (modelType != null && !modelType.equals("llama")) {
            throw new CheckpointException(file + ": model_type '" + modelType
                    + "' is not supported; only the Llama family (model_type llama, LlamaForCausalLM) is");
        }
        if (named != null && !llamaArch) {
            throw new CheckpointException(file + ": architecture '" + named
                    + "' is not supported; only LlamaForCausalLM is");
        }
        if (modelType == null && !llamaArch) {
            throw new CheckpointException(file + ": neither model_type nor architectures says this is a Llama model"
                    + " (expected model_type llama or LlamaForCausalLM)");
        }
    }

    private static RopeConfig readRope(JsonNode c, int maxPositions, Path file) {
        JsonNode params = c.get("rope_parameters");
        double theta;
        JsonNode scaling;
        if (params != null && !params.isNull()) {
            if (!params.isObject()) {
                throw new CheckpointException(file + ": rope_parameters must be an object");
            }
            theta = optDouble(params, "rope_theta", optDouble(c, "rope_theta", 10000.0, file), file);
            scaling = params;
        } else {
            theta = optDouble(c, "rope_theta", 10000.0, file);
            scaling = c.get("rope_scaling");
            if (scaling != null && !scaling.isNull() && !scaling.isObject()) {
                throw new CheckpointException(file + ": rope_scaling must be an object or null");
            }
        }
        if (!(theta > 0) || Double.isInfinite(theta)) {
            throw new CheckpointException(file + ": rope_theta " + theta + " must be a positive number");
        }
        if (scaling == null || scaling.isNull()) {
            return RopeConfig.plain(theta);
        }
        String type = optText(scaling, "rope_type", optText(scaling, "type", "default", file), file).toLowerCase(Locale.ROOT);
        RopeConfig.Scaling kind = switch (type) {
            case "default" -> RopeConfig.Scaling.NONE;
            case "linear" -> RopeConfig.Scaling.LINEAR;
            case "dynamic" -> RopeConfig.Scaling.DYNAMIC;
            default -> throw new CheckpointException(file + ": rope type '" + type
                    + "' is not supported; supported: default, linear, dynamic");
        };
        if (kind == RopeConfig.Scaling.NONE) {
            return RopeConfig.plain(theta);
        }
        double factor = optDouble(scaling, "factor", Double.NaN, file);
        if (!(factor >= 1.0) || Double.isInfinite(factor)) {
            throw new CheckpointException(file + ": " + type + " rope scaling needs a factor >= 1, found "
                    + (Double.isNaN(factor) ? "none" : factor));
        }
        // Hugging Face measures the dynamic NTK threshold from original_max_position_embeddings when given,
        // else from max_position_embeddings.
        int original = optInt(scaling, "original_max_position_embeddings", maxPositions, file);
        return new RopeConfig(theta, kind, factor, original);
    }

    private static void rejectIfTrue(JsonNode c, String key, Path file) {
        if (optBoolean(c, key, false, file)) {
            throw new CheckpointException(file + ": " + key + " true is not supported; Llama models without biases only");
        }
    }

    private static int positive(JsonNode c, String key, int value, Path file) {
        if (value <= 0) {
            throw new CheckpointException(file + ": " + key + " must be positive, found " + value);
        }
        return value;
    }
}
