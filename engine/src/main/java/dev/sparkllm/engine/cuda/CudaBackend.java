package dev.sparkllm.engine.cuda;

import dev.sparkllm.engine.backend.ModelBackend;
import dev.sparkllm.engine.backend.StepChecks;
import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepInput.SequenceChunk;
import dev.sparkllm.engine.backend.StepOutput;
import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.cpu.RotaryEmbedding;
import dev.sparkllm.engine.model.LlamaConfig;

import jcuda.Pointer;
import jcuda.driver.CUgraphExec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The CUDA backend: the Llama forward pass on one GPU over a batch of sequence chunks, with the weights, the
 * activations and a paged fp16 KV cache resident in GPU memory. Only token ids, positions and block tables go
 * to the device each step, and only the wanted logits come back.
 *
 * <p>Per step, all rows (prefill chunks and decodes alike) run through the same kernels: embedding → per layer
 * {RMSNorm → q/k/v product → rotary + KV store → paged attention → output product (+ residual) → RMSNorm →
 * gate/up product → SwiGLU → down product (+ residual)} → final RMSNorm of the wanted rows → lm_head. Every
 * kernel computes a row from that row's data alone, in a fixed order (see {@link ModelBackend} on row
 * independence), so a request's logits do not depend on the batch.
 *
 * <p>Precision, and so the tolerance against the CPU backend (float32 throughout): the residual stream,
 * norms, rotary embedding, attention scores and softmax are fp32; products take fp16 inputs (normalised
 * activations, attention output, SwiGLU output; GPTQ weights dequantised to fp16 in registers, as Hugging Face
 * and the GPTQ kernels do) and accumulate in fp32; the KV cache is fp16.
 *
 * <p>Threading: every CUDA call runs on the device's own thread ({@link CudaDevice#call}); {@link #execute}
 * may be called from the engine's loop thread.
 */
public final class CudaBackend implements ModelBackend {

    private final CudaDevice d;
    private final LlamaConfig c;
    private final GpuModel model;
    private final int blockSize;
    private final int blockCount;
    private final int maxRows;
    private final int maxContext;
    private final StepLayout layout = new StepLayout();
    private final GpuBuffers buf;
    private final String description;
    private final GpuSampler sampler;
    private boolean closed;
    private final double loadSeconds;
    private final long loadedBytes;
    /** Captured decode steps by batch bucket (see {@link #forward}). */
    private final Map<Integer, CUgraphExec> graphs = new HashMap<>();
    private boolean useGraphs = true;

    /**
     * Loads {@code dir}'s weights onto {@code device} and sizes the KV cache.
     *
     * @param maxRows         most tokens in one step (the engine's step token budget)
     * @param blockSize       token positions per KV block
     * @param memoryFraction  share of the GPU's memory the engine may use in all (weights, activations, KV cache)
     * @param kvCacheBytes    KV cache size, or 0 to take what {@code memoryFraction} leaves
     * @param contextLength   longest sequence the engine will run (positions of the rotary tables)
     */
    public static CudaBackend open(ModelDirectory dir, int ordinal, int maxRows, int blockSize, double memoryFraction,
                                   long kvCacheBytes, int contextLength) {
        GpuModelLoader.checkSupported(dir);
        CudaDevice device = CudaDevice.open(ordinal);
        try {
            return device.call(() -> {
                long t0 = System.nanoTime();
                GpuModelLoader loader = new GpuModelLoader(dir, device);
                GpuModel model = loader.load();
                return new CudaBackend(device, model, (System.nanoTime() - t0) / 1e9, loader.streamedBytes(), maxRows,
                        blockSize, memoryFraction, kvCacheBytes, contextLength);
            });
        } catch (RuntimeException | Error e) {
            device.close();
            throw e;
        }
    }

    /**
     * A backend over a model with random weights made on the GPU ({@link GpuModel#random}), for benchmarks at
     * shapes no checkpoint is at hand for.
     */
    public static CudaBackend openRandom(LlamaConfig config, int bits, int groupSize, boolean actOrder, int ordinal,
                                         int maxRows, int blockSize, double memoryFraction, int contextLength) {
        CudaDevice device = CudaDevice.open(ordinal);
        try {
            return device.call(() -> {
                long t0 = System.nanoTime();
                GpuModel model = GpuModel.random(device, config, bits, groupSize, actOrder, 1234);
                return new CudaBackend(device, model, (System.nanoTime() - t0) / 1e9, 0, maxRows, blockSize, memoryFraction,
                        0, contextLength);
            });
        } catch (RuntimeException | Error e) {
            device.close();
            throw e;
        }
    }

    private CudaBackend(CudaDevice d, GpuModel model, double loadSeconds, long loadedBytes, int maxRows, int blockSize,
                        double memoryFraction, long kvCacheBytes, int contextLength) {
        this.d = d;
        this.c = model.config();
        this.blockSize = blockSize;
        this.maxRows = maxRows;
        this.maxContext = contextLength;
        this.model = model;
        this.buf = new GpuBuffers(d, model, maxRows, contextLength, blockSize, ropeTables(c, contextLength));
        this.sampler = new GpuSampler(d, c.vocabSize(), c.eosTokenIds(), Math.min(maxRows, 256));
        long perBlock = kvBytesPerBlock(c, blockSize);
        this.loadSeconds = loadSeconds;
        this.loadedBytes = loadedBytes;
        int fullSequence = (contextLength + blockSize - 1) / blockSize;
        long kvBytes = kvCacheBytes > 0 ? kvCacheBytes
                : (long) (d.totalBytes() * memoryFraction) - d.allocatedBytes() - RESERVE_BYTES;
        long free = d.freeBytes() - RESERVE_BYTES;
        int blocks = (int) Math.min(Integer.MAX_VALUE / 2, Math.min(kvBytes, free) / perBlock);
        if (blocks < fullSequence) {
            throw new CudaException(String.format(java.util.Locale.ROOT,
                    "not enough GPU memory on cuda:%d (%s): the weights take %s, activations for %d tokens per step %s, and"
                            + " the smallest KV cache (one %d-token sequence) needs %s more, but %s is %s (%s free on the card)%s",
                    d.ordinal(), d.name(), CudaDevice.gib(model.bytes()), maxRows, CudaDevice.gib(buf.bytes()), contextLength,
                    CudaDevice.gib(fullSequence * perBlock), kvCacheBytes > 0 ? "kv_cache_mb" : "gpu_memory_utilization's share",
                    CudaDevice.gib(Math.max(0, Math.min(kvBytes, free))), CudaDevice.gib(Math.max(0, free)),
                    "; lower max_step_tokens or context_length, raise gpu_memory_utilization, or use a GPU with more memory"));
        }
        this.blockCount = blocks;

        buf.allocateKvCache(blocks + 1, blockSize); // one more: the scratch block of a graph's padding rows
        this.description = "cuda:" + d.ordinal() + " " + d.name() + " (cc " + d.computeCapability() + ")";
        System.getLogger(CudaBackend.class.getName()).log(System.Logger.Level.INFO, String.format(java.util.Locale.ROOT,
                "%s: weights %s loaded in %.1f s (%.2f GB/s from the checkpoint), activations %s, KV cache %d blocks of %d (%s)",
                description, CudaDevice.gib(model.bytes()), loadSeconds, loadGbPerSecond(), CudaDevice.gib(buf.bytes()), blocks, blockSize,
                CudaDevice.gib((long) blocks * perBlock)));
    }

    /** Memory left to the driver and to kernels' own needs (module, stacks, graphs). */
    private static final long RESERVE_BYTES = 512L << 20;

    /** Bytes one KV block takes over all layers: keys and values, fp16. */
    public static long kvBytesPerBlock(LlamaConfig c, int blockSize) {
        return (long) c.numLayers() * 2 * blockSize * c.kvDim() * 2;
    }

    private static float[][] ropeTables(LlamaConfig c, int positions) {
        RotaryEmbedding rope = new RotaryEmbedding(c);
        int half = c.headDim() / 2;
        float[] cos = new float[positions * half], sin = new float[positions * half];
        for (int p = 0; p < positions; p++) rope.angles(p, cos, sin, p * half);
        return new float[][]{cos, sin};
    }

    @Override public LlamaConfig config() { return c; }

    @Override public int kvBlockSize() { return blockSize; }

    @Override public int kvBlockCount() { return blockCount; }

    @Override public String describe() { return description; }

    /** Device bytes of the weights, for reports. */
    public long weightBytes() { return model.bytes(); }

    @Override
    public StepOutput execute(StepInput input) {
        List<SequenceChunk> chunks = input.chunks();
        int maxEnd = StepChecks.validate(chunks, c.vocabSize(), blockSize, blockCount);
        if (maxEnd > maxContext) {
            throw new IllegalArgumentException("a sequence reaches position " + (maxEnd - 1) + " but the GPU backend was sized"
                    + " for " + maxContext + " positions (context_length)");
        }
        if (input.tokenCount() > maxRows) {
            throw new IllegalArgumentException("step of " + input.tokenCount() + " tokens exceeds the GPU backend's "
                    + maxRows + " (max_step_tokens)");
        }
        layout.build(chunks, blockSize);
        return d.call(() -> {
            forward();
            return results(chunks);
        });
    }

    @Override
    public boolean samplesTokens() {
        return true;
    }

    /**
     * The step's results from the logits on the device: chunks with a sampling request get their token from the
     * GPU sampler (only ids and requested log-probabilities cross to the host); the others get their logits.
     */
    private StepOutput results(List<SequenceChunk> chunks) {
        int vocab = c.vocabSize();
        List<float[]> logits = new ArrayList<>(chunks.size());
        List<StepOutput.SampledToken> sampled = new ArrayList<>(chunks.size());
        List<StepInput.SamplingRequest> requests = new ArrayList<>();
        int[] requestRows = new int[chunks.size()];
        int next = 0; // logit rows are laid out in chunk order
        for (SequenceChunk chunk : chunks) {
            int count = StepChecks.logitRowCount(chunk);
            sampled.add(null);
            if (chunk.sampling() != null) {
                requestRows[requests.size()] = next;
                requests.add(chunk.sampling());
                logits.add(null);
            } else if (count > 0) {
                float[] l = new float[count * vocab];
                d.download(Pointer.to(l), buf.logits, (long) next * vocab * Float.BYTES, (long) count * vocab * Float.BYTES);
                logits.add(l);
            } else {
                logits.add(null);
            }
            next += count;
        }
        if (!requests.isEmpty()) {
            List<StepOutput.SampledToken> tokens = sampler.sample(buf.logits, java.util.Arrays.copyOf(requestRows, requests.size()), requests);
            for (int i = 0, r = 0; i < chunks.size(); i++) if (chunks.get(i).sampling() != null) sampled.set(i, tokens.get(r++));
        }
        d.synchronize("step");
        return new StepOutput(logits, sampled);
    }

    private static volatile boolean injectFault;

    /** Tests only: the next step of any CUDA backend in this JVM starts with an illegal-address fault. */
    static void injectFaultOnNextStep() {
        injectFault = true;
    }

    /** The forward pass of the laid-out step, on the device thread; returns the wanted logits, row after row. */
    private void forward() {
        if (closed) throw new IllegalStateException("the CUDA backend is closed");
        if (injectFault) {
            injectFault = false;
            d.launch("inject_fault", 1, 1, 1, 1, 0, (Object) null);
        }
        int bucket = useGraphs && !d.timer().profiling() ? decodeBucket() : 0;
        if (bucket > 0) {
            // A decode step: replay the bucket's graph over rows padded to the bucket. Padding rows decode token 0
            // at position 0 into the scratch block; rows never read each other, so they change nothing.
            layout.padDecode(bucket, blockCount * blockSize, buf.scratchTableIndex());
            buf.uploadStep(layout);
            CUgraphExec exec = graphs.get(bucket);
            if (exec == null) {
                exec = d.capture(() -> launchStep(bucket, bucket, buf.attentionChunks), "decode step of " + bucket + " rows");
                graphs.put(bucket, exec);
            }
            d.replay(exec, "decode step of " + bucket + " rows");
        } else {
            buf.uploadStep(layout);
            launchStep(layout.rows, layout.logitRows, layout.maxPosition / GpuBuffers.ATTENTION_CHUNK + 1);
        }
    }

    /** Batch buckets that have a captured decode graph: a decode step runs in the smallest that holds it. */
    static final int[] BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256};

    /** The bucket of a step of single-token decodes wanting their last logits, or 0 for any other step. */
    private int decodeBucket() {
        if (layout.rows != layout.logitRows || layout.rows > maxRows) return 0;
        if (layout.maxPosition >= maxContext) return 0;
        for (int b : BUCKETS) if (b >= layout.rows && b <= maxRows) return b;
        return 0;
    }

    /** Every kernel of one step over {@code rows} laid-out rows; no copies or waits, so it can be captured. */
    private void launchStep(int rows, int wanted, int attentionChunks) {
        int hidden = c.hiddenSize(), qkvWidth = c.qDim() + 2 * c.kvDim(), inter = c.intermediateSize();
        d.launch("embedding_lookup", rows, 1, 1, 256, 0, model.embedding(), buf.tokens, buf.x, hidden);
        for (int l = 0; l < c.numLayers(); l++) {
            GpuModel.Layer layer = model.layers().get(l);
            d.launch("rmsnorm", rows, 1, 1, 256, 0, buf.x, null, layer.attnNorm(), buf.xb, hidden, c.rmsNormEps());
            int qkvSplits = product(layer.qkv(), rows, qkvWidth);
            d.launch("rope_kv", rows, c.numHeads() + c.numKvHeads(), 1, c.headDim() / 2, 0, buf.wide, buf.positions,
                    buf.slots, buf.cos, buf.sin, buf.keys(l), buf.values(l), c.numHeads(), c.numKvHeads(), c.headDim(),
                    buf.workspace, qkvSplits, rows);
            attention(l, rows, qkvWidth, attentionChunks);
            layer.wo().forward(d, buf.xb, c.qDim(), rows, buf.workspace, buf.x, hidden, 0, true);
            d.launch("rmsnorm", rows, 1, 1, 256, 0, buf.x, null, layer.mlpNorm(), buf.xb, hidden, c.rmsNormEps());
            int gateUpSplits = product(layer.gateUp(), rows, 2 * inter);
            d.launch("swiglu", (int) (((long) rows * inter + 255) / 256), 1, 1, 256, 0, buf.wide, buf.xb, rows, inter,
                    buf.workspace, gateUpSplits);
            layer.down().forward(d, buf.xb, inter, rows, buf.workspace, buf.x, hidden, 0, true);
        }
        if (wanted == 0) return;
        d.launch("rmsnorm", wanted, 1, 1, 256, 0, buf.x, buf.logitRows, model.finalNorm(), buf.xb, hidden, c.rmsNormEps());
        model.lmHead().forward(d, buf.xb, hidden, wanted, buf.workspace, buf.logits, c.vocabSize(), 0, false);
    }

    /**
     * Whether the split-K sums of the qkv and gate/up products are added by their consumers (rope_kv, swiglu)
     * instead of a gemm_reduce launch of their own: two launches fewer a layer in decode steps, the same values.
     * {@code -Dsparkllm.cuda.fuseReduce=true|false}, default true; read at each launch (a captured decode graph
     * keeps what it was captured with), so tests switch it with graphs off.
     */
    static volatile boolean fuseReduce = choice("sparkllm.cuda.fuseReduce", "true", "false").equals("true");

    /**
     * Which attention kernel runs: {@code attention_partial_slots} (block-table slots staged once, every key and
     * value load of a thread in flight together, one-chunk rows finished without the merge; 1.83 against 2.39 ms of
     * a 70B step at batch 1 on an H100) or {@code attention_partial} (half the registers; 19.5 against 23.7 ms at
     * 256 rows). Both give the same values. {@code -Dsparkllm.cuda.attention=auto|slots|plain}: auto, the default,
     * takes slots for launches of up to {@link #SLOTS_MAX_ROWS} rows; read at each launch.
     */
    static volatile String attention = choice("sparkllm.cuda.attention", "auto", "slots", "plain");
    static final int SLOTS_MAX_ROWS = 16;

    /**
     * A kernel-choice system property: its value, {@code values[0]} when unset.
     *
     * @throws IllegalArgumentException naming the allowed values when it is set to another
     */
    static String choice(String property, String... values) {
        String v = System.getProperty(property, values[0]);
        if (!List.of(values).contains(v)) {
            throw new IllegalArgumentException("-D" + property + "=" + v + " is not a choice; use one of "
                    + String.join(", ", values) + " (default " + values[0] + ")");
        }
        return v;
    }

    /** Tests only: how many products left their partial sums to their consumer (fuseReduce). */
    static final AtomicLong deferredReductions = new AtomicLong();

    /** The kernel choices in use, for benchmark records. */
    public static String kernelVariants() {
        return "reduce=" + (fuseReduce ? "fused" : "separate") + " attention=" + attention
                + " small=" + GpuLinear.small + " tiles=" + GpuLinear.tiles;
    }

    /**
     * The products of one input into {@code buf.wide} (qkv, or gate/up), side by side. A single product covering
     * the whole width may leave its split-K sums for the consumer (fuseReduce).
     *
     * @return the splits left in the workspace for the consumer to add, or 0 when {@code buf.wide} holds the result
     */
    private int product(List<GpuModel.Placed> parts, int rows, int width) {
        if (fuseReduce && parts.size() == 1 && parts.get(0).column() == 0 && parts.get(0).linear().outFeatures == width) {
            int splits = parts.get(0).linear().forward(d, buf.xb, c.hiddenSize(), rows, buf.workspace, buf.wide, width, 0, false, true);
            if (splits > 0) deferredReductions.incrementAndGet();
            return splits;
        }
        for (GpuModel.Placed p : parts) {
            p.linear().forward(d, buf.xb, c.hiddenSize(), rows, buf.workspace, buf.wide, width, p.column(), false);
        }
        return 0;
    }

    /** Paged attention of every row, in groups of at most {@link GpuBuffers#ATTENTION_ROWS} rows (the workspace's size). */
    private void attention(int layer, int rows, int qkvWidth, int chunks) {
        int group = c.numHeads() / c.numKvHeads();
        String choice = attention;
        boolean slots = choice.equals("slots") || (choice.equals("auto") && rows <= SLOTS_MAX_ROWS);
        // attention.cu's attention_shared_floats: scores and queries of the group, the warps' value sums; the
        // slots kernel also the group's sums of exponentials and the chunk's cache slots
        int sharedBytes = (group * (GpuBuffers.ATTENTION_CHUNK + c.headDim()) + 8 * 8 * 64
                + (slots ? group + GpuBuffers.ATTENTION_CHUNK : 0)) * 4;
        float scale = (float) (1.0 / Math.sqrt(c.headDim()));
        for (int r0 = 0; r0 < rows; r0 += GpuBuffers.ATTENTION_ROWS) {
            int n = Math.min(GpuBuffers.ATTENTION_ROWS, rows - r0);
            var out = buf.xb.at((long) r0 * c.qDim() * 2);
            if (slots) {
                d.launch("attention_partial_slots", n, c.numKvHeads(), chunks, GpuBuffers.ATTENTION_CHUNK, sharedBytes,
                        buf.wide.at((long) r0 * qkvWidth * 4), qkvWidth, buf.positions.at(r0 * 4L), buf.tableStart.at(r0 * 4L),
                        buf.blockTables, buf.keys(layer), buf.values(layer), buf.attentionParts, out,
                        c.numHeads(), c.numKvHeads(), c.headDim(), blockSize, buf.attentionChunks, scale);
            } else {
                d.launch("attention_partial", n, c.numKvHeads(), chunks, GpuBuffers.ATTENTION_CHUNK, sharedBytes,
                        buf.wide.at((long) r0 * qkvWidth * 4), qkvWidth, buf.positions.at(r0 * 4L), buf.tableStart.at(r0 * 4L),
                        buf.blockTables, buf.keys(layer), buf.values(layer), buf.attentionParts, c.numHeads(), c.numKvHeads(),
                        c.headDim(), blockSize, buf.attentionChunks, scale);
            }
            d.launch("attention_combine", n, c.numHeads(), 1, c.headDim(), 0, buf.attentionParts,
                    buf.positions.at(r0 * 4L), out, c.numHeads(), c.headDim(), buf.attentionChunks, slots ? 1 : 0);
        }
    }

    /** Decode steps replay captured graphs (default); off, every step launches its kernels one by one. */
    public void useGraphs(boolean on) {
        useGraphs = on;
    }

    /** Seconds the weights took to load (read, upload and repack). */
    public double loadSeconds() {
        return loadSeconds;
    }

    /** Checkpoint bytes read per second of {@link #loadSeconds()} (10^9 bytes; 0 for random weights). */
    public double loadGbPerSecond() {
        return loadSeconds > 0 ? loadedBytes / 1e9 / loadSeconds : 0;
    }

    /** The device, for benchmarks that time kernels; its work must run through {@link CudaDevice#call}. */
    public CudaDevice device() {
        return d;
    }

    /** The GPU model, for benchmarks. */
    GpuModel model() {
        return model;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            d.call(() -> {
                for (CUgraphExec g : graphs.values()) d.destroy(g);
                return null;
            });
        } catch (RuntimeException ignored) {
            // after a sticky error the graphs go with the context
        }
        d.close();
    }
}
