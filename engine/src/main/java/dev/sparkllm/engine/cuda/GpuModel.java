package dev.sparkllm.engine.cuda;

import dev.sparkllm.engine.model.LlamaConfig;

import java.util.List;

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
}
