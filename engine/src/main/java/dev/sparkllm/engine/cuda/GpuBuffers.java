package dev.sparkllm.engine.cuda;

import dev.sparkllm.engine.model.LlamaConfig;

/**
 * The CUDA backend's device memory besides the weights, allocated once at load for the largest step:
 * activations, the step's row data, the split-K and attention workspaces, the rotary tables and the KV cache.
 */
final class GpuBuffers {

    /** Positions per attention chunk, and attention_partial's threads (one per position): ATTN_CHUNK in attention.cu. */
    static final int ATTENTION_CHUNK = 256;
    /** Rows per attention launch: bounds the attention workspace. */
    static final int ATTENTION_ROWS = 256;

    private final CudaDevice d;
    private final LlamaConfig c;
    private long bytes;

    final DeviceBuffer x;            // fp32 [rows, hidden]: the residual stream
    final DeviceBuffer xb;           // fp16 [rows, max(hidden, qDim, intermediate)]: the input of the next product
    final DeviceBuffer wide;         // fp32 [rows, max(q+k+v, 2·intermediate)]: q/k/v, then gate/up
    final DeviceBuffer logits;       // fp32 [rows, vocab]
    final DeviceBuffer workspace;    // fp32 split-K partial sums, the largest layer's need
    final DeviceBuffer attentionParts; // fp32 [ATTENTION_ROWS, heads, attentionChunks, headDim + 2]
    final int attentionChunks;
    final DeviceBuffer cos;          // fp32 [contextLength, headDim/2]
    final DeviceBuffer sin;
    final DeviceBuffer tokens;       // int [rows]
    final DeviceBuffer positions;    // int [rows]
    final DeviceBuffer slots;        // int [rows]
    final DeviceBuffer tableStart;   // int [rows]
    final DeviceBuffer logitRows;    // int [rows]
    final DeviceBuffer blockTables;  // int [capacity]: the step's block tables, then the scratch entry
    private DeviceBuffer kvCache;    // fp16 [layers][2][blocks·blockSize][kvHeads·headDim]
    private long kvLayerBytes;

    GpuBuffers(CudaDevice d, GpuModel model, int maxRows, int contextLength, int blockSize, float[][] rope) {
        this.d = d;
        this.c = model.config();
        int hidden = c.hiddenSize(), inter = c.intermediateSize();
        x = alloc((long) maxRows * hidden * 4, "residual stream");
        xb = alloc((long) maxRows * Math.max(Math.max(hidden, c.qDim()), inter) * 2, "product inputs");
        wide = alloc((long) maxRows * Math.max(c.qDim() + 2L * c.kvDim(), 2L * inter) * 4, "q/k/v and gate/up outputs");
        logits = alloc((long) maxRows * c.vocabSize() * 4, "logits");
        long ws = model.lmHead().workspaceFloats();
        for (GpuModel.Layer l : model.layers()) {
            for (GpuModel.Placed p : l.qkv()) ws = Math.max(ws, p.linear().workspaceFloats());
            for (GpuModel.Placed p : l.gateUp()) ws = Math.max(ws, p.linear().workspaceFloats());
            ws = Math.max(ws, Math.max(l.wo().workspaceFloats(), l.down().workspaceFloats()));
        }
        workspace = alloc(ws * 4, "split-K workspace");
        attentionChunks = (contextLength + ATTENTION_CHUNK - 1) / ATTENTION_CHUNK;
        attentionParts = alloc((long) ATTENTION_ROWS * c.numHeads() * attentionChunks * (c.headDim() + 2) * 4, "attention workspace");
        cos = alloc((long) rope[0].length * 4, "rotary cosines");
        sin = alloc((long) rope[1].length * 4, "rotary sines");
        d.upload(cos, rope[0], rope[0].length);
        d.upload(sin, rope[1], rope[1].length);
        tokens = alloc(maxRows * 4L, "token ids");
        positions = alloc(maxRows * 4L, "positions");
        slots = alloc(maxRows * 4L, "KV slots");
        tableStart = alloc(maxRows * 4L, "block table offsets");
        logitRows = alloc(maxRows * 4L, "logit rows");
        // Room for every row's own table at the longest context, plus the scratch entry of graph padding rows;
        // allocated once, since captured graphs hold its address.
        blockTableCapacity = (long) maxRows * ((contextLength + blockSize - 1) / blockSize) + 1;
        blockTables = alloc(blockTableCapacity * 4, "block tables");
    }

    private final long blockTableCapacity;

    /** Where the scratch block's one-entry table sits in {@link #blockTables}. */
    int scratchTableIndex() {
        return (int) (blockTableCapacity - 1);
    }

    private DeviceBuffer alloc(long n, String what) {
        DeviceBuffer b = d.alloc(n, what);
        bytes += n;
        return b;
    }

    /** Bytes of everything but the KV cache. */
    long bytes() {
        return bytes;
    }

    /** The KV cache of {@code blocks} blocks; the last is the scratch block that graph padding rows write. */
    void allocateKvCache(int blocks, int blockSize) {
        kvLayerBytes = (long) blocks * blockSize * c.kvDim() * 2;
        kvCache = d.alloc(kvLayerBytes * 2 * c.numLayers(), "KV cache");
        d.upload(blockTables, scratchTableIndex() * 4L, jcuda.Pointer.to(new int[]{blocks - 1}), 4);
    }

    DeviceBuffer keys(int layer) {
        return new DeviceBuffer(kvCache.at(kvLayerBytes * 2 * layer), kvLayerBytes, "keys of layer " + layer);
    }

    DeviceBuffer values(int layer) {
        return new DeviceBuffer(kvCache.at(kvLayerBytes * (2L * layer + 1)), kvLayerBytes, "values of layer " + layer);
    }

    /** Copies the step's row data to the device. */
    void uploadStep(StepLayout s) {
        d.upload(tokens, s.tokens, s.rows);
        d.upload(positions, s.positions, s.rows);
        d.upload(slots, s.slots, s.rows);
        d.upload(tableStart, s.tableStart, s.rows);
        if (s.logitRows > 0) d.upload(logitRows, s.logitRowSource, s.logitRows);
        if (s.blockTableInts >= blockTableCapacity) {
            throw new IllegalStateException("block tables of " + s.blockTableInts + " entries exceed the " + blockTableCapacity
                    + " sized for the largest step");
        }
        if (s.blockTableInts > 0) d.upload(blockTables, s.blockTables, s.blockTableInts);
    }
}
