package dev.sparkllm.engine.core;

import dev.sparkllm.engine.api.FinishReason;
import dev.sparkllm.engine.sampling.Sampler;
import dev.sparkllm.engine.sampling.StopConditions;

import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * The update half of a step: picks each sequence's next token from its logits, checks its stop conditions,
 * streams the token to its listener and ends the sequence when it is done.
 *
 * <p>Choosing tokens reads every logit of every row ({@code [batch x vocab]}, 32 MB for 256 Llama rows) and
 * is most of the loop's own time, so it runs on {@code threads} threads when the batch is large. That cannot
 * change a result: a row's choice is a pure function of its logits, parameters and tokens, with randomness
 * keyed by (request seed, token index), not by thread, step, batch or a preemption before it. Everything
 * that mutates a sequence then runs on the engine thread, in batch order.
 *
 * <p>EOS ends a sequence without becoming part of it (not in the result's token ids, not streamed, unless
 * {@code ignoreEos}).
 */
final class TokenSampling implements AutoCloseable {

    /** Ends a sequence (frees its blocks, completes its result). */
    interface Finisher {
        void finish(Sequence s, FinishReason reason, String error);
    }

    /** Below this many logits in a step (8 rows of Llama's 32000), threads cost more than they save. */
    static final long PARALLEL_MIN_LOGITS = 1 << 18;

    private final Sampler sampler;
    private final int[] eosIds;
    private final Finisher finisher;
    private final ForkJoinPool pool; // null when sampling on the engine thread only
    private final long parallelMinLogits;

    TokenSampling(int vocabSize, int[] eosIds, int threads, Finisher finisher) {
        this(vocabSize, eosIds, threads, PARALLEL_MIN_LOGITS, finisher);
    }

    /** @param parallelMinLogits logits in a step from which choosing runs on several threads */
    TokenSampling(int vocabSize, int[] eosIds, int threads, long parallelMinLogits, Finisher finisher) {
        this.sampler = new Sampler(vocabSize, eosIds);
        this.eosIds = eosIds.clone();
        this.finisher = finisher;
        this.pool = threads > 1 ? new ForkJoinPool(threads) : null;
        this.parallelMinLogits = parallelMinLogits;
    }

    /**
     * Samples the next token of every sequence that has logits ({@code logits.get(i)} is {@code [vocab]} or
     * null, and may be overwritten) and applies it.
     */
    void advance(List<Sequence> sequences, List<float[]> logits, int contextLength) {
        Object[] choices = new Object[sequences.size()]; // Sampler.Choice, or the exception choosing threw
        long work = 0;
        for (float[] l : logits) if (l != null) work += l.length;
        if (pool != null && work >= parallelMinLogits) {
            pool.submit(() -> IntStream.range(0, choices.length).parallel()
                    .forEach(i -> choices[i] = choose(sequences.get(i), logits.get(i)))).join();
        } else {
            for (int i = 0; i < choices.length; i++) choices[i] = choose(sequences.get(i), logits.get(i));
        }
        for (int i = 0; i < choices.length; i++) {
            if (choices[i] != null) apply(sequences.get(i), choices[i], contextLength);
        }
    }

    @Override
    public void close() {
        if (pool != null) pool.shutdownNow();
    }

    /** The sequence's next token, the exception that prevented it, or null when there is nothing to sample. */
    private Object choose(Sequence s, float[] logits) {
        if (logits == null || s.status != Sequence.Status.RUNNING) return null;
        try {
            return sampler.choose(logits, s.params, s.seed, s.prompt, s.output, s.outputLength);
        } catch (IllegalArgumentException | IllegalStateException e) {
            return e;
        }
    }

    /**
     * Appends the chosen token and applies the stop conditions. A failure that belongs to this request (the
     * sampler rejecting its parameters, its listener throwing) ends it with ERROR; the engine goes on.
     */
    private void apply(Sequence s, Object chosen, int contextLength) {
        if (chosen instanceof RuntimeException e) {
            finisher.finish(s, FinishReason.ERROR, "sampling failed for request " + s.requestId() + ": " + e.getMessage());
            return;
        }
        Sampler.Choice choice = (Sampler.Choice) chosen;
        int token = choice.tokenId();
        StopConditions.Step step;
        try {
            step = s.stop.accept(token);
        } catch (IllegalArgumentException | IllegalStateException e) {
            finisher.finish(s, FinishReason.ERROR, "stop conditions failed for request " + s.requestId() + ": " + e.getMessage());
            return;
        }
        boolean endsAsEos = step.finished() && step.reason() == FinishReason.STOP && !s.params.ignoreEos() && isEos(token);
        if (!endsAsEos) {
            s.append(token);
            if (s.logprobs != null && choice.logprob() != null) s.logprobs.add(choice.logprob());
        }
        if (s.listener != null && (!endsAsEos || !step.textDelta().isEmpty())) {
            try {
                s.listener.onToken(s.requestId(), token, step.textDelta());
            } catch (RuntimeException e) {
                finisher.finish(s, FinishReason.ERROR, "token listener of request " + s.requestId() + " threw " + e);
                return;
            }
        }
        if (step.finished()) {
            finisher.finish(s, step.reason(), null);
        } else if (s.outputLength >= s.params.maxNewTokens() || s.length >= contextLength) {
            finisher.finish(s, FinishReason.LENGTH, null);
        }
    }

    private boolean isEos(int token) {
        for (int e : eosIds) if (e == token) return true;
        return false;
    }
}
