package dev.sparkllm.engine.cuda;

import dev.sparkllm.engine.checkpoint.CheckpointException;
import dev.sparkllm.engine.checkpoint.DType;
import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.checkpoint.QuantizationConfig;
import dev.sparkllm.engine.checkpoint.TensorInfo;
import dev.sparkllm.engine.model.LlamaConfig;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Loads a checkpoint onto the GPU: each tensor is streamed as stored (the on-disk exchange format) through
 * {@link HostStaging}'s page-locked buffers into a device buffer and repacked there by {@code repack.cu} into the
 * kernels' layout; no host loop touches the weights, and the file is read, never mapped, so the process's
 * resident memory does not grow with the checkpoint. GPTQ act-order rows are sorted by group on the way (the
 * permutation is computed on the host from {@code g_idx}, a few thousand ints; the weights move on the GPU).
 * Projections that read the same input in the same row order become one product: q/k/v and gate/up whenever
 * their {@code g_idx} agree.
 *
 * <p>Shapes were checked against the config when the {@link ModelDirectory} was opened; this class checks
 * what only the GPU path limits: 3- or 4-bit GPTQ, F16/BF16/F32 dense tensors.
 */
final class GpuModelLoader {

    private final ModelDirectory dir;
    private final CudaDevice d;
    private final LlamaConfig c;
    private final QuantizationConfig quant;
    private final Map<String, Optional<int[]>> gIdxByPrefix = new HashMap<>();
    private long bytes;
    private HostStaging staging;  // set while load() runs
    private long streamed;

    GpuModelLoader(ModelDirectory dir, CudaDevice d) {
        this.dir = dir;
        this.d = d;
        this.c = dir.config();
        this.quant = dir.quantization().orElse(null);
    }

    /** Refuses, before anything is loaded, a checkpoint whose settings the GPU kernels do not implement. */
    static void checkSupported(ModelDirectory dir) {
        QuantizationConfig q = dir.quantization().orElse(null);
        if (q != null && q.bits() != 3 && q.bits() != 4) {
            throw new CheckpointException(q.source() + ": " + q.bits() + "-bit GPTQ is not supported by the GPU backend"
                    + " (it runs 3- and 4-bit checkpoints); use --device cpu for this model");
        }
        if (dir.config().headDim() % 8 != 0 || dir.config().headDim() > 1024) {
            throw new CheckpointException(dir.path().resolve("config.json") + ": head_dim " + dir.config().headDim()
                    + " is not supported by the GPU backend (a multiple of 8 of at most 1024); use --device cpu for this model");
        }
    }

    /** Loads the weights; afterwards {@link #streamedBytes()} tells how many bytes came from the checkpoint. */
    GpuModel load() {
        checkSupported(dir);
        try (HostStaging s = new HostStaging(d)) {
            staging = s;
            GpuModel model = loadAll();
            streamed = s.bytes();
            return model;
        } finally {
            staging = null;
        }
    }

    /** Checkpoint bytes the last {@link #load()} read. */
    long streamedBytes() {
        return streamed;
    }

    private GpuModel loadAll() {
        long need = estimatedBytes();
        long free = d.freeBytes();
        if (need > free) {
            throw new CudaException(String.format(java.util.Locale.ROOT, "not enough GPU memory on cuda:%d (%s) for %s: its weights"
                            + " take about %s on the GPU but %s is free; use a GPU with more memory (or a smaller quantisation)",
                    d.ordinal(), d.name(), dir.path(), CudaDevice.gib(need), CudaDevice.gib(free)));
        }
        int hidden = c.hiddenSize();
        DeviceBuffer embedding = toHalf("model.embed_tokens.weight");
        List<GpuModel.Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            layers.add(new GpuModel.Layer(
                    toFloat(p + "input_layernorm.weight"),
                    placed(hidden, List.of(p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj"),
                            List.of(c.qDim(), c.kvDim(), c.kvDim())),
                    single(p + "self_attn.o_proj", c.qDim(), hidden),
                    toFloat(p + "post_attention_layernorm.weight"),
                    placed(hidden, List.of(p + "mlp.gate_proj", p + "mlp.up_proj"), List.of(c.intermediateSize(), c.intermediateSize())),
                    single(p + "mlp.down_proj", c.intermediateSize(), hidden)));
        }
        DeviceBuffer finalNorm = toFloat("model.norm.weight");
        String head = c.tieWordEmbeddings() ? "model.embed_tokens" : "lm_head";
        GpuLinear lmHead = dense(List.of(head + ".weight"), List.of(c.vocabSize()), hidden);
        return new GpuModel(c, embedding, List.copyOf(layers), finalNorm, lmHead, bytes);
    }

    /**
     * Device bytes the weights will take, from the tensor headers: GPTQ weights as stored (3-bit widened to 4),
     * dense projections and the embedding as fp16, norms as fp32.
     */
    private long estimatedBytes() {
        int hidden = c.hiddenSize();
        long dense = 2L * 2 * c.vocabSize() * hidden; // embedding and lm_head (a copy even when tied), fp16
        long perLayer = 0;
        long[][] shapes = {{hidden, c.qDim()}, {hidden, c.kvDim()}, {hidden, c.kvDim()}, {c.qDim(), hidden},
                {hidden, c.intermediateSize()}, {hidden, c.intermediateSize()}, {c.intermediateSize(), hidden}};
        for (long[] s : shapes) {
            long weights = s[0] * s[1];
            perLayer += quant != null ? weights / 2 + (quant.groupSize() == -1 ? 1 : s[0] / quant.groupSize()) * s[1] * 4 : weights * 2;
        }
        return dense + c.numLayers() * (perLayer + 8L * hidden) + 4L * hidden;
    }

    private GpuLinear single(String prefix, int in, int out) {
        List<GpuModel.Placed> p = placed(in, List.of(prefix), List.of(out));
        return p.get(0).linear();
    }

    /**
     * Projections reading one input, side by side: consecutive ones of the same kind (GPTQ with equal g_idx, or
     * dense) whose widths are whole 64-column blocks share one product.
     */
    private List<GpuModel.Placed> placed(int in, List<String> prefixes, List<Integer> outs) {
        List<GpuModel.Placed> result = new ArrayList<>();
        int i = 0, column = 0;
        while (i < prefixes.size()) {
            int j = i + 1;
            while (j < prefixes.size() && outs.get(j - 1) % 64 == 0 && canShare(prefixes.get(i), prefixes.get(j))) j++;
            List<String> group = prefixes.subList(i, j);
            List<Integer> widths = outs.subList(i, j);
            GpuLinear linear = isGptq(prefixes.get(i)) ? gptq(group, widths, in) : dense(weightNames(group), widths, in);
            result.add(new GpuModel.Placed(linear, column));
            for (int w : widths) column += w;
            i = j;
        }
        return List.copyOf(result);
    }

    private boolean isGptq(String prefix) {
        return hasTensor(prefix + ".qweight");
    }

    private boolean hasTensor(String name) {
        try {
            dir.tensor(name);
            return true;
        } catch (CheckpointException e) {
            return false;
        }
    }

    private boolean canShare(String a, String b) {
        if (isGptq(a) != isGptq(b)) return false;
        if (!isGptq(a)) return true;
        return Arrays.equals(gIdx(a), gIdx(b));
    }

    private static List<String> weightNames(List<String> prefixes) {
        return prefixes.stream().map(p -> p + ".weight").toList();
    }

    /** A projection's g_idx (null when it has none), read once: {@link #canShare} and {@link #gptq} both ask. */
    private int[] gIdx(String prefix) {
        return gIdxByPrefix.computeIfAbsent(prefix, p -> Optional.ofNullable(hasTensor(p + ".g_idx") ? readInts(p + ".g_idx") : null))
                .orElse(null);
    }

    /** A small I32 tensor (g_idx, qzeros) read into the heap. */
    private int[] readInts(String name) {
        TensorInfo info = dir.tensor(name);
        if (info.dtype() != DType.I32 && info.dtype() != DType.U32) {
            throw new CheckpointException(dir.path() + ": tensor '" + name + "' has dtype " + info.dtype() + "; expected I32 or U32");
        }
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(info.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        dir.readTensor(name, 0, b);
        int[] out = new int[b.capacity() / 4];
        b.flip().asIntBuffer().get(out);
        return out;
    }

    // ---- GPTQ ---------------------------------------------------------------------------------------------

    private GpuLinear gptq(List<String> prefixes, List<Integer> outs, int in) {
        int groups = quant.groupSize() == -1 ? 1 : in / quant.groupSize();
        List<GpuLinears.RawGptq> parts = new ArrayList<>();
        for (int i = 0; i < prefixes.size(); i++) {
            String p = prefixes.get(i);
            int[] qzeros = readInts(p + ".qzeros");
            parts.add(new GpuLinears.RawGptq(upload(p + ".qweight"), upload(p + ".qzeros"), upload(p + ".scales"),
                    dtypeCode(p + ".scales"), outs.get(i), quant.zeroPointsOf(qzeros, groups, outs.get(i))));
        }
        GpuLinear linear = GpuLinears.gptq(d, prefixes, in, quant.bits(), quant.groupSize(), gIdx(prefixes.get(0)), parts);
        bytes += linear.bytes();
        return linear;
    }

    private GpuLinear dense(List<String> names, List<Integer> outs, int in) {
        List<GpuLinears.RawDense> parts = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) parts.add(new GpuLinears.RawDense(upload(names.get(i)), dtypeCode(names.get(i)), outs.get(i)));
        GpuLinear linear = GpuLinears.dense(d, names, parts, in);
        bytes += linear.bytes();
        return linear;
    }

    // ---- plain tensors ----------------------------------------------------------------------------------------

    /** A floating-point tensor as fp16 on the device. */
    private DeviceBuffer toHalf(String name) {
        return convert(name, "convert_to_f16", 2);
    }

    /** A floating-point tensor as fp32 on the device. */
    private DeviceBuffer toFloat(String name) {
        return convert(name, "convert_to_f32", 4);
    }

    private DeviceBuffer convert(String name, String kernel, int elementBytes) {
        TensorInfo info = dir.tensor(name);
        long n = info.elementCount();
        DeviceBuffer raw = upload(name);
        DeviceBuffer out = d.alloc(n * elementBytes, name);
        d.launch(kernel, GpuLinears.blocks(n), 1, 1, 256, 0, raw, dtypeCode(name), out, n);
        d.synchronize("converting " + name);
        d.free(raw);
        bytes += out.bytes();
        return out;
    }

    private int dtypeCode(String name) {
        DType t = dir.tensor(name).dtype();
        return switch (t) {
            case F16 -> 0;
            case BF16 -> 1;
            case F32 -> 2;
            default -> throw new CheckpointException(dir.path() + ": tensor '" + name + "' has dtype " + t
                    + "; the GPU backend reads F16, BF16 and F32 weights");
        };
    }

    /** Streams a tensor's bytes as stored into a new device buffer. */
    private DeviceBuffer upload(String name) {
        DeviceBuffer b = d.alloc(dir.tensor(name).byteSize(), name);
        staging.upload(dir, name, b);
        return b;
    }

}
