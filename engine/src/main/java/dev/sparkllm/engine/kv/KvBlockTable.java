package dev.sparkllm.engine.kv;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One sequence's view of the paged KV cache: physical block ids for its logical blocks
 * ({@code blockIds[i]} holds positions {@code i*blockSize .. (i+1)*blockSize-1}), and the hash chain of its
 * full blocks' token content. The hashes survive {@link PagedKvCache#free}, so a preempted sequence does not
 * hash its prefix again when it resumes.
 */
public final class KvBlockTable {

    private int[] blockIds = new int[8];
    private int size;
    /** Leading blocks already handed to the prefix cache (registered or taken from it). */
    int cachedBlocks;
    /** Hash of full block i of the sequence's tokens, computed on demand. */
    final List<BlockHash> hashes = new ArrayList<>();

    /** Blocks held. */
    public int size() { return size; }

    public int blockId(int logicalBlock) {
        if (logicalBlock >= size) throw new IndexOutOfBoundsException("logical block " + logicalBlock + " of " + size);
        return blockIds[logicalBlock];
    }

    /** A copy of the held block ids, {@code [size]}, as the backend's step input wants it. */
    public int[] toArray() { return Arrays.copyOf(blockIds, size); }

    void add(int blockId) {
        if (size == blockIds.length) blockIds = Arrays.copyOf(blockIds, size * 2);
        blockIds[size++] = blockId;
    }

    int removeLast() { return blockIds[--size]; }

    void clear() {
        size = 0;
        cachedBlocks = 0;
    }
}
