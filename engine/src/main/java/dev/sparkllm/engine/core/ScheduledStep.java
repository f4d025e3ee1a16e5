package dev.sparkllm.engine.core;

import dev.sparkllm.engine.backend.StepInput;

import java.util.List;

/**
 * What one engine step computes: the scheduled sequences, in the same order as the backend's chunks.
 *
 * @param sequences      the sequences, {@code [chunks]}
 * @param input          the backend's work, chunk {@code i} belonging to {@code sequences.get(i)}
 * @param prefillTokens  tokens computed that are not the single new token of a decoding sequence
 * @param decodeTokens   tokens computed for decoding sequences (one each)
 */
record ScheduledStep(List<Sequence> sequences, StepInput input, int prefillTokens, int decodeTokens) {

    boolean isEmpty() { return sequences.isEmpty(); }
}
