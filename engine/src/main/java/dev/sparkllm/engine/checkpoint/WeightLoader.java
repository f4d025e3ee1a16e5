package dev.sparkllm.engine.checkpoint;

import dev.sparkllm.engine.gptq.GptqLinear;
import dev.sparkllm.engine.gptq.GptqTensors;
import dev.sparkllm.engine.gptq.GptqTensors.ZeroPoints;
import dev.sparkllm.engine.model.Linear;
import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.model.LlamaWeights;

import java.util.ArrayList;
import java.util.List;

/**
 * Builds {@link LlamaWeights} from a checkpoint's tensors, one line per tensor name, checking every shape
 * against the config. A projection with a {@code qweight} is GPTQ; one with a plain {@code weight} is dense,
 * so partly quantised checkpoints load too. Embeddings, norms and lm_head are dense. With
 * {@code headersOnly} the same checks run on the headers alone and nothing is read.
 */
final class WeightLoader {

    private static final System.Logger LOG = System.getLogger(WeightLoader.class.getName());

    private final LlamaConfig config;
    private final QuantizationConfig quant; // null for an unquantised checkpoint
    private final WeightFiles files;
    private final boolean headersOnly;
    private boolean warnedAboutZeroPoints;

    WeightLoader(LlamaConfig config, QuantizationConfig quant, WeightFiles files, boolean headersOnly) {
        this.config = config;
        this.quant = quant;
        this.files = files;
        this.headersOnly = headersOnly;
    }

    /** The model's weights, or null in headersOnly mode (after every check has passed). */
    LlamaWeights load() {
        LlamaConfig c = config;
        int hidden = c.hiddenSize();
        DenseMatrix embed = dense("model.embed_tokens.weight", c.vocabSize(), hidden);
        List<LlamaWeights.Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            layers.add(new LlamaWeights.Layer(
                    vector(p + "input_layernorm.weight", hidden),
                    linear(p + "self_attn.q_proj", hidden, c.qDim()),
                    linear(p + "self_attn.k_proj", hidden, c.kvDim()),
                    linear(p + "self_attn.v_proj", hidden, c.kvDim()),
                    linear(p + "self_attn.o_proj", c.qDim(), hidden),
                    vector(p + "post_attention_layernorm.weight", hidden),
                    linear(p + "mlp.gate_proj", hidden, c.intermediateSize()),
                    linear(p + "mlp.up_proj", hidden, c.intermediateSize()),
                    linear(p + "mlp.down_proj", c.intermediateSize(), hidden)));
        }
        float[] finalNorm = vector("model.norm.weight", hidden);
        Linear lmHead;
        if (c.tieWordEmbeddings()) {
            lmHead = headersOnly ? null : new DenseLinear(embed); // lm_head shares the embedding table
        } else if (files.contains("lm_head.weight")) {
            DenseMatrix head = dense("lm_head.weight", c.vocabSize(), hidden);
            lmHead = headersOnly ? null : new DenseLinear(head);
        } else {
            throw new CheckpointException(files.describe() + ": tensor 'lm_head.weight' is missing and config.json"
                    + " does not set tie_word_embeddings (set it to true if lm_head shares model.embed_tokens)");
        }
        if (headersOnly) return null;
        return new LlamaWeights(c, new DenseEmbedding(embed), List.copyOf(layers), finalNorm, lmHead);
    }

    private Linear linear(String prefix, int in, int out) {
        rejectNonZeroBias(prefix);
        if (files.contains(prefix + ".qweight")) {
            return gptq(prefix, in, out);
        }
        DenseMatrix w = dense(prefix + ".weight", out, in);
        return headersOnly ? null : new DenseLinear(w);
    }

    private Linear gptq(String prefix, int in, int out) {
        if (quant == null) {
            throw new CheckpointException(files.fileOf(prefix + ".qweight").path() + ": '" + prefix
                    + ".qweight' is GPTQ-quantised but the directory has no quantize_config.json and config.json has no quantization_config");
        }
        int bits = quant.bits();
        if (quant.groupSize() != -1 && in % quant.groupSize() != 0) {
            throw new CheckpointException(quant.source() + ": group_size " + quant.groupSize()
                    + " does not divide the input dimension " + in + " of " + prefix);
        }
        if ((long) in * bits % 32 != 0 || (long) out * bits % 32 != 0) {
            throw new CheckpointException(files.fileOf(prefix + ".qweight").path() + ": " + prefix + " dimensions " + in + "x" + out
                    + " do not pack into whole int32 words at " + bits + " bits");
        }
        int groups = quant.groupSize() == -1 ? 1 : in / quant.groupSize();
        checkTensor(prefix + ".qweight", DType.I32, in * bits / 32, out);
        checkTensor(prefix + ".qzeros", DType.I32, groups, out * bits / 32);
        checkTensor(prefix + ".scales", null, groups, out);
        boolean hasGIdx = files.contains(prefix + ".g_idx");
        if (hasGIdx) checkTensor(prefix + ".g_idx", DType.I32, in);
        if (headersOnly) return null;

        int[] qzeros = files.map(prefix + ".qzeros").toIntArray();
        GptqTensors t = new GptqTensors(in, out, bits, quant.groupSize(),
                files.map(prefix + ".qweight").toIntArray(), qzeros,
                files.map(prefix + ".scales").toFloatArray(),
                hasGIdx ? files.map(prefix + ".g_idx").toIntArray() : null,
                zeroPoints(prefix, qzeros, groups, out));
        try {
            return GptqLinear.of(t);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(files.fileOf(prefix + ".qweight").path() + ": " + prefix + ": " + e.getMessage(), e);
        }
    }

    /** The zero-point convention ({@link QuantizationConfig#zeroPointsOf}), warning once when the data overrules the config. */
    private ZeroPoints zeroPoints(String prefix, int[] qzeros, int groups, int out) {
        ZeroPoints declared = quant.declaredZeroPoints();
        ZeroPoints seen = quant.zeroPointsOf(qzeros, groups, out);
        if (seen == declared) return declared;
        if (!warnedAboutZeroPoints) {
            warnedAboutZeroPoints = true;
            int mid = 1 << (quant.bits() - 1);
            LOG.log(System.Logger.Level.WARNING, "{0}: checkpoint_format is {1} but the symmetric zero-points of {2} are all {3},"
                            + " which is the {4} convention; using {4} (the data) for every layer where it is unambiguous",
                    quant.source(), quant.format().name().toLowerCase(java.util.Locale.ROOT), prefix,
                    seen == ZeroPoints.STORED_AS_IS ? mid : mid - 1,
                    seen == ZeroPoints.STORED_AS_IS ? "gptq_v2" : "gptq (v1)");
        }
        return seen;
    }

    private void rejectNonZeroBias(String prefix) {
        String name = prefix + ".bias";
        if (!files.contains(name)) return;
        TensorInfo info = files.info(name);
        // AutoGPTQ sometimes saves all-zero biases for bias-free models: harmless, but anything else is not.
        if (!info.dtype().isFloatingPoint()) {
            throw new CheckpointException(files.fileOf(name).path() + ": '" + name + "' has dtype " + info.dtype());
        }
        if (headersOnly) return;
        for (float v : files.map(name).toFloatArray()) {
            if (v != 0f) {
                throw new CheckpointException(files.fileOf(name).path() + ": '" + name
                        + "' is a non-zero bias; Llama projections have no bias and the engine does not apply one");
            }
        }
    }

    private DenseMatrix dense(String name, int rows, int cols) {
        checkTensor(name, null, rows, cols);
        return headersOnly ? null : DenseMatrix.read(files.map(name));
    }

    private float[] vector(String name, int n) {
        checkTensor(name, null, n);
        return headersOnly ? null : files.map(name).toFloatArray();
    }

    /** Checks dtype (null: any floating-point type) and shape of {@code name}. */
    private void checkTensor(String name, DType dtype, long... shape) {
        TensorInfo info = files.info(name);
        String file = files.fileOf(name).path().toString();
        if (dtype == null ? !info.dtype().isFloatingPoint() : info.dtype() != dtype) {
            throw new CheckpointException(file + ": tensor '" + name + "' has dtype " + info.dtype() + ", expected "
                    + (dtype == null ? "F16, BF16 or F32" : dtype));
        }
        if (!info.hasShape(shape)) {
            throw new CheckpointException(file + ": tensor '" + name + "' has shape " + info.shapeString() + ", expected "
                    + java.util.Arrays.toString(shape) + " for this config.json" + (quant != null ? " and " + quant.bits() + "-bit GPTQ" : ""));
        }
    }
}
