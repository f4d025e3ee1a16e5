package dev.sparkllm.engine.cpu;

import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.model.LlamaConfig.RopeConfig;
import dev.sparkllm.engine.model.LlamaWeights;

import java.util.ArrayList;
import java.util.List;

/**
 * A naive single-sequence Llama forward pass, written from the definitions for testing {@link CpuBackend}:
 * double precision, dequantised weights, a plain growing list of keys and values, one token at a time,
 * no paging, no threads. Hugging Face semantics: half-split rotary embedding, RMSNorm, SwiGLU,
 * grouped-query heads via {@code repeat_kv} (query head h reads KV head {@code h / (heads / kvHeads)}).
 * Dynamic NTK scaling uses the sequence length of a one-token call, {@code position + 1}.
 */
final class ReferenceLlama {

    private final LlamaConfig c;
    private final LlamaWeights weights;
    private final List<float[][]> layers = new ArrayList<>(); // per layer: wq, wk, wv, wo, gate, up, down, each [out*in]
    private final float[] lmHead;                             // [vocab*hidden]
    private final List<List<double[]>> keys = new ArrayList<>();   // [layer] -> list over positions of [kvDim]
    private final List<List<double[]>> values = new ArrayList<>();

    ReferenceLlama(LlamaWeights weights) {
        this.weights = weights;
        this.c = weights.config();
        for (LlamaWeights.Layer l : weights.layers()) {
            layers.add(new float[][] {l.wq().dequantize(), l.wk().dequantize(), l.wv().dequantize(),
                    l.wo().dequantize(), l.gate().dequantize(), l.up().dequantize(), l.down().dequantize()});
            keys.add(new ArrayList<>());
            values.add(new ArrayList<>());
        }
        this.lmHead = weights.lmHead().dequantize();
    }

    /** Feeds the tokens one by one and returns the logits after each, {@code [tokens][vocab]}. */
    double[][] logitsAtEachPosition(int[] tokens) {
        double[][] out = new double[tokens.length][];
        for (int t = 0; t < tokens.length; t++) out[t] = next(tokens[t]);
        return out;
    }

    /** Appends one token at the next position and returns its logits. */
    double[] next(int token) {
        int position = keys.get(0).size();
        float[] e = new float[c.hiddenSize()];
        weights.embedding().lookup(token, e, 0);
        double[] x = new double[c.hiddenSize()];
        for (int i = 0; i < x.length; i++) x[i] = e[i];

        for (int l = 0; l < c.numLayers(); l++) {
            LlamaWeights.Layer w = weights.layers().get(l);
            float[][] lw = layers.get(l);
            double[] h = rmsNorm(x, w.attnNorm());
            double[] q = matVec(lw[0], h, c.qDim());
            double[] k = matVec(lw[1], h, c.kvDim());
            double[] v = matVec(lw[2], h, c.kvDim());
            rope(q, c.numHeads(), position);
            rope(k, c.numKvHeads(), position);
            keys.get(l).add(k);
            values.get(l).add(v);
            double[] att = attention(q, keys.get(l), values.get(l));
            double[] o = matVec(lw[3], att, c.hiddenSize());
            for (int i = 0; i < x.length; i++) x[i] += o[i];

            double[] m = rmsNorm(x, w.mlpNorm());
            double[] gate = matVec(lw[4], m, c.intermediateSize());
            double[] up = matVec(lw[5], m, c.intermediateSize());
            double[] act = new double[gate.length];
            for (int i = 0; i < act.length; i++) act[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
            double[] down = matVec(lw[6], act, c.hiddenSize());
            for (int i = 0; i < x.length; i++) x[i] += down[i];
        }
        return matVec(lmHead, rmsNorm(x, weights.finalNorm()), c.vocabSize());
    }

    private double[] attention(double[] q, List<double[]> ks, List<double[]> vs) {
        int d = c.headDim();
        int group = c.numHeads() / c.numKvHeads();
        double[] out = new double[c.qDim()];
        for (int h = 0; h < c.numHeads(); h++) {
            int kv = h / group;
            double[] s = new double[ks.size()];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < ks.size(); j++) {
                double dot = 0;
                for (int i = 0; i < d; i++) dot += q[h * d + i] * ks.get(j)[kv * d + i];
                s[j] = dot / Math.sqrt(d);
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < s.length; j++) {
                s[j] = Math.exp(s[j] - max);
                sum += s[j];
            }
            for (int j = 0; j < s.length; j++) {
                for (int i = 0; i < d; i++) out[h * d + i] += s[j] / sum * vs.get(j)[kv * d + i];
            }
        }
        return out;
    }

    /** Rotates pairs (i, i + d/2) of each head by position × frequency_i. */
    private void rope(double[] x, int heads, int position) {
        RopeConfig r = c.rope();
        int d = c.headDim();
        double base = r.theta();
        double pos = position;
        if (r.scaling() == RopeConfig.Scaling.LINEAR) pos = position / r.factor();
        int orig = r.originalMaxPositions() > 0 ? r.originalMaxPositions() : c.maxPositionEmbeddings();
        int seqLen = position + 1;
        if (r.scaling() == RopeConfig.Scaling.DYNAMIC && seqLen > orig) {
            base = r.theta() * Math.pow(r.factor() * seqLen / orig - (r.factor() - 1), d / (d - 2.0));
        }
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < d / 2; i++) {
                double angle = pos * Math.pow(base, -2.0 * i / d);
                double a = x[h * d + i];
                double b = x[h * d + i + d / 2];
                x[h * d + i] = a * Math.cos(angle) - b * Math.sin(angle);
                x[h * d + i + d / 2] = b * Math.cos(angle) + a * Math.sin(angle);
            }
        }
    }

    private double[] rmsNorm(double[] x, float[] weight) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double inv = 1 / Math.sqrt(ss / x.length + c.rmsNormEps());
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * inv * weight[i];
        return y;
    }

    /** {@code W · x} with W row-major {@code [out][in]} as floats. */
    private static double[] matVec(float[] w, double[] x, int out) {
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double sum = 0;
            for (int i = 0; i < x.length; i++) sum += w[o * x.length + i] * x[i];
            y[o] = sum;
        }
        return y;
    }
}
