/**
 * Paged KV cache bookkeeping (the blocks' contents live in the backend).
 *
 * <p>{@link dev.sparkllm.engine.kv.BlockPool} owns every block id: reference counts, an LRU free queue and the
 * map from {@link dev.sparkllm.engine.kv.BlockHash} (a hash chain over a full block's tokens) to cached blocks.
 * {@link dev.sparkllm.engine.kv.PagedKvCache} gives each sequence a {@link dev.sparkllm.engine.kv.KvBlockTable}
 * with all-or-nothing admission and growth, and shares full blocks of equal prefixes between sequences.
 */
package dev.sparkllm.engine.kv;
