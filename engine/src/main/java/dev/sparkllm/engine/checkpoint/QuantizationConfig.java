package dev.sparkllm.engine.checkpoint;

import dev.sparkllm.engine.gptq.GptqBits;
import dev.sparkllm.engine.gptq.GptqTensors.ZeroPoints;
import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.Locale;

import static dev.sparkllm.engine.checkpoint.JsonFiles.optBoolean;
import static dev.sparkllm.engine.checkpoint.JsonFiles.optInt;
import static dev.sparkllm.engine.checkpoint.JsonFiles.optText;

/**
 * GPTQ settings from {@code quantize_config.json} or the {@code quantization_config} object in
 * {@code config.json}.
 *
 * @param bits              bits per weight: 2, 3, 4 or 8
 * @param groupSize         input rows per quantisation group; -1 means one group over the whole input
 * @param descAct           act-order: {@code g_idx} maps input rows to groups in a scrambled order
 * @param sym               symmetric quantisation (every zero-point is the midpoint)
 * @param format            how zero-points are stored: {@code gptq} (v1, stored minus one) or {@code gptq_v2}
 * @param modelFileBaseName weights file name without {@code .safetensors}, or null
 * @param source            the file the settings came from, for messages
 */
public record QuantizationConfig(int bits, int groupSize, boolean descAct, boolean sym, Format format,
                                 String modelFileBaseName, Path source) {

    /** The on-disk convention for zero-points. */
    public enum Format {
        /** AutoGPTQ's classic layout: each zero-point is stored minus one. */
        GPTQ,
        /** GPTQModel's v2 layout: zero-points stored as they are. */
        GPTQ_V2
    }

    /** The zero-point convention this config declares. */
    public ZeroPoints declaredZeroPoints() {
        return format == Format.GPTQ ? ZeroPoints.STORED_MINUS_ONE
                : ZeroPoints.STORED_AS_IS;
    }

    /**
     * The zero-point convention to read a layer's {@code qzeros} with. The declared checkpoint_format decides,
     * unless the checkpoint is symmetric and its data unambiguously shows the other convention: then the data
     * wins, since reading zero-points off by one shifts every weight by a whole quantisation step. Every backend
     * loads GPTQ layers through this one rule.
     */
    public ZeroPoints zeroPointsOf(int[] qzeros, int groups, int outFeatures) {
        ZeroPoints declared = declaredZeroPoints();
        if (!sym) return declared;
        ZeroPoints seen =
                GptqBits.symmetricConvention(qzeros, bits, groups, outFeatures);
        return seen != null ? seen : declared;
    }

    /** Reads the settings from a JSON object, rejecting what the engine does not implement. */
    static QuantizationConfig read(JsonNode q, Path file) {
        String method = optText(q, "quant_method", "gptq", file).toLowerCase(Locale.ROOT);
        if (!method.equals("gptq")) {
            throw new CheckpointException(file + ": quant_method '" + method + "' is not supported; only gptq is");
        }
        int bits = optInt(q, "bits", -1, file);
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
            throw new CheckpointException(file + ": bits " + (bits == -1 ? "missing" : bits)
                    + " is not supported; GPTQ checkpoints with 2, 3, 4 or 8 bits are");
        }
        int groupSize = optInt(q, "group_size", -1, file);
        if (groupSize == 0 || groupSize < -1) {
            throw new CheckpointException(file + ": group_size " + groupSize + " is invalid; expected -1 or a positive size");
        }
        if (optBoolean(q, "is_marlin_format", false, file)) {
            throw new CheckpointException(file + ": Marlin-format GPTQ checkpoints are not supported; use the gptq layout");
        }
        String formatName = optText(q, "checkpoint_format", optText(q, "format", "gptq", file), file).toLowerCase(Locale.ROOT);
        Format format = switch (formatName) {
            case "gptq" -> Format.GPTQ;
            case "gptq_v2" -> Format.GPTQ_V2;
            default -> throw new CheckpointException(file + ": checkpoint_format '" + formatName
                    + "' is not supported; expected gptq or gptq_v2");
        };
        return new QuantizationConfig(bits, groupSize, optBoolean(q, "desc_act", false, file),
                optBoolean(q, "sym", true, file), format, optText(q, "model_file_base_name", null, file), file);
    }

    /** True when the settings that determine the weights' meaning agree (the source file is not compared). */
    boolean sameSettings(QuantizationConfig o) {
        return bits == o.bits && groupSize == o.groupSize && descAct == o.descAct && sym == o.sym && format == o.format;
    }
}
