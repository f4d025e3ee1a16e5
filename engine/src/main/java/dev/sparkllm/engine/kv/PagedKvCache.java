package dev.sparkllm.engine.kv;

/**
 * The scheduler's view of KV memory: gives sequences blocks, shares full blocks of common prefixes between
 * them, and takes blocks back. Hides the {@link BlockPool} behind a few all-or-nothing operations so that a
 * failed allocation never leaves a sequence half-grown.
 *
 * <p>Prefix sharing works on full blocks only: a block is registered under the hash chain of its tokens once
 * all its positions are computed, and a sequence starting (or resuming after preemption) reuses the longest
 * run of registered blocks matching its token prefix. Shared blocks are only read by the sequences that reuse
 * them (they write from the first position after the shared prefix), so no copy-on-write is needed. At least
 * one token is always left to compute, because sampling needs the logits of the last position.
 *
 * <p>Not thread-safe: the engine thread owns it.
 */
public final class PagedKvCache {

    private final BlockPool pool;
    private final int blockSize;
    private final boolean prefixCaching;

    /**
     * @param blockCount    physical blocks (the backend's {@code kvBlockCount()})
     * @param blockSize     token positions per block (the backend's {@code kvBlockSize()})
     * @param prefixCaching whether full blocks are shared between sequences with equal prefixes
     */
    public PagedKvCache(int blockCount, int blockSize, boolean prefixCaching) {
        if (blockSize < 1) throw new IllegalArgumentException("KV block size must be positive, got " + blockSize);
        this.pool = new BlockPool(blockCount);
        this.blockSize = blockSize;
        this.prefixCaching = prefixCaching;
    }

    public int blockSize() { return blockSize; }

    public int blockCount() { return pool.blockCount(); }

    public int freeBlockCount() { return pool.freeBlockCount(); }

    public int usedBlockCount() { return pool.usedBlockCount(); }

    public BlockPool pool() { return pool; }

    /** Blocks needed to hold {@code tokens} positions. */
    public int blocksFor(int tokens) {
        return (tokens + blockSize - 1) / blockSize;
    }

    /**
     * Tokens of a sequence's prefix already in the cache (a multiple of the block size, less than
     * {@code length}), for a sequence that holds no blocks yet. Looks only; takes nothing.
     *
     * @param tokens the sequence's tokens, {@code [>= length]}
     * @param length tokens in the sequence (prompt, plus generated ones for a preempted sequence)
     */
    public int cachedPrefixTokens(KvBlockTable table, int[] tokens, int length) {
        if (!prefixCaching) return 0;
        if (table.size() != 0) throw new IllegalStateException("prefix lookup for a sequence that already holds blocks");
        int maxBlocks = (length - 1) / blockSize;
        int hit = 0;
        while (hit < maxBlocks && pool.lookup(hashOf(table, tokens, hit)) >= 0) hit++;
        return hit * blockSize;
    }

    /**
     * Starts a sequence that holds no blocks: takes the cached blocks of its first {@code cachedTokens}
     * tokens (as found by {@link #cachedPrefixTokens}) and new blocks for {@code computeTokens} more.
     * All or nothing: returns false, changing nothing, when the pool cannot provide them now.
     */
    public boolean admit(KvBlockTable table, int[] tokens, int cachedTokens, int computeTokens) {
        if (table.size() != 0) throw new IllegalStateException("admitting a sequence that already holds blocks");
        int hitBlocks = cachedTokens / blockSize;
        int[] hits = new int[hitBlocks];
        int hitsFree = 0;
        for (int i = 0; i < hitBlocks; i++) {
            hits[i] = pool.lookup(hashOf(table, tokens, i));
            if (hits[i] < 0) throw new IllegalStateException("cached prefix block " + i + " vanished between lookup and admission");
            if (pool.refCount(hits[i]) == 0) hitsFree++;
        }
        int newBlocks = blocksFor(cachedTokens + computeTokens) - hitBlocks;
        if (newBlocks + hitsFree > pool.freeBlockCount()) return false;
        // Take the hits first, so allocating the new blocks cannot evict them.
        for (int b : hits) {
            pool.retain(b);
            table.add(b);
        }
        table.cachedBlocks = hitBlocks;
        for (int i = 0; i < newBlocks; i++) table.add(pool.allocate());
        return true;
    }

    /**
     * Grows a sequence's table to hold {@code tokens} positions. All or nothing: false, changing nothing,
     * when the pool has too few free blocks.
     */
    public boolean grow(KvBlockTable table, int tokens) {
        int need = blocksFor(tokens) - table.size();
        if (need <= 0) return true;
        if (need > pool.freeBlockCount()) return false;
        for (int i = 0; i < need; i++) table.add(pool.allocate());
        return true;
    }

    /**
     * Registers the blocks that became full once the sequence's first {@code computedTokens} positions are
     * computed, so later sequences with the same prefix can reuse them.
     */
    public void registerComputed(KvBlockTable table, int[] tokens, int computedTokens) {
        if (!prefixCaching) return;
        int full = Math.min(computedTokens / blockSize, table.size());
        for (int i = table.cachedBlocks; i < full; i++) pool.cache(table.blockId(i), hashOf(table, tokens, i));
        table.cachedBlocks = Math.max(table.cachedBlocks, full);
    }

    /**
     * Returns all of a sequence's blocks. Released last block first, so a sequence's tail (least likely to be
     * shared) is evicted before its prefix.
     */
    public void free(KvBlockTable table) {
        while (table.size() > 0) pool.release(table.removeLast());
        table.clear();
    }

    private BlockHash hashOf(KvBlockTable table, int[] tokens, int block) {
        while (table.hashes.size() <= block) {
            int i = table.hashes.size();
            BlockHash parent = i == 0 ? BlockHash.ROOT : table.hashes.get(i - 1);
            table.hashes.add(BlockHash.of(parent, tokens, i * blockSize, blockSize));
        }
        return table.hashes.get(block);
    }
}
