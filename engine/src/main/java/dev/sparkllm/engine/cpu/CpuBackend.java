package dev.sparkllm.engine.cpu;

import dev.sparkllm.engine.backend.ModelBackend;
import dev.sparkllm.engine.backend.StepChecks;
import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepInput.SequenceChunk;
import dev.sparkllm.engine.backend.StepOutput;
import dev.sparkllm.engine.model.Linear;
import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.model.LlamaWeights;

import java.util.ArrayList;
import java.util.List;

/**
 * The pure-Java backend: the Llama forward pass over a batch of sequence chunks with a paged KV cache.
 * Written to be read (it is the oracle the CUDA backend is tested against) and quick enough for small models.
 *
 * <p>Every step runs all of its tokens (prefill chunks and single-token decodes alike) as rows of one
 * batch: each linear sees all rows at once, split over output columns between the worker threads; attention
 * is split over (chunk, head). No reduction is ever split between threads, so a value is computed the same
 * way whatever the batch, the thread count or the chunking (see {@link ModelBackend} on row independence).
 *
 * <p>Not thread-safe: an engine calls it from its loop thread only.
 */
public final class CpuBackend implements ModelBackend {

    /**
     * Column split granularity: the linears' column tile (64 outputs; a narrower tile costs a whole one), a
     * multiple of GPTQ's 32-value packing and of a cache line of floats.
     */
    private static final int COLUMN_ALIGN = 64;

    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final KvBlockStore cache;
    private final RotaryEmbedding rope;
    private final PagedAttention attention;
    private final WorkerPool pool;
    private final StepBuffers buf;

    // The step being computed, read by the sections below (fields, so that no section allocates).
    private List<SequenceChunk> chunks;
    private int rows;
    private int logitRows;
    private LlamaWeights.Layer layer;
    private int layerIndex;
    private final WorkerPool.Section qkvSection = this::qkvPart;
    private final WorkerPool.Section attentionSection = this::attentionPart;
    private final WorkerPool.Section outputSection = this::outputPart;
    private final WorkerPool.Section gateUpSection = this::gateUpPart;
    private final WorkerPool.Section downSection = this::downPart;
    private final WorkerPool.Section lmHeadSection = this::lmHeadPart;

    /**
     * @param weights      the model
     * @param kvBlockSize  token positions per KV block
     * @param kvBlockCount KV blocks per layer (memory: layers × 2 × blocks × blockSize × kvDim × 4 bytes)
     * @param threads      worker threads, the calling thread included
     */
    public CpuBackend(LlamaWeights weights, int kvBlockSize, int kvBlockCount, int threads) {
        this.weights = weights;
        this.config = weights.config();
        if (weights.layers().size() != config.numLayers()) {
            throw new IllegalArgumentException("weights have " + weights.layers().size() + " layers but the config says "
                    + config.numLayers());
        }
        this.cache = new KvBlockStore(config.numLayers(), config.kvDim(), kvBlockSize, kvBlockCount);
        this.rope = new RotaryEmbedding(config);
        this.attention = new PagedAttention(cache, config.headDim(), config.numHeads(), config.numKvHeads());
        this.pool = new WorkerPool(threads);
        this.buf = new StepBuffers(config, threads);
    }

    @Override public LlamaConfig config() { return config; }

    @Override public int kvBlockSize() { return cache.blockSize(); }

    @Override public int kvBlockCount() { return cache.blockCount(); }

    @Override public String describe() { return "cpu (" + pool.size() + " threads)"; }

    /** Bytes of the KV cache. */
    public long kvCacheBytes() { return cache.bytes(); }

    /**
     * Bytes one KV block takes over all layers (keys and values, float32), for sizing {@code kvBlockCount}
     * from a memory budget: {@code numLayers × 2 × kvBlockSize × kvDim × 4}.
     */
    public static long kvBytesPerBlock(LlamaConfig config, int kvBlockSize) {
        return (long) config.numLayers() * 2 * kvBlockSize * config.kvDim() * Float.BYTES;
    }

    @Override
    public StepOutput execute(StepInput input) {
        chunks = input.chunks();
        int maxEnd = validate(chunks);
        rows = input.tokenCount();
        buf.ensure(rows, maxEnd, wantedLogitRows(chunks));
        layOutRows();
        forward();
        return collectLogits();
    }

    /** Rows of the step: chunk after chunk, token after token; and the rows whose logits are wanted. */
    private void layOutRows() {
        int row = 0;
        logitRows = 0;
        for (int c = 0; c < chunks.size(); c++) {
            SequenceChunk chunk = chunks.get(c);
            buf.chunkFirstRow[c] = row;
            for (int t = 0; t < chunk.tokenIds().length; t++, row++) {
                buf.tokens[row] = chunk.tokenIds()[t];
                buf.positions[row] = chunk.startPosition() + t;
                boolean wanted = chunk.logits() == StepInput.Logits.ALL
                        || (chunk.logits() == StepInput.Logits.LAST && t == chunk.tokenIds().length - 1);
                if (wanted) buf.logitRowSource[logitRows++] = row;
            }
        }
    }

    /** The Llama forward pass for all rows of the step. */
    private void forward() {
        int hidden = config.hiddenSize();
        int half = config.headDim() / 2;

        // token embedding: x[row] = embedding[token]
        for (int r = 0; r < rows; r++) weights.embedding().lookup(buf.tokens[r], buf.x, r * hidden);

        // rotary angles of each row's position, shared by every layer
        for (int r = 0; r < rows; r++) rope.angles(buf.positions[r], buf.cos, buf.sin, r * half);

        for (layerIndex = 0; layerIndex < config.numLayers(); layerIndex++) {
            layer = weights.layers().get(layerIndex);

            // attention input: xb = RMSNorm(x) * attnNorm
            rmsNorm(buf.x, layer.attnNorm(), buf.xb, rows);

            // q, k, v projections of all rows
            pool.run(pool.piecesFor(config.qDim() + 2 * config.kvDim(), COLUMN_ALIGN, rows), qkvSection);

            // rotary embedding of queries and keys, then the new keys and values into their cache slots
            for (int r = 0; r < rows; r++) {
                rope.rotate(buf.q, r * config.qDim(), config.numHeads(), buf.cos, buf.sin, r * half);
                rope.rotate(buf.k, r * config.kvDim(), config.numKvHeads(), buf.cos, buf.sin, r * half);
            }
            storeKeysAndValues();

            // causal attention of every query head over its sequence's cached positions
            pool.run(chunks.size() * config.numHeads(), attentionSection);

            // output projection and residual: x += att · Woᵀ
            pool.run(pool.piecesFor(config.hiddenSize(), COLUMN_ALIGN, rows), outputSection);

            // MLP input: xb = RMSNorm(x) * mlpNorm
            rmsNorm(buf.x, layer.mlpNorm(), buf.xb, rows);

            // SwiGLU: h = silu(xb · Wgateᵀ) * (xb · Wupᵀ)
            pool.run(pool.piecesFor(config.intermediateSize(), COLUMN_ALIGN, rows), gateUpSection);

            // down projection and residual: x += h · Wdownᵀ
            pool.run(pool.piecesFor(config.hiddenSize(), COLUMN_ALIGN, rows), downSection);
        }

        // final RMSNorm of the rows whose logits are wanted, gathered into consecutive rows
        for (int i = 0; i < logitRows; i++) {
            System.arraycopy(buf.x, buf.logitRowSource[i] * hidden, buf.xb, i * hidden, hidden);
        }
        rmsNorm(buf.xb, weights.finalNorm(), buf.xb, logitRows);

        // lm_head: logits = xb · Wlmᵀ
        if (logitRows > 0) pool.run(pool.piecesFor(config.vocabSize(), COLUMN_ALIGN, logitRows), lmHeadSection);
    }

    private void storeKeysAndValues() {
        int kvDim = config.kvDim();
        for (int c = 0; c < chunks.size(); c++) {
            SequenceChunk chunk = chunks.get(c);
            int first = buf.chunkFirstRow[c];
            for (int t = 0; t < chunk.tokenIds().length; t++) {
                int slot = cache.slot(chunk.blockTable(), chunk.startPosition() + t);
                cache.store(layerIndex, slot, buf.k, (first + t) * kvDim, buf.v, (first + t) * kvDim);
            }
        }
    }

    /** A piece of the q, k and v projections, cut from their output columns taken end to end. */
    private void qkvPart(int piece, int pieces, int worker) {
        int qDim = config.qDim();
        int kvDim = config.kvDim();
        int start = WorkerPool.partStart(qDim + 2 * kvDim, piece, pieces, COLUMN_ALIGN);
        int end = WorkerPool.partEnd(qDim + 2 * kvDim, piece, pieces, COLUMN_ALIGN);
        projectRange(layer.wq(), buf.q, start, end, 0);
        projectRange(layer.wk(), buf.k, start, end, qDim);
        projectRange(layer.wv(), buf.v, start, end, qDim + kvDim);
    }

    /** The part of {@code [start, end)} that falls in {@code w}'s columns, which begin at {@code offset}. */
    private void projectRange(Linear w, float[] y, int start, int end, int offset) {
        int from = Math.max(start - offset, 0);
        int to = Math.min(end - offset, w.outFeatures());
        if (from < to) w.forward(buf.xb, rows, y, from, to);
    }

    /** One (chunk, query head) of attention. */
    private void attentionPart(int piece, int pieces, int worker) {
        int c = piece / config.numHeads();
        SequenceChunk chunk = chunks.get(c);
        attention.attend(layerIndex, buf.q, buf.att, buf.chunkFirstRow[c], chunk.tokenIds().length,
                chunk.startPosition(), chunk.blockTable(), piece % config.numHeads(), buf.scores[worker]);
    }

    private void outputPart(int piece, int pieces, int worker) {
        projectAndAdd(layer.wo(), buf.att, piece, pieces);
    }

    /** A piece of the SwiGLU columns: gate and up for the same columns, then silu(gate) * up in place. */
    private void gateUpPart(int piece, int pieces, int worker) {
        int n = config.intermediateSize();
        int start = WorkerPool.partStart(n, piece, pieces, COLUMN_ALIGN);
        int end = WorkerPool.partEnd(n, piece, pieces, COLUMN_ALIGN);
        if (start >= end) return;
        layer.gate().forward(buf.xb, rows, buf.gate, start, end);
        layer.up().forward(buf.xb, rows, buf.up, start, end);
        for (int r = 0; r < rows; r++) {
            for (int i = r * n + start; i < r * n + end; i++) {
                float g = buf.gate[i];
                buf.gate[i] = g / (1f + (float) Math.exp(-g)) * buf.up[i]; // silu(g) * up
            }
        }
    }

    private void downPart(int piece, int pieces, int worker) {
        projectAndAdd(layer.down(), buf.gate, piece, pieces);
    }

    private void lmHeadPart(int piece, int pieces, int worker) {
        Linear lm = weights.lmHead();
        int n = lm.outFeatures();
        int start = WorkerPool.partStart(n, piece, pieces, COLUMN_ALIGN);
        int end = WorkerPool.partEnd(n, piece, pieces, COLUMN_ALIGN);
        if (start < end) lm.forward(buf.xb, logitRows, buf.logits, start, end);
    }

    /** {@code x += in · Wᵀ} for one piece of the hidden columns (the residual connection). */
    private void projectAndAdd(Linear w, float[] in, int piece, int pieces) {
        int n = w.outFeatures();
        int start = WorkerPool.partStart(n, piece, pieces, COLUMN_ALIGN);
        int end = WorkerPool.partEnd(n, piece, pieces, COLUMN_ALIGN);
        if (start >= end) return;
        w.forward(in, rows, buf.out, start, end);
        for (int r = 0; r < rows; r++) {
            for (int i = r * n + start; i < r * n + end; i++) buf.x[i] += buf.out[i];
        }
    }

    /**
     * RMSNorm as HF computes it, in float: {@code y = x / sqrt(mean(x²) + eps) * weight}, row by row
     * ({@code x} and {@code y} may be the same array).
     */
    private void rmsNorm(float[] x, float[] weight, float[] y, int rowCount) {
        int n = config.hiddenSize();
        for (int r = 0; r < rowCount; r++) {
            int o = r * n;
            float sumSquares = 0f;
            for (int i = 0; i < n; i++) sumSquares += x[o + i] * x[o + i];
            float inv = (float) (1.0 / Math.sqrt(sumSquares / n + config.rmsNormEps()));
            for (int i = 0; i < n; i++) y[o + i] = x[o + i] * inv * weight[i];
        }
    }

    private StepOutput collectLogits() {
        int vocab = config.vocabSize();
        List<float[]> out = new ArrayList<>(chunks.size());
        int next = 0; // logit rows are in chunk order
        for (SequenceChunk chunk : chunks) {
            int count = logitRowCount(chunk);
            if (count == 0) {
                out.add(null);
                continue;
            }
            float[] l = new float[count * vocab];
            System.arraycopy(buf.logits, next * vocab, l, 0, count * vocab);
            out.add(l);
            next += count;
        }
        return new StepOutput(out);
    }

    private static int wantedLogitRows(List<SequenceChunk> chunks) {
        int n = 0;
        for (SequenceChunk c : chunks) n += logitRowCount(c);
        return n;
    }

    private static int logitRowCount(SequenceChunk chunk) {
        return StepChecks.logitRowCount(chunk);
    }

    /** Checks every chunk against the model and the cache; returns the longest sequence after the step. */
    private int validate(List<SequenceChunk> chunks) {
        return StepChecks.validate(chunks, config.vocabSize(), cache.blockSize(), cache.blockCount());
    }

    @Override
    public void close() {
        pool.close();
    }
}
