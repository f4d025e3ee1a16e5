package dev.sparkllm.engine.checkpoint.synthetic;

import dev.sparkllm.engine.checkpoint.DType;
import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.checkpoint.QuantizationConfig;
import dev.sparkllm.engine.checkpoint.SafetensorsFile;
import dev.sparkllm.engine.checkpoint.SafetensorsHeader;
import dev.sparkllm.engine.checkpoint.TensorInfo;
import dev.sparkllm.engine.model.LlamaConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The header of full-size synthetic checkpoints, checked without writing their weights: every name, dtype and
 * shape of all layers against AutoGPTQ's layout written out independently here, the safetensors library's order,
 * the published sizes of the reference branches, and the engine's own validator ({@link ModelDirectory#open}) on a
 * sparse file that has the header and the full length but no data.
 */
class SafetensorsLayoutTest {

    /** AutoGPTQ's tensors for a Llama shape, name to dtype and shape, in no particular order. */
    static Map<String, Object[]> expectedTensors(LlamaShape s, int bits, int groupSize) {
        Map<String, Object[]> m = new LinkedHashMap<>();
        int h = s.hiddenSize();
        int kv = s.numKvHeads() * (h / s.numHeads());
        m.put("model.embed_tokens.weight", new Object[] {DType.F16, new long[] {32000, h}});
        m.put("lm_head.weight", new Object[] {DType.F16, new long[] {32000, h}});
        m.put("model.norm.weight", new Object[] {DType.F16, new long[] {h}});
        for (int l = 0; l < s.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            m.put(p + "input_layernorm.weight", new Object[] {DType.F16, new long[] {h}});
            m.put(p + "post_attention_layernorm.weight", new Object[] {DType.F16, new long[] {h}});
            Object[][] projections = {
                    {"self_attn.q_proj", h, h}, {"self_attn.k_proj", h, kv}, {"self_attn.v_proj", h, kv},
                    {"self_attn.o_proj", h, h}, {"mlp.gate_proj", h, s.intermediateSize()},
                    {"mlp.up_proj", h, s.intermediateSize()}, {"mlp.down_proj", s.intermediateSize(), h}};
            for (Object[] proj : projections) {
                String q = p + proj[0];
                long in = (Integer) proj[1];
                long out = (Integer) proj[2];
                long groups = groupSize == -1 ? 1 : in / groupSize;
                m.put(q + ".qweight", new Object[] {DType.I32, new long[] {in * bits / 32, out}});
                m.put(q + ".qzeros", new Object[] {DType.I32, new long[] {groups, out * bits / 32}});
                m.put(q + ".scales", new Object[] {DType.F16, new long[] {groups, out}});
                m.put(q + ".g_idx", new Object[] {DType.I32, new long[] {in}});
                m.put(q + ".bias", new Object[] {DType.F16, new long[] {out}});
            }
        }
        return m;
    }

    static void assertLayoutIsAutoGptqs(CheckpointSpec spec) {
        SafetensorsLayout layout = SafetensorsLayout.of(spec);
        Map<String, Object[]> expected = expectedTensors(spec.shape(), spec.bits(), spec.groupSize());
        List<TensorInfo> tensors = layout.tensors();
        assertEquals(expected.size(), tensors.size());
        long offset = 0;
        List<String> names = new ArrayList<>();
        for (TensorInfo t : tensors) {
            Object[] e = expected.get(t.name());
            assertTrue(e != null, "unexpected tensor " + t.name());
            assertEquals(e[0], t.dtype(), t.name());
            assertArrayEquals((long[]) e[1], t.shape(), t.name());
            assertEquals(offset, t.dataStart(), t.name() + " must follow the previous tensor");
            offset = t.dataEnd();
            names.add(t.name());
        }
        assertEquals(offset, layout.dataSize());
        assertEquals(layout.headerBytes().length + offset, layout.fileSize());
        // safetensors' order: I32 before F16, each by name (so layers 10..19 come between 1 and 2).
        int firstF16 = (int) tensors.stream().filter(t -> t.dtype() == DType.I32).count();
        assertTrue(tensors.subList(firstF16, tensors.size()).stream().allMatch(t -> t.dtype() == DType.F16));
        List<String> sortedI32 = new ArrayList<>(names.subList(0, firstF16));
        sortedI32.sort(null);
        assertEquals(sortedI32, names.subList(0, firstF16));
        List<String> sortedF16 = new ArrayList<>(names.subList(firstF16, names.size()));
        sortedF16.sort(null);
        assertEquals(sortedF16, names.subList(firstF16, names.size()));
        assertEquals("lm_head.weight", names.get(firstF16));
        if (spec.shape().numLayers() > 10) {
            assertTrue(names.indexOf("model.layers.10.mlp.down_proj.g_idx") < names.indexOf("model.layers.2.mlp.down_proj.g_idx"));
        }

        // The header: 8-byte length, compact JSON with __metadata__ first, padded with spaces to 8 bytes; the
        // engine's parser reads back exactly these entries.
        byte[] header = layout.headerBytes();
        assertEquals(0, header.length % 8);
        String json = new String(header, 8, header.length - 8, StandardCharsets.UTF_8);
        assertTrue(json.startsWith("{\"__metadata__\":{\"format\":\"pt\"},\"" + names.get(0) + "\":{\"dtype\":\"I32\",\"shape\":["), json.substring(0, 120));
        assertFalse(json.strip().contains(" "), "compact JSON, spaces only as padding");
        SafetensorsHeader parsed = SafetensorsHeader.parse(json.getBytes(StandardCharsets.UTF_8), layout.dataSize(), Path.of("layout"));
        assertEquals(names, new ArrayList<>(parsed.tensors().keySet()));
        assertEquals(tensors, new ArrayList<>(parsed.tensors().values()));
        assertEquals(Map.of("format", "pt"), parsed.metadata());
    }

    @Test
    void sevenBLayoutHasEveryAutoGptqTensorOfAll32Layers() {
        CheckpointSpec spec = new CheckpointSpec(LlamaShape.LLAMA2_7B, 4, 128, true, "model", 0);
        assertLayoutIsAutoGptqs(spec);
        assertEquals(32 * 37 + 3, SafetensorsLayout.of(spec).tensors().size());
        assertLayoutIsAutoGptqs(new CheckpointSpec(LlamaShape.LLAMA2_7B, 3, -1, true, "model", 0));
    }

    @Test
    void thirteenAndSeventyBLayoutsToo() {
        assertLayoutIsAutoGptqs(new CheckpointSpec(LlamaShape.LLAMA2_13B, 4, 64, true, "model", 0));
        assertLayoutIsAutoGptqs(new CheckpointSpec(LlamaShape.LLAMA2_70B, 4, 128, true, "model", 0));
        assertLayoutIsAutoGptqs(new CheckpointSpec(LlamaShape.LLAMA2_70B, 3, 128, false, "model", 0));
    }

    /** The sizes the reference repositories publish for their branches (GB of 10^9 bytes, rounded to 0.01). */
    @Test
    void sizesMatchThePublishedBranchSizes() {
        Object[][] published = {
                {LlamaShape.LLAMA2_70B, 4, -1, "35.33"}, {LlamaShape.LLAMA2_70B, 4, 128, "36.65"},
                {LlamaShape.LLAMA2_70B, 4, 64, "37.99"}, {LlamaShape.LLAMA2_70B, 4, 32, "40.66"},
                {LlamaShape.LLAMA2_70B, 3, -1, "26.77"}, {LlamaShape.LLAMA2_70B, 3, 128, "28.03"},
                {LlamaShape.LLAMA2_70B, 3, 64, "29.30"},
                {LlamaShape.LLAMA2_13B, 4, 128, "7.26"}, {LlamaShape.LLAMA2_13B, 4, 64, "7.51"}, {LlamaShape.LLAMA2_13B, 4, 32, "8.00"}};
        for (Object[] p : published) {
            CheckpointSpec spec = new CheckpointSpec((LlamaShape) p[0], (Integer) p[1], (Integer) p[2], true, "model", 0);
            String gb = String.format(java.util.Locale.ROOT, "%.2f", SafetensorsLayout.of(spec).fileSize() / 1e9);
            assertEquals(p[3], gb, spec.describe());
        }
    }

    @Test
    void sevenBHeaderAndConfigsOpenWithModelDirectory(@TempDir Path dir) throws IOException {
        CheckpointSpec spec = new CheckpointSpec(LlamaShape.LLAMA2_7B, 4, 128, true, "model", 0);
        try (ModelDirectory model = openSparse(spec, dir)) {
            LlamaConfig c = model.config();
            assertEquals(List.of(32000, 4096, 11008, 32, 32, 32, 128, 4096),
                    List.of(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numLayers(), c.numHeads(), c.numKvHeads(),
                            c.headDim(), c.maxPositionEmbeddings()));
            assertEquals(1e-5f, c.rmsNormEps());
            assertEquals(10000.0, c.rope().theta());
            assertEquals(1, c.bosTokenId());
            assertArrayEquals(new int[] {2}, c.eosTokenIds());
            assertFalse(c.tieWordEmbeddings());
            QuantizationConfig q = model.quantization().orElseThrow();
            assertEquals(List.of(4, 128, true, true, QuantizationConfig.Format.GPTQ, "model"),
                    List.of(q.bits(), q.groupSize(), q.descAct(), q.sym(), q.format(), q.modelFileBaseName()));
            assertEquals(List.of(dir.resolve("model.safetensors")), model.weightFiles());
            assertEquals(0.6, model.generationConfig().temperature());
            assertEquals(0.9, model.generationConfig().topP());
            assertArrayEquals(new long[] {11008 * 4 / 32, 4096}, model.tensor("model.layers.31.mlp.down_proj.qweight").shape());
        }
    }

    @Test
    void seventyBHeaderOpensWithModelDirectory(@TempDir Path dir) throws IOException {
        CheckpointSpec spec = new CheckpointSpec(LlamaShape.LLAMA2_70B, 3, 128, true, "model", 0);
        try (ModelDirectory model = openSparse(spec, dir)) {
            LlamaConfig c = model.config();
            assertEquals(List.of(8192, 28672, 80, 64, 8, 1024),
                    List.of(c.hiddenSize(), c.intermediateSize(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.kvDim()));
            assertArrayEquals(new long[] {8192 * 3 / 32, 1024}, model.tensor("model.layers.79.self_attn.k_proj.qweight").shape());
            assertArrayEquals(new long[] {28672 / 128, 8192 * 3 / 32}, model.tensor("model.layers.0.mlp.down_proj.qzeros").shape());
        }
    }

    /**
     * Writes the small files and a weights file that has the real header and length but no data (sparse), and
     * opens it: ModelDirectory.open checks every header entry against config.json without reading weights.
     */
    static ModelDirectory openSparse(CheckpointSpec spec, Path dir) throws IOException {
        SafetensorsLayout layout = SafetensorsLayout.of(spec);
        Assumptions.assumeTrue(Files.getFileStore(dir).getUsableSpace() > layout.fileSize() + (1L << 30),
                "skipped: the sparse file's length must fit on the disk in case the file system does not make it sparse");
        SyntheticCheckpoint.writeSmallFiles(spec, dir, "test");
        Path weights = dir.resolve(spec.fileName());
        try (RandomAccessFile f = new RandomAccessFile(weights.toFile(), "rw")) {
            f.write(layout.headerBytes());
            f.setLength(layout.fileSize());
        }
        try (SafetensorsFile file = SafetensorsFile.open(weights)) {
            assertEquals(layout.tensors(), new ArrayList<>(file.tensors().values()));
            assertArrayEquals(Arrays.copyOfRange(layout.headerBytes(), 8, layout.headerBytes().length), file.headerBytes());
        }
        return ModelDirectory.open(dir);
    }
}
