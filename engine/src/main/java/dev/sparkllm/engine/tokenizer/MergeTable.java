package dev.sparkllm.engine.tokenizer;

import java.util.Arrays;

/**
 * BPE merges as an open-addressing hash table from a pair of token ids to the merge's rank, with the merged
 * token id per rank; primitive arrays because encoding looks a pair up for every symbol it touches.
 */
final class MergeTable {

    private static final long EMPTY = -1L;

    private final long[] keys;        // [capacity] (left << 32 | right), or EMPTY
    private final int[] ranks;        // [capacity] rank of the merge stored at the same slot
    private final int mask;
    private int[] mergedByRank = new int[16];   // [rank] id of the merged token
    private int count;

    MergeTable(int expected) {
        int capacity = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        keys = new long[capacity];
        ranks = new int[capacity];
        Arrays.fill(keys, EMPTY);
        mask = capacity - 1;
    }

    /** Adds the merge of (left, right) into {@code merged} with the next rank; a repeated pair takes the new rank. */
    void add(int left, int right, int merged) {
        int rank = count++;
        if (rank == mergedByRank.length) mergedByRank = Arrays.copyOf(mergedByRank, rank * 2);
        mergedByRank[rank] = merged;
        long key = key(left, right);
        int slot = slot(key);
        keys[slot] = key;
        ranks[slot] = rank;
    }

    /** Rank of the merge of (left, right), or -1 when there is none. */
    int rank(int left, int right) {
        long key = key(left, right);
        int slot = slot(key);
        return keys[slot] == EMPTY ? -1 : ranks[slot];
    }

    int merged(int rank) {
        return mergedByRank[rank];
    }

    private int slot(long key) {
        int slot = (int) (mix(key) & mask);
        while (keys[slot] != EMPTY && keys[slot] != key) slot = (slot + 1) & mask;
        return slot;
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private static long mix(long x) {
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        x ^= x >>> 33;
        return x;
    }
}
