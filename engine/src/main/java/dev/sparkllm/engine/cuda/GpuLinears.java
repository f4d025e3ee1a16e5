package dev.sparkllm.engine.cuda;

import dev.sparkllm.engine.gptq.GptqTensors;

import java.util.ArrayList;
import java.util.Arrays;
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
     * One GPTQ projection already on the device as stored (the checkpoint's bytes): {@code qweight} int32
     * {@code [in*bits/32, out]}, {@code qzeros} int32 {@code [groups, out*bits/32]}, {@code scales} {@code [groups,
     * out]} of dtype {@code scalesDtype} (0 fp16, 1 bf16, 2 fp32). The buffers are freed once repacked.
     */
    record RawGptq(DeviceBuffer qweight, DeviceBuffer qzeros, DeviceBuffer scales, int scalesDtype, int out,
                   GptqTensors.ZeroPoints zeroPoints) {
    }

    /** {@link #gptq(CudaDevice, List, int, int, int, int[], List)} from host arrays (tests, small models). */
    static GpuLinear gptq(CudaDevice d, List<String> names, List<GptqTensors> parts) {
        GptqTensors first = parts.get(0);
        List<RawGptq> raw = new ArrayList<>();
        for (int i = 0; i < parts.size(); i++) {
            GptqTensors t = parts.get(i);
            t.validate();
            if (t.inFeatures() != first.inFeatures() || t.bits() != first.bits() || t.groupSize() != first.groupSize()
                    || !Arrays.equals(t.gIdx(), first.gIdx())) {
                throw new IllegalArgumentException(names.get(i) + " cannot share a product with " + names.get(0));
            }
            DeviceBuffer qweight = d.alloc((long) t.qweight().length * 4, names.get(i) + ".qweight");
            d.upload(qweight, t.qweight(), t.qweight().length);
            DeviceBuffer qzeros = d.alloc((long) t.qzeros().length * 4, names.get(i) + ".qzeros");
            d.upload(qzeros, t.qzeros(), t.qzeros().length);
            DeviceBuffer scales = d.alloc((long) t.scales().length * 4, names.get(i) + ".scales");
            d.upload(scales, t.scales(), t.scales().length);
            raw.add(new RawGptq(qweight, qzeros, scales, 2, t.outFeatures(), t.zeroPoints()));
        }
        return gptq(d, names, first.inFeatures(), first.bits(), first.groupSize(), first.gIdx(), raw);
    }

    /**
     * GPTQ projections sharing one input and one row order ({@code gIdx}, null for rows in order), side by side.
     * 4-bit is stored as 4-bit tiles, 3-bit as bit planes (or widened, see {@link #WIDEN_3BIT}).
     */
    static GpuLinear gptq(CudaDevice d, List<String> names, int in, int bits, int groupSize, int[] gIdx, List<RawGptq> parts) {
        if (bits != 3 && bits != 4) {
            throw new IllegalArgumentException(names.get(0) + ": " + bits + "-bit GPTQ is not supported by the GPU backend (3 or 4)");
        }
        int groups = groupSize == -1 ? 1 : in / groupSize;
        if (gIdx != null) {
            for (int i = 0; i < gIdx.length; i++) {
                if (gIdx[i] < 0 || gIdx[i] >= groups) {
                    throw new IllegalArgumentException(names.get(0) + ".g_idx[" + i + "] = " + gIdx[i] + " is outside the "
                            + groups + " groups of group_size " + groupSize + "; the checkpoint is damaged");
                }
            }
        }
        RowOrder order = RowOrder.of(gIdx, in, groupSize, groups);
        int outTotal = 0;
        for (RawGptq t : parts) outTotal += t.out();
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
            RawGptq t = parts.get(i);
            int out = t.out();
            int nBlocksPart = (out + 63) / 64;
            long nScales = (long) groups * out;
            DeviceBuffer scales = d.alloc(nScales * 2, names.get(i) + ".scales (fp16)");
            d.launch("convert_to_f16", blocks(nScales), 1, 1, 256, 0, t.scales(), t.scalesDtype(), scales, nScales);
            int zeroOffset = t.zeroPoints() == GptqTensors.ZeroPoints.STORED_MINUS_ONE ? 1 : 0;
            if (kind == GpuLinear.Kind.Q3) {
                d.launch("repack_gptq_q3", blocks((long) order.kSteps() / 4 * nBlocksPart * 32), 1, 1, 256, 0, t.qweight(), in, out,
                        bits, perm, order.kSteps(), nBlocksPart, w, nBlocks, blockOffset);
            } else {
                d.launch("repack_gptq_q4", blocks((long) order.kSteps() * nBlocksPart * 32), 1, 1, 256, 0, t.qweight(), in, out,
                        bits, perm, order.kSteps(), nBlocksPart, w, nBlocks, blockOffset);
            }
            d.launch("repack_gptq_scales", blocks(nScales), 1, 1, 256, 0, t.qzeros(), scales, groups, out, bits,
                    zeroOffset, zs, nBlocks, blockOffset);
            d.synchronize("repacking " + names.get(i));
            d.free(t.qweight());
            d.free(t.qzeros());
            d.free(t.scales());
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
