package dev.sparkllm.engine.cuda;

import dev.sparkllm.engine.model.LlamaConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A Llama model's weights in GPU memory, in the kernels' layouts (built by {@link GpuModelLoader}).
 *
 * @param config    the model's shape
 * @param embedding fp16 {@code [vocab, hidden]}
 * @param layers    one per transformer block
 * @param finalNorm fp32 {@code [hidden]}
 * @param lmHead    {@code hidden → vocab}
 * @param bytes     device bytes of all of the above
 */
record GpuModel(LlamaConfig config, DeviceBuffer embedding, List<Layer> layers, DeviceBuffer finalNorm,
                GpuLinear lmHead, long bytes) {

    /**
     * One transformer block. {@code qkv} writes the row {@code [q | k | v]} and {@code gateUp} the row
     * {@code [gate | up]}: one product each where the checkpoint's projections could share it, else one per
     * projection at its column offset.
     *
     * @param attnNorm fp32 {@code [hidden]}
     * @param mlpNorm  fp32 {@code [hidden]}
     */
    record Layer(DeviceBuffer attnNorm, List<Placed> qkv, GpuLinear wo, DeviceBuffer mlpNorm, List<Placed> gateUp,
                 GpuLinear down) {
    }

    /** A product writing output columns {@code [column, column + linear.outFeatures())} of a wider row. */
    record Placed(GpuLinear linear, int column) {
    }

    /**
     * A model of {@code config}'s shape with random weights made on the GPU: GPTQ with {@code bits} (3 or 4, in
     * their compute layouts), {@code groupSize} and, with {@code actOrder}, a random {@code g_idx}
     * (rows sorted by group through a non-trivial permutation, as a real act-order checkpoint's). Weights are
     * centred on their zero-point with magnitudes like a trained model's (std about 0.02), so 80 layers of
     * residual stream stay finite. Embedding and lm_head are fp16, norms are ones.
     */
    static GpuModel random(CudaDevice d, LlamaConfig c, int bits, int groupSize, boolean actOrder, long seed) {
        Random r = new Random(seed);
        long[] bytes = {0};
        int hidden = c.hiddenSize(), inter = c.intermediateSize();
        DeviceBuffer embedding = randomHalf(d, (long) c.vocabSize() * hidden, 0.03f, r, "embedding", bytes);
        List<Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            layers.add(new Layer(ones(d, hidden, bytes),
                    List.of(new Placed(randomGptq(d, hidden, c.qDim() + 2 * c.kvDim(), bits, groupSize, actOrder, r, bytes), 0)),
                    randomGptq(d, c.qDim(), hidden, bits, groupSize, actOrder, r, bytes),
                    ones(d, hidden, bytes),
                    List.of(new Placed(randomGptq(d, hidden, 2 * inter, bits, groupSize, actOrder, r, bytes), 0)),
                    randomGptq(d, inter, hidden, bits, groupSize, actOrder, r, bytes)));
        }
        DeviceBuffer finalNorm = ones(d, hidden, bytes);
        int kSteps = RowOrder.roundUp(hidden, 128) / 16;
        int nBlocks = (c.vocabSize() + 63) / 64;
        DeviceBuffer head = d.alloc(GpuLinear.Kind.F16.weightBytes(kSteps, nBlocks), "lm_head");
        fill(d, "fill_random_half", head, head.bytes() / 2, 0.03f, r);
        GpuLinear lmHead = new GpuLinear(GpuLinear.Kind.F16, hidden, c.vocabSize(), kSteps, head, null, null, null, List.of("lm_head"));
        bytes[0] += lmHead.bytes();
        d.synchronize("making random weights");
        return new GpuModel(c, embedding, List.copyOf(layers), finalNorm, lmHead, bytes[0]);
    }

    static GpuLinear randomGptq(CudaDevice d, int in, int out, int bits, int groupSize, boolean actOrder, Random r, long[] bytes) {
        int groups = groupSize == -1 ? 1 : in / groupSize;
        int[] gIdx = null;
        if (actOrder) {
            int gs = groupSize == -1 ? in : groupSize;
            int[] order = new int[in];
            for (int i = 0; i < in; i++) order[i] = i;
            for (int i = in - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = order[i]; order[i] = order[j]; order[j] = t;
            }
            gIdx = new int[in];
            for (int k = 0; k < in; k++) gIdx[order[k]] = k / gs;
        }
        RowOrder order = RowOrder.of(gIdx, in, groupSize, groups);
        int nBlocks = (out + 63) / 64;
        GpuLinear.Kind kind = bits == 3 && !GpuLinears.WIDEN_3BIT ? GpuLinear.Kind.Q3 : GpuLinear.Kind.Q4;
        DeviceBuffer w = d.alloc(kind.weightBytes(order.kSteps(), nBlocks), "random weights");
        DeviceBuffer zs = d.alloc((long) groups * nBlocks * 64 * 4, "random zeros and scales");
        DeviceBuffer perm = order.perm() == null ? null : d.alloc((long) order.perm().length * 4, "row order");
        DeviceBuffer stepGroup = d.alloc((long) order.kSteps() * 4, "step groups");
        if (perm != null) d.upload(perm, order.perm(), order.perm().length);
        d.upload(stepGroup, order.stepGroup(), order.kSteps());
        d.launch("fill_random_words", GpuLinears.blocks(w.bytes() / 4), 1, 1, 256, 0, w, w.bytes() / 4, r.nextLong());
        // Random words hold uniform values (0..15 at 4 bits, std 4.6; 0..7 at 3 bits, std 2.3), centred by zero-points
        // of 7 or 8 (3 or 4); scales of 0.0045 (0.009) give weights of std about 0.02, as a trained model's
        boolean three = kind == GpuLinear.Kind.Q3;
        d.launch("fill_random_zero_scales", GpuLinears.blocks(zs.bytes() / 4), 1, 1, 256, 0, zs, zs.bytes() / 4,
                three ? 0.009f : 0.0045f, three ? 3 : 7, r.nextLong());
        GpuLinear g = new GpuLinear(kind, in, out, order.kSteps(), w, zs, stepGroup, perm, List.of("random"));
        bytes[0] += g.bytes();
        return g;
    }

    private static DeviceBuffer randomHalf(CudaDevice d, long n, float scale, Random r, String what, long[] bytes) {
        DeviceBuffer b = d.alloc(n * 2, what);
        fill(d, "fill_random_half", b, n, scale, r);
        bytes[0] += b.bytes();
        return b;
    }

    private static void fill(CudaDevice d, String kernel, DeviceBuffer b, long n, float scale, Random r) {
        d.launch(kernel, GpuLinears.blocks(n), 1, 1, 256, 0, b, n, scale, r.nextLong());
    }

    private static DeviceBuffer ones(CudaDevice d, int n, long[] bytes) {
        DeviceBuffer b = d.alloc(n * 4L, "norm weight");
        d.launch("fill_float", GpuLinears.blocks(n), 1, 1, 256, 0, b, (long) n, 1f);
        bytes[0] += b.bytes();
        return b;
    }
}
