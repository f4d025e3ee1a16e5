package dev.sparkllm.engine.checkpoint.synthetic;

import java.util.Locale;

/**
 * What a synthetic checkpoint is: a Llama-2 shape quantised as one GPTQ branch of the reference repository.
 *
 * @param shape        model dimensions
 * @param bits         bits per weight: 2, 3, 4 or 8 (the reference branches use 4 and 3)
 * @param groupSize    input rows per quantisation group (32, 64, 128, ...), or -1 for one group per column
 * @param actOrder     desc_act: rows quantised in a random order, {@code g_idx} scrambled accordingly
 * @param fileBaseName the weights file without {@code .safetensors}, also written as {@code model_file_base_name}
 * @param seed         seed of every random value in the file
 */
public record CheckpointSpec(LlamaShape shape, int bits, int groupSize, boolean actOrder, String fileBaseName, long seed) {

    public CheckpointSpec {
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
            throw new IllegalArgumentException("--bits " + bits + " is not a GPTQ width; choose 4 or 3 (2 and 8 also work)");
        }
        if (groupSize == 0 || groupSize < -1) {
            throw new IllegalArgumentException("--group " + groupSize + " is invalid; choose 32, 64, 128 or -1 (one group per column)");
        }
        if (fileBaseName == null || fileBaseName.isEmpty() || !fileBaseName.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("file base name '" + fileBaseName + "' must be a plain file name (letters, digits, . _ -)");
        }
        for (int in : new int[] {shape.hiddenSize(), shape.intermediateSize()}) {
            if (groupSize != -1 && in % groupSize != 0) {
                throw new IllegalArgumentException("group size " + groupSize + " does not divide the input width " + in
                        + " of the " + shape.name() + " shape");
            }
        }
        for (int width : new int[] {shape.hiddenSize(), shape.intermediateSize(), shape.kvDim()}) {
            if (width * bits % 32 != 0) {
                throw new IllegalArgumentException("width " + width + " of the " + shape.name() + " shape does not pack into int32 words at "
                        + bits + " bits");
            }
        }
    }

    /** The reference repository's name for a branch with these settings, e.g. {@code gptq-4bit-128g-actorder_True}. */
    public String branchName() {
        return "gptq-" + bits + "bit-" + groupSize + "g-actorder_" + (actOrder ? "True" : "False");
    }

    /** Quantisation groups of a projection whose input width is {@code in}. */
    public int groups(int in) {
        return groupSize == -1 ? 1 : in / groupSize;
    }

    /** The file name of the weights, e.g. {@code model.safetensors}. */
    public String fileName() {
        return fileBaseName + ".safetensors";
    }

    /** A one-line description for messages. */
    public String describe() {
        return String.format(Locale.ROOT, "Llama-2 %s shape (%d layers), %d-bit GPTQ, group %s, act-order %s",
                shape.name(), shape.numLayers(), bits, groupSize == -1 ? "none (-1)" : String.valueOf(groupSize), actOrder);
    }
}
