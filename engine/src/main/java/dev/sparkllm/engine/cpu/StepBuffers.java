package dev.sparkllm.engine.cpu;

import dev.sparkllm.engine.model.LlamaConfig;

/**
 * Activations of one step, row-major with one row per token of the step. Allocated for the largest step seen
 * so far and reused, so steady-state decoding allocates nothing but the returned logits.
 */
final class StepBuffers {

    private final LlamaConfig config;
    private final int workers;
    int rowCapacity;
    int positionCapacity;
    int logitRowCapacity;

    int[] tokens;          // [rows] token id of each row
    int[] positions;       // [rows] position of each row in its sequence
    int[] chunkFirstRow;   // [rows] first row of each chunk (a step has at most one chunk per row)
    int[] logitRowSource;  // [rows] the rows whose logits are wanted, in chunk order
    float[] cos;           // [rows, headDim/2] rotary cosines of each row's position
    float[] sin;           // [rows, headDim/2]
    float[] x;             // [rows, hidden] the residual stream
    float[] xb;            // [rows, hidden] normalised input of a block (and of lm_head)
    float[] out;           // [rows, hidden] output of wo and down before the residual add
    float[] q;             // [rows, numHeads * headDim]
    float[] k;             // [rows, numKvHeads * headDim]
    float[] v;             // [rows, numKvHeads * headDim]
    float[] att;           // [rows, numHeads * headDim] attention output
    float[] gate;          // [rows, intermediate] gate projection, then silu(gate) * up
    float[] up;            // [rows, intermediate]
    float[] logits;        // [logit rows, vocab] logits of the wanted rows only (a long prefill wants one)
    float[][] scores;      // [workers][positions] attention scores, one scratch per worker

    StepBuffers(LlamaConfig config, int workers) {
        this.config = config;
        this.workers = workers;
        ensure(1, 1, 1);
    }

    /**
     * Grows the buffers to hold {@code rows} rows, sequences of {@code positions} positions and
     * {@code logitRows} rows of logits.
     */
    void ensure(int rows, int positions, int logitRows) {
        if (rows > rowCapacity) {
            int r = Math.max(rows, rowCapacity * 2);
            tokens = new int[r];
            this.positions = new int[r];
            chunkFirstRow = new int[r];
            logitRowSource = new int[r];
            cos = new float[r * config.headDim() / 2];
            sin = new float[r * config.headDim() / 2];
            x = new float[r * config.hiddenSize()];
            xb = new float[r * config.hiddenSize()];
            out = new float[r * config.hiddenSize()];
            q = new float[r * config.qDim()];
            k = new float[r * config.kvDim()];
            v = new float[r * config.kvDim()];
            att = new float[r * config.qDim()];
            gate = new float[r * config.intermediateSize()];
            up = new float[r * config.intermediateSize()];
            rowCapacity = r;
        }
        if (positions > positionCapacity) {
            int p = Math.max(positions, positionCapacity * 2);
            scores = new float[workers][p];
            positionCapacity = p;
        }
        if (logitRows > logitRowCapacity) {
            int l = Math.max(logitRows, logitRowCapacity * 2);
            logits = new float[l * config.vocabSize()];
            logitRowCapacity = l;
        }
    }
}
