package dev.sparkllm.engine.model;

/**
 * A linear layer without bias, {@code y = x · Wᵀ}, over a batch of rows: dense fp16/bf16 or GPTQ.
 *
 * <p>Contract every implementation keeps (batch invariance): the value of {@code y[r][o]} depends only
 * on row {@code r} of {@code x} and is computed with the same arithmetic and the same summation order
 * whatever {@code rows}, {@code outStart} or {@code outEnd} are. Callers split the output range across
 * threads, and the engine promises that a request's tokens do not depend on what else is in the batch.
 */
public interface Linear {

    /** Input features (columns of x). */
    int inFeatures();

    /** Output features (columns of y). */
    int outFeatures();

    /**
     * Computes output columns {@code [outStart, outEnd)} for {@code rows} rows.
     *
     * @param x    input, row-major {@code [rows, inFeatures]}
     * @param rows number of rows
     * @param y    output, row-major {@code [rows, outFeatures]}; only columns in range are written
     */
    void forward(float[] x, int rows, float[] y, int outStart, int outEnd);

    /** The effective weight as floats, row-major {@code [outFeatures, inFeatures]}: for tests and references. */
    float[] dequantize();
}
