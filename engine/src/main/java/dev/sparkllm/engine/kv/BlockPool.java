package dev.sparkllm.engine.kv;

import java.util.HashMap;
import java.util.Map;

/**
 * Owns every physical KV block: reference counts, a free queue, and the prefix-hash map of cached full blocks.
 *
 * <p>A block whose reference count drops to zero goes to the tail of the free queue but keeps its hash, so a
 * later sequence with the same prefix can take it back ("evictable" cached block). Allocation takes the head
 * of the queue, the least recently freed block, and only then forgets its hash (eviction in LRU order).
 * Evictable blocks therefore count as free: they cost nothing to reuse for other content.
 *
 * <p>The free queue is an intrusive doubly linked list over block ids, so taking a cached block back out of
 * the middle of the queue is O(1). Not thread-safe: the engine thread owns it.
 */
public final class BlockPool {

    private static final int NONE = -1;

    private final int blockCount;
    private final int[] refCount;      // [blockCount] sequences holding each block
    private final BlockHash[] hashOf;  // [blockCount] content hash of a cached full block, else null
    private final int[] prev;          // [blockCount] free-queue links, NONE at the ends or when not queued
    private final int[] next;
    private final boolean[] queued;    // [blockCount] whether the block is in the free queue
    private final Map<BlockHash, Integer> cached = new HashMap<>();
    private int head = NONE;
    private int tail = NONE;
    private int freeCount;
    private long evictions;

    public BlockPool(int blockCount) {
        if (blockCount < 1) throw new IllegalArgumentException("a KV block pool needs at least one block, got " + blockCount);
        this.blockCount = blockCount;
        this.refCount = new int[blockCount];
        this.hashOf = new BlockHash[blockCount];
        this.prev = new int[blockCount];
        this.next = new int[blockCount];
        this.queued = new boolean[blockCount];
        for (int b = 0; b < blockCount; b++) append(b);
    }

    public int blockCount() { return blockCount; }

    /** Blocks no sequence holds, including evictable cached ones. */
    public int freeBlockCount() { return freeCount; }

    /** Blocks held by at least one sequence. */
    public int usedBlockCount() { return blockCount - freeCount; }

    /** Full blocks whose content is known by hash (held or evictable). */
    public int cachedBlockCount() { return cached.size(); }

    /** Cached blocks that were reused for other content. */
    public long evictions() { return evictions; }

    public int refCount(int block) { return refCount[block]; }

    /** Takes the least recently freed block for new content (forgetting what it cached); reference count 1. */
    public int allocate() {
        if (head == NONE) throw new IllegalStateException("KV block pool exhausted: check freeBlockCount() before allocating");
        int b = head;
        unlink(b);
        BlockHash h = hashOf[b];
        if (h != null) {
            cached.remove(h);
            hashOf[b] = null;
            evictions++;
        }
        refCount[b] = 1;
        return b;
    }

    /** The cached block holding this content, or -1. */
    public int lookup(BlockHash hash) {
        Integer b = cached.get(hash);
        return b == null ? NONE : b;
    }

    /** Adds a holder to a block (a sequence sharing a cached prefix block); takes it out of the free queue. */
    public void retain(int block) {
        if (refCount[block]++ == 0) unlink(block);
    }

    /** Drops a holder; at zero the block becomes free (and evictable, if cached). */
    public void release(int block) {
        if (refCount[block] <= 0) throw new IllegalStateException("KV block " + block + " released more often than held");
        if (--refCount[block] == 0) append(block);
    }

    /**
     * Records that a held full block now holds the content {@code hash}. Returns false, changing nothing, when
     * another block already caches that content (two sequences computed the same prefix at once).
     */
    public boolean cache(int block, BlockHash hash) {
        if (refCount[block] == 0) throw new IllegalStateException("KV block " + block + " is free; only held blocks can be cached");
        if (hashOf[block] != null) return hashOf[block].equals(hash);
        if (cached.putIfAbsent(hash, block) != null) return false;
        hashOf[block] = hash;
        return true;
    }

    private void append(int b) {
        prev[b] = tail;
        next[b] = NONE;
        if (tail != NONE) next[tail] = b; else head = b;
        tail = b;
        queued[b] = true;
        freeCount++;
    }

    private void unlink(int b) {
        if (!queued[b]) throw new IllegalStateException("KV block " + b + " is not in the free queue");
        if (prev[b] != NONE) next[prev[b]] = next[b]; else head = next[b];
        if (next[b] != NONE) prev[next[b]] = prev[b]; else tail = prev[b];
        prev[b] = next[b] = NONE;
        queued[b] = false;
        freeCount--;
    }
}
