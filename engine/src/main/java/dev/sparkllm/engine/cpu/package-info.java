/**
 * The pure-Java backend: {@link dev.sparkllm.engine.cpu.CpuBackend} runs the Llama forward pass over a step's
 * sequence chunks with a paged KV cache ({@code PagedKvCache}), half-split rotary embeddings with linear and
 * dynamic-NTK scaling ({@code RotaryEmbedding}), grouped-query paged attention ({@code PagedAttention}) and a
 * fixed pool of worker threads ({@code WorkerPool}). It is the oracle the CUDA backend is tested against, so
 * it keeps the row-independence rule bit for bit: no value depends on the batch, the chunking or the threads.
 */
package dev.sparkllm.engine.cpu;
