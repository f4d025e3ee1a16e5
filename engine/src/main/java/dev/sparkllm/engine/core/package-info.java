/**
 * The generation engine: continuous batching over a paged KV cache, on any
 * {@link dev.sparkllm.engine.backend.ModelBackend}.
 *
 * <p>{@link dev.sparkllm.engine.core.Engine} owns one thread that loops: apply cancellations, schedule, run the
 * backend, choose tokens and update sequences. The scheduler has no prefill and decode phases: each sequence
 * tracks how many of its tokens have KV computed; each step decodes running sequences first, then prefills
 * chunks of partly computed prompts, then admits new requests, all within a token budget and a batch size
 * ({@link dev.sparkllm.engine.core.EngineOptions}). When KV blocks run out, the most recently admitted sequence
 * is preempted and later recomputed from its prompt and generated tokens. Because backends are row-independent
 * and sampling is keyed by (seed, token index), a request's tokens do not depend on batching, chunking,
 * prefix sharing or preemption.
 */
package dev.sparkllm.engine.core;
