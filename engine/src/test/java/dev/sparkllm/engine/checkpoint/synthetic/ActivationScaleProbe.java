package dev.sparkllm.engine.checkpoint.synthetic;

import dev.sparkllm.engine.checkpoint.Half;
import dev.sparkllm.engine.checkpoint.TensorInfo;
import dev.sparkllm.engine.gptq.GptqBits;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The forward pass of a synthetic checkpoint's first token (BOS at position 0), computed straight from the tensor
 * fills without writing a file: at position 0 attention over one key returns its value, so each layer is
 * {@code h += o(v(norm(h)))} then {@code h += down(silu(gate(norm(h))) * up(norm(h)))}. Reports how large the
 * residual stream and the intermediates grow, to show that the synthetic scales keep a full-depth model within
 * fp16's range (65504). Run by hand for 70B widths:
 * {@code java -cp ... ActivationScaleProbe 70b 4 128 true 80} (about four minutes on two cores).
 *
 * <p>Measured (seed 0, all 80 layers of 70B, g128 act-order): 4-bit, residual rms 4.6 after the first layer and
 * 42.2 after the last (growing like the square root of depth), largest |residual| 163, largest intermediate 28,
 * logits rms 1.8 (largest 8.1); 3-bit, 42.0, 157, 28, 1.8 (7.7).
 */
public final class ActivationScaleProbe {

    /** Largest magnitudes seen; {@code residualRms[l]} after layer {@code l}. */
    record Scales(double[] residualRms, double maxResidual, double maxIntermediate, double maxLogit, double logitRms) {
    }

    private final Map<String, SafetensorsLayout.Planned> tensors = new HashMap<>();
    private final CheckpointSpec spec;

    ActivationScaleProbe(CheckpointSpec spec) {
        this.spec = spec;
        for (SafetensorsLayout.Planned p : SafetensorsLayout.of(spec).planned()) tensors.put(p.info().name(), p);
    }

    Scales run(boolean print) {
        LlamaShape s = spec.shape();
        int h = s.hiddenSize();
        float[] x = new float[h];
        float[] embedding = floats("model.embed_tokens.weight", (long) 1 * h, h);   // the row of token 1, <s>
        System.arraycopy(embedding, 0, x, 0, h);
        double[] rms = new double[s.numLayers()];
        double maxResidual = 0;
        double maxIntermediate = 0;
        for (int l = 0; l < s.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            float[] n = rmsNorm(x, floats(p + "input_layernorm.weight", 0, h));
            float[] v = linear(p + "self_attn.v_proj", n, h, s.kvDim());
            float[] heads = new float[h];                   // every query head reads its KV head's value
            int headDim = s.headDim();
            int group = s.numHeads() / s.numKvHeads();
            for (int q = 0; q < s.numHeads(); q++) System.arraycopy(v, (q / group) * headDim, heads, q * headDim, headDim);
            float[] attention = linear(p + "self_attn.o_proj", heads, h, h);
            for (int i = 0; i < h; i++) x[i] += attention[i];
            float[] m = rmsNorm(x, floats(p + "post_attention_layernorm.weight", 0, h));
            float[] gate = linear(p + "mlp.gate_proj", m, h, s.intermediateSize());
            float[] up = linear(p + "mlp.up_proj", m, h, s.intermediateSize());
            for (int i = 0; i < gate.length; i++) {
                gate[i] = gate[i] / (1 + (float) Math.exp(-gate[i])) * up[i];
                maxIntermediate = Math.max(maxIntermediate, Math.max(Math.abs(gate[i]), Math.abs(up[i])));
            }
            float[] down = linear(p + "mlp.down_proj", gate, s.intermediateSize(), h);
            double sq = 0;
            for (int i = 0; i < h; i++) {
                x[i] += down[i];
                sq += x[i] * x[i];
                maxResidual = Math.max(maxResidual, Math.abs(x[i]));
                maxIntermediate = Math.max(maxIntermediate, Math.max(Math.abs(down[i]), Math.abs(attention[i])));
            }
            rms[l] = Math.sqrt(sq / h);
            if (print) {
                System.out.printf(Locale.ROOT, "layer %2d: residual rms %8.3f, max |h| %9.3f, max |intermediate| %9.3f%n",
                        l, rms[l], maxResidual, maxIntermediate);
            }
        }
        float[] n = rmsNorm(x, floats("model.norm.weight", 0, h));
        double[] logits = new double[s.vocabSize()];          // lm_head read chunk by chunk, rows may straddle chunks
        SafetensorsLayout.Planned head = tensors.get("lm_head.weight");
        long element = 0;
        for (int c = 0; c < head.fill().chunks(); c++) {
            ByteBuffer b = filled(head, c);
            while (b.hasRemaining()) {
                logits[(int) (element / h)] += Half.f16ToFloat(b.getShort()) * n[(int) (element % h)];
                element++;
            }
        }
        double maxLogit = 0;
        double sq = 0;
        for (double logit : logits) {
            maxLogit = Math.max(maxLogit, Math.abs(logit));
            sq += logit * logit;
        }
        return new Scales(rms, maxResidual, maxIntermediate, maxLogit, Math.sqrt(sq / s.vocabSize()));
    }

    private static float[] rmsNorm(float[] x, float[] weight) {
        double sq = 0;
        for (float v : x) sq += v * v;
        float r = (float) (1 / Math.sqrt(sq / x.length + 1e-5));
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] * r * weight[i];
        return out;
    }

    /** {@code count} fp16 values of a dense tensor from element {@code first} (within one chunk). */
    private float[] floats(String name, long first, int count) {
        SafetensorsLayout.Planned p = tensors.get(name);
        int chunkElements = p.fill().chunkBytes(0) / 2;
        int chunk = (int) (first / chunkElements);
        ByteBuffer b = filled(p, chunk);
        float[] out = new float[count];
        int at = (int) (first - (long) chunk * chunkElements);
        for (int i = 0; i < count; i++) out[i] = Half.f16ToFloat(b.getShort((at + i) * 2));
        return out;
    }

    private static ByteBuffer filled(SafetensorsLayout.Planned p, int chunk) {
        ByteBuffer b = ByteBuffer.allocate(p.fill().chunkBytes(chunk)).order(ByteOrder.LITTLE_ENDIAN);
        p.fill().fill(chunk, b);
        return b.flip();
    }

    /** {@code x . W} for a GPTQ projection, dequantising {@code scale * (q - zero)} chunk by chunk, chunks in parallel. */
    private float[] linear(String prefix, float[] x, int in, int out) {
        int bits = spec.bits();
        int zero = 1 << (bits - 1);
        int groups = spec.groups(in);
        int[] gIdx = ints(tensors.get(prefix + ".g_idx"), 0);
        SafetensorsLayout.Planned scalesTensor = tensors.get(prefix + ".scales");
        float[] scales = new float[groups * out];
        int filledScales = 0;
        for (int c = 0; c < scalesTensor.fill().chunks(); c++) {
            ByteBuffer b = filled(scalesTensor, c);
            while (b.hasRemaining()) scales[filledScales++] = Half.f16ToFloat(b.getShort());
        }
        SafetensorsLayout.Planned qweight = tensors.get(prefix + ".qweight");
        TensorInfo info = qweight.info();
        int rowsPerChunk = qweight.fill().chunkBytes(0) / (out * 4);
        float[][] partials = IntStream.range(0, qweight.fill().chunks()).parallel().mapToObj(c -> {
            int[] words = ints(qweight, c);
            int rows = words.length / out;
            int firstValue = c * rowsPerChunk * 32 / bits;
            float[] partial = new float[groups * out];          // sum over a group's rows of x * (q - zero)
            for (int j = 0; j < rows * 32 / bits; j++) {
                int i = firstValue + j;
                float xi = x[i];
                int base = gIdx[i] * out;
                for (int o = 0; o < out; o++) partial[base + o] += xi * (GptqBits.unpack(words, o, out, j, bits) - zero);
            }
            return partial;
        }).toArray(float[][]::new);
        float[] y = new float[out];
        for (float[] partial : partials) {
            for (int k = 0; k < partial.length; k++) y[k % out] += scales[k] * partial[k];
        }
        if (info.dim(1) != out) throw new IllegalStateException(prefix + " has " + info.shapeString());
        return y;
    }

    private static int[] ints(SafetensorsLayout.Planned p, int chunk) {
        ByteBuffer b = filled(p, chunk);
        int[] out = new int[b.remaining() / 4];
        b.asIntBuffer().get(out);
        return out;
    }

    /** {@code ActivationScaleProbe SHAPE BITS GROUP ACT_ORDER [LAYERS]}. */
    public static void main(String[] args) {
        LlamaShape shape = LlamaShape.named(args[0]);
        if (args.length > 4) shape = shape.withLayers(Integer.parseInt(args[4]));
        CheckpointSpec spec = new CheckpointSpec(shape, Integer.parseInt(args[1]), Integer.parseInt(args[2]),
                Boolean.parseBoolean(args[3]), "model", 0);
        long start = System.nanoTime();
        Scales s = new ActivationScaleProbe(spec).run(true);
        System.out.printf(Locale.ROOT, "%s: max |residual| %.2f, max |intermediate| %.2f, logits rms %.3f, max |logit| %.3f (%.0f s)%n",
                spec.describe(), s.maxResidual(), s.maxIntermediate(), s.logitRms(), s.maxLogit(), (System.nanoTime() - start) / 1e9);
    }
}
