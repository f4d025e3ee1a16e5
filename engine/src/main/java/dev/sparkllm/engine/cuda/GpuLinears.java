package dev.sparkllm.engine.cuda;

import dev.sparkllm.engine.gptq.GptqTensors;

import java.util.List;

/**
 * Builds {@link GpuLinear}s from checkpoint tensors: uploads each projection as stored and repacks it on the GPU
 * ({@code repack.cu}). Several projections become one layer side by side (their widths must be whole 64-column
 * blocks, except the last).
 */
final class GpuLinears {

    private GpuLinears() {
    }

    /** A dense projection already on the device as stored: {@code [out, in]}, dtype 0 fp16, 1 bf16, 2 fp32. */
    record RawDense(DeviceBuffer weight, int dtype, int out) {
    }

    /**
     * 3-bit checkpoints in the 4-bit layout instead of bit planes ({@code -Dsparkllm.cuda.widen3bit=true}): a
     * fallback that reads a third more bytes, kept to compare the two.
     */
    static final boolean WIDEN_3BIT = Boolean.getBoolean("sparkllm.cuda.widen3bit");

    /**
     * GPTQ projections sharing one input and one row order (equal {@code g_idx}, bits and group size), side by side.
     * 4-bit is stored as 4-bit tiles, 3-bit as bit planes (or widened, see {@link #WIDEN_3BIT}).
     */
    static GpuLinear gptq(CudaDevice d, List<String> names, List<GptqTensors> parts) {
        GptqTensors first = parts.get(0);
        int in = first.inFeatures(), bits = first.bits(), groups = first.groups();
        if (bits != 3 && bits != 4) {
            throw new IllegalArgumentException(names.get(0) + ": " + bits + "-bit GPTQ is not supported by the GPU backend (3 or 4)");
        }
        RowOrder order = RowOrder.of(first.gIdx(), in, first.groupSize(), groups);
        int outTotal = 0;
        for (GptqTensors t : parts) outTotal += t.outFeatures();
        int nBlocks = (outTotal + 63) / 64;
        String what = names.get(0);
        GpuLinear.Kind kind = bits == 3 && !WIDEN_3BIT ? GpuLinear.Kind.Q3 : GpuLinear.Kind.Q4;
        DeviceBuffer w = d.alloc(kind.weightBytes(order.kSteps(), nBlocks), what + " weights");
        DeviceBuffer zs = d.alloc((long) groups * nBlocks * 64 * 4, what + " zeros and scales");
        DeviceBuffer perm = order.perm() == null ? null : d.alloc((long) order.perm().length * 4, what + " row order");
        DeviceBuffer stepGroup = d.alloc((long) order.kSteps() * 4, what + " step groups");
        if (perm != null) d.upload(perm, order.perm(), order.perm().length);
        d.upload(stepGroup, order.stepGroup(), order.kSteps());

        int blockOffset = 0;
        for (int i = 0; i < parts.size(); i++) {
            GptqTensors t = parts.get(i);
            t.validate();
            if (t.inFeatures() != in || t.bits() != bits || t.groupSize() != first.groupSize()) {
                throw new IllegalArgumentException(names.get(i) + " cannot share a product with " + what);
            }
            int out = t.outFeatures();
            int nBlocksPart = (out + 63) / 64;
            DeviceBuffer qweight = d.alloc((long) t.qweight().length * 4, names.get(i) + ".qweight");
            d.upload(qweight, t.qweight(), t.qweight().length);
            DeviceBuffer qzeros = d.alloc((long) t.qzeros().length * 4, names.get(i) + ".qzeros");
            d.upload(qzeros, t.qzeros(), t.qzeros().length);
            DeviceBuffer scales32 = d.alloc((long) t.scales().length * 4, names.get(i) + ".scales");
            d.upload(scales32, t.scales(), t.scales().length);
            DeviceBuffer scales = d.alloc((long) t.scales().length * 2, names.get(i) + ".scales (fp16)");
            d.launch("convert_to_f16", blocks(t.scales().length), 1, 1, 256, 0, scales32, 2, scales, (long) t.scales().length);
            int zeroOffset = t.zeroPoints() == GptqTensors.ZeroPoints.STORED_MINUS_ONE ? 1 : 0;
            if (kind == GpuLinear.Kind.Q3) {
                d.launch("repack_gptq_q3", blocks((long) order.kSteps() / 4 * nBlocksPart * 32), 1, 1, 256, 0, qweight, in, out,
                        bits, perm, order.kSteps(), nBlocksPart, w, nBlocks, blockOffset);
            } else {
                d.launch("repack_gptq_q4", blocks((long) order.kSteps() * nBlocksPart * 32), 1, 1, 256, 0, qweight, in, out,
                        bits, perm, order.kSteps(), nBlocksPart, w, nBlocks, blockOffset);
            }
            d.launch("repack_gptq_scales", blocks((long) groups * out), 1, 1, 256, 0, qzeros, scales, groups, out, bits,
                    zeroOffset, zs, nBlocks, blockOffset);
            d.synchronize("repacking " + names.get(i));
            d.free(qweight);
            d.free(qzeros);
            d.free(scales32);
            d.free(scales);
            blockOffset += nBlocksPart;
        }
        return new GpuLinear(kind, in, outTotal, order.kSteps(), w, zs, stepGroup, perm, names);
    }

    /** Dense projections side by side, each {@code [out, in]} on the device as stored; the raw buffers are freed. */
    static GpuLinear dense(CudaDevice d, List<String> names, List<RawDense> parts, int in) {
        int outTotal = 0;
        for (RawDense p : parts) outTotal += p.out();
        int nBlocks = (outTotal + 63) / 64;
        int kSteps = RowOrder.roundUp(in, 128) / 16;
        DeviceBuffer w = d.alloc(GpuLinear.Kind.F16.weightBytes(kSteps, nBlocks), names.get(0));
        int blockOffset = 0;
        for (int i = 0; i < parts.size(); i++) {
            RawDense p = parts.get(i);
            int nBlocksPart = (p.out() + 63) / 64;
            d.launch("repack_dense_f16", blocks((long) kSteps * nBlocksPart * 32), 1, 1, 256, 0, p.weight(), p.dtype(), in,
                    p.out(), kSteps, nBlocksPart, w, nBlocks, blockOffset);
            d.synchronize("repacking " + names.get(i));
            d.free(p.weight());
            blockOffset += nBlocksPart;
        }
        return new GpuLinear(GpuLinear.Kind.F16, in, outTotal, kSteps, w, null, null, null, names);
    }

    static int blocks(long threads) {
        long b = (threads + 255) / 256;
        if (b > Integer.MAX_VALUE) throw new IllegalArgumentException("tensor too large for one launch: " + threads + " threads");
        return (int) Math.max(1, b);
    }
}
