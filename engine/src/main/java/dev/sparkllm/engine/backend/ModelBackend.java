package dev.sparkllm.engine.backend;

import dev.sparkllm.engine.model.LlamaConfig;

/**
 * Runs the model for one engine step over a batch of sequence chunks, reading and writing a paged KV cache
 * that the backend owns. The scheduler decides what runs; the backend only computes. Backends: the
 * pure-Java CPU backend (the oracle in tests) and the CUDA backend (for speed), behind this one interface.
 *
 * <p>KV cache: {@link #kvBlockCount()} blocks of {@link #kvBlockSize()} token positions each, for every layer.
 * A sequence's block table maps its logical block {@code i} (positions {@code i*blockSize ..}) to a physical
 * block id. The backend never allocates blocks; the scheduler's block pool does. Blocks shared between
 * sequences (a common prompt prefix) are only ever read by the sequences that did not write them.
 *
 * <p>Row independence, a rule for every backend: the logits of a chunk depend only on that chunk's tokens,
 * positions and the KV entries its block table points to, never on the other chunks in the batch, on the
 * batch size, or on how a prompt was split into chunks. Same arithmetic and reduction order for every
 * batch; no floating-point atomics in reductions. This is what makes a request's output independent of
 * what else the engine runs, and Spark's task retries harmless.
 *
 * <p>Sampling on the device, optional: a backend whose {@link #samplesTokens()} is true receives a
 * {@link StepInput.SamplingRequest} with every {@link StepInput.Logits#LAST} chunk the engine schedules for
 * generation, and returns the chosen token ({@link StepOutput#sampled()}) instead of the logits, so only token
 * ids (and the requested log-probabilities) cross to the host. The contract: the token and log-probabilities
 * must be exactly what {@code new Sampler(config().vocabSize(), request.eosTokenIds()).choose(logits,
 * request.params(), request.seed(), request.promptTokenIds(), request.outputTokenIds(), request.outputLength())}
 * returns for the logits this backend would have returned for that chunk, bit for bit: the same processing
 * order, the random draw keyed by (seed, token index) only and computed as {@code TokenDraw}'s class comment
 * specifies (fixed-point weights, exact integer sums, no fused multiply-add), log-probabilities of the raw
 * logits. Where {@code choose} would throw, return {@link StepOutput.SampledToken#failed} with its message instead
 * of throwing: that row's request fails, not the engine. The choice is a function of that row alone, so row
 * independence holds for sampled tokens as for logits. A chunk without a request still gets its logits.
 *
 * <p>Threading: an engine calls a backend from one thread only (its loop thread).
 */
public interface ModelBackend extends AutoCloseable {

    /** The model this backend runs. */
    LlamaConfig config();

    /** Token positions per KV block. */
    int kvBlockSize();

    /** Physical KV blocks available (ids {@code 0 .. kvBlockCount()-1}). */
    int kvBlockCount();

    /** A short human-readable name, e.g. {@code "cpu (2 threads)"} or {@code "cuda:0 NVIDIA H200"}. */
    String describe();

    /**
     * Whether this backend chooses tokens itself when a chunk carries a {@link StepInput.SamplingRequest} (see
     * the class comment). Default: no; the engine receives logits and samples on the host. Constant for the
     * backend's life.
     */
    default boolean samplesTokens() {
        return false;
    }

    /**
     * Computes one step: appends each chunk's tokens to its sequence's KV cache and returns the logits each
     * chunk asked for, or the token it chose for a chunk that carries a sampling request.
     */
    StepOutput execute(StepInput input);

    @Override
    void close();
}
