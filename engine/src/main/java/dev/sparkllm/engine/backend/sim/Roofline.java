package dev.sparkllm.engine.backend.sim;

/**
 * How long a GPU takes for one step of a model, by the roofline model: a step costs the larger of its memory
 * time (weights read once per step, plus the KV entries attention reads and writes) and its compute time
 * (matrix FLOPs per computed token). Attention FLOPs and kernel launch gaps are left out; they are small
 * beside the weight traffic at batch sizes that matter and would only make the loop's share smaller.
 *
 * @param weightBytesPerStep bytes of weights read per step (the whole model, once per step, at any batch)
 * @param kvBytesPerToken    bytes of KV cache per token position (all layers, K and V)
 * @param flopsPerToken      matrix FLOPs to compute one token (about 2 x parameters)
 * @param bytesPerSecond     memory bandwidth
 * @param flopsPerSecond     tensor-core throughput
 */
public record Roofline(double weightBytesPerStep, double kvBytesPerToken, double flopsPerToken,
                       double bytesPerSecond, double flopsPerSecond) {

    public Roofline {
        if (bytesPerSecond <= 0 || flopsPerSecond <= 0) {
            throw new IllegalArgumentException("bandwidth and FLOP/s must be positive, got " + bytesPerSecond + " B/s, " + flopsPerSecond + " FLOP/s");
        }
    }

    /**
     * Llama-2-70B GPTQ 4-bit (group 128) on one NVIDIA H200 (see GPU.md): 36.1 GB of weights per step at
     * 4.5 TB/s (about 8 ms), 320 KB of KV per token (80 layers x K,V x 8 heads x 128 x fp16), 138 GFLOP per
     * token at 790 TFLOP/s.
     */
    public static Roofline llama2_70bGptq4bitOnH200() {
        return new Roofline(36.1e9, 80 * 2 * 8 * 128 * 2, 138e9, 4.5e12, 790e12);
    }

    /** A device of unlimited speed: steps take only the simulation's own time (for functional tests). */
    public static Roofline instant() {
        return new Roofline(0, 0, 0, Double.MAX_VALUE, Double.MAX_VALUE);
    }

    /**
     * Predicted seconds for one step.
     *
     * @param tokens            tokens computed (prefill and decode together)
     * @param kvPositionsRead   KV positions attention reads, summed over the step's chunks (each chunk reads
     *                          its sequence's positions up to its end once)
     */
    public double stepSeconds(long tokens, long kvPositionsRead) {
        double bytes = weightBytesPerStep + kvBytesPerToken * (kvPositionsRead + tokens);
        double memory = bytes / bytesPerSecond;
        double compute = flopsPerToken * tokens / flopsPerSecond;
        return Math.max(memory, compute);
    }
}
