package dev.sparkllm.engine.checkpoint.synthetic;

import dev.sparkllm.engine.checkpoint.DType;
import dev.sparkllm.engine.checkpoint.TensorInfo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every tensor of a synthetic checkpoint with its place in the file, computed from the shapes alone, and the
 * header that describes them, before a byte of weights exists.
 *
 * <p>Names, dtypes and shapes are AutoGPTQ's for a Llama model: per projection {@code qweight} I32
 * {@code [in*bits/32, out]}, {@code qzeros} I32 {@code [groups, out*bits/32]}, {@code scales} F16
 * {@code [groups, out]}, {@code g_idx} I32 {@code [in]}, {@code bias} F16 {@code [out]} (zeros); F16 embeddings, norms
 * and {@code lm_head}.
 * The order is the {@code safetensors} library's (what {@code save_file} writes): by dtype, widest alignment first
 * (so all I32 tensors, then all F16), then by name as bytes ({@code model.layers.10} before {@code model.layers.2});
 * the header is compact JSON, {@code __metadata__} {@code {"format":"pt"}} first, padded with spaces to 8 bytes.
 */
public final class SafetensorsLayout {

    /** Weight standard deviation the synthetic scales aim at (Llama's initialiser range is 0.02). */
    static final double WEIGHT_STD_DEV = 0.016;

    /** One tensor: its header entry and the fill that makes its bytes. */
    record Planned(TensorInfo info, TensorFill fill) {
    }

    private final List<Planned> tensors;
    private final byte[] header;     // 8-byte little-endian length, then the padded JSON
    private final long dataSize;

    private SafetensorsLayout(List<Planned> tensors, byte[] header, long dataSize) {
        this.tensors = tensors;
        this.header = header;
        this.dataSize = dataSize;
    }

    /** The layout of {@code spec}'s weights file. */
    public static SafetensorsLayout of(CheckpointSpec spec) {
        List<Unplaced> list = new ArrayList<>();
        LlamaShape s = spec.shape();
        int h = s.hiddenSize();
        long seed = spec.seed();
        short[] embedding = TensorFill.normalTable(0, 0.02, seed ^ 1);
        short[] lmHead = TensorFill.normalTable(0, 0.02, seed ^ 2);
        short[] norm = TensorFill.normalTable(1, 0.05, seed ^ 3);
        // Scales spread over [0.5, 1.5] x the mean that gives weights of WEIGHT_STD_DEV: 0.0025-0.0074 at 4 bits,
        // 0.005-0.015 at 3 bits.
        double meanScale = WEIGHT_STD_DEV / TensorFill.valueStdDev(spec.bits());
        short[] scales = TensorFill.uniformTable(0.5 * meanScale, 1.5 * meanScale);

        list.add(dense("model.embed_tokens.weight", new long[] {s.vocabSize(), h}, embedding, seed));
        list.add(dense("lm_head.weight", new long[] {s.vocabSize(), h}, lmHead, seed));
        list.add(dense("model.norm.weight", new long[] {h}, norm, seed));
        for (int l = 0; l < s.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            list.add(dense(p + "input_layernorm.weight", new long[] {h}, norm, seed));
            list.add(dense(p + "post_attention_layernorm.weight", new long[] {h}, norm, seed));
            // q, k and v read the same input, as do gate and up: GPTQ gives each set one act-order permutation.
            String attnInput = p + "self_attn.input";
            String mlpInput = p + "mlp.input";
            projection(list, spec, p + "self_attn.q_proj", h, h, attnInput, scales);
            projection(list, spec, p + "self_attn.k_proj", h, s.kvDim(), attnInput, scales);
            projection(list, spec, p + "self_attn.v_proj", h, s.kvDim(), attnInput, scales);
            projection(list, spec, p + "self_attn.o_proj", h, h, p + "self_attn.o_proj", scales);
            projection(list, spec, p + "mlp.gate_proj", h, s.intermediateSize(), mlpInput, scales);
            projection(list, spec, p + "mlp.up_proj", h, s.intermediateSize(), mlpInput, scales);
            projection(list, spec, p + "mlp.down_proj", s.intermediateSize(), h, p + "mlp.down_proj", scales);
        }
        list.sort(Comparator.comparingInt((Unplaced u) -> -alignmentRank(u.dtype)).thenComparing(u -> u.name));

        List<Planned> placed = new ArrayList<>(list.size());
        StringBuilder json = new StringBuilder(list.size() * 110).append("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (Unplaced u : list) {
            long end = offset + u.fill.byteSize();
            placed.add(new Planned(new TensorInfo(u.name, u.dtype, u.shape, offset, end), u.fill));
            json.append(",\"").append(u.name).append("\":{\"dtype\":\"").append(u.dtype.name()).append("\",\"shape\":[");
            for (int i = 0; i < u.shape.length; i++) json.append(i == 0 ? "" : ",").append(u.shape[i]);
            json.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        json.append('}');
        byte[] text = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (text.length + 7) / 8 * 8;
        ByteBuffer header = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(padded).put(text);
        while (header.hasRemaining()) header.put((byte) ' ');
        return new SafetensorsLayout(List.copyOf(placed), header.array(), offset);
    }

    /** The header entries in file order. */
    public List<TensorInfo> tensors() {
        return tensors.stream().map(Planned::info).toList();
    }

    List<Planned> planned() {
        return tensors;
    }

    /** The bytes before the data: the header's length (8 bytes, little-endian), then its JSON padded to 8 bytes. */
    public byte[] headerBytes() {
        return header.clone();
    }

    /** Bytes of tensor data after the header. */
    public long dataSize() {
        return dataSize;
    }

    /** Bytes of the whole file. */
    public long fileSize() {
        return header.length + dataSize;
    }

    /** Bytes by kind of tensor: qweight, scales, qzeros, g_idx, bias, and "fp16 dense" (embeddings, lm_head, norms). */
    public Map<String, Long> bytesByKind() {
        Map<String, Long> bytes = new LinkedHashMap<>();
        for (String k : new String[] {"qweight", "scales", "qzeros", "g_idx", "bias", "fp16 dense"}) bytes.put(k, 0L);
        for (Planned p : tensors) {
            String name = p.info().name();
            String kind = name.substring(name.lastIndexOf('.') + 1);
            bytes.merge(bytes.containsKey(kind) ? kind : "fp16 dense", p.info().byteSize(), Long::sum);
        }
        return bytes;
    }

    private record Unplaced(String name, DType dtype, long[] shape, TensorFill fill) {
    }

    private static Unplaced dense(String name, long[] shape, short[] table, long seed) {
        long elements = 1;
        for (long d : shape) elements *= d;
        return new Unplaced(name, DType.F16, shape, TensorFill.fp16(elements, table, tensorSeed(seed, name)));
    }

    private static void projection(List<Unplaced> list, CheckpointSpec spec, String prefix, int in, int out,
                                   String permutationKey, short[] scales) {
        int bits = spec.bits();
        int groups = spec.groups(in);
        long seed = spec.seed();
        list.add(new Unplaced(prefix + ".qweight", DType.I32, new long[] {in * bits / 32, out},
                TensorFill.packedWeights(in, out, bits, tensorSeed(seed, prefix + ".qweight"))));
        list.add(new Unplaced(prefix + ".qzeros", DType.I32, new long[] {groups, out * bits / 32},
                TensorFill.zeroPoints(groups, out, bits)));
        list.add(new Unplaced(prefix + ".scales", DType.F16, new long[] {groups, out},
                TensorFill.fp16((long) groups * out, scales, tensorSeed(seed, prefix + ".scales"))));
        // AutoGPTQ of the reference uploads gave every QuantLinear an fp16 bias buffer, all zeros for Llama: the
        // branches' published sizes (35.33 GB for 70B 4-bit no-group, 7.51 GB for 13B 4-bit 64g) include them.
        list.add(new Unplaced(prefix + ".bias", DType.F16, new long[] {out}, TensorFill.zeros((long) out * 2)));
        list.add(new Unplaced(prefix + ".g_idx", DType.I32, new long[] {in},
                TensorFill.groupIndex(in, spec.groupSize(), spec.actOrder(), tensorSeed(seed, permutationKey))));
    }

    static long tensorSeed(long seed, String name) {
        return SplitMix64.mix(seed, SplitMix64.hash(name));
    }

    /**
     * The position of a dtype in the {@code safetensors} library's {@code Dtype} enum, whose order its writer sorts
     * by (descending): wider types come first.
     */
    private static int alignmentRank(DType dtype) {
        return switch (dtype) {
            case BOOL -> 0;
            case U8 -> 1;
            case I8 -> 2;
            case F8_E5M2 -> 3;
            case F8_E4M3 -> 4;
            case I16 -> 5;
            case U16 -> 6;
            case F16 -> 7;
            case BF16 -> 8;
            case I32 -> 9;
            case U32 -> 10;
            case F32 -> 11;
            case F64 -> 12;
            case I64 -> 13;
            case U64 -> 14;
        };
    }
}
