package dev.sparkllm.engine.kv;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PagedKvCacheTest {

    static int[] tokens(int n, int offset) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = offset + i;
        return t;
    }

    @Test
    void admitAndGrowAreAllOrNothing() {
        PagedKvCache kv = new PagedKvCache(5, 4, true);
        KvBlockTable a = new KvBlockTable();
        assertTrue(kv.admit(a, tokens(12, 0), 0, 12));
        assertEquals(3, a.size());
        KvBlockTable b = new KvBlockTable();
        assertFalse(kv.admit(b, tokens(12, 100), 0, 12), "needs 3 blocks, 2 free");
        assertEquals(0, b.size());
        assertEquals(2, kv.freeBlockCount());
        assertFalse(kv.grow(a, 24), "needs 3 more blocks, 2 free");
        assertEquals(3, a.size());
        assertTrue(kv.grow(a, 20));
        assertEquals(5, a.size());
        Set<Integer> ids = new HashSet<>();
        for (int i = 0; i < a.size(); i++) ids.add(a.blockId(i));
        assertEquals(5, ids.size(), "distinct physical blocks");
        kv.free(a);
        assertEquals(5, kv.freeBlockCount());
        assertEquals(0, a.size());
    }

    @Test
    void sharesOnlyComputedFullBlocksOfAnEqualPrefixAndLeavesOneTokenToCompute() {
        PagedKvCache kv = new PagedKvCache(16, 4, true);
        int[] first = tokens(10, 0);          // blocks [0..3] [4..7] and a partial one
        KvBlockTable a = new KvBlockTable();
        assertEquals(0, kv.cachedPrefixTokens(a, first, 10));
        assertTrue(kv.admit(a, first, 0, 10));
        assertEquals(0, kv.cachedPrefixTokens(new KvBlockTable(), first, 10), "nothing is shared before it is computed");
        kv.registerComputed(a, first, 10);

        int[] second = tokens(14, 0);         // the same first 10 tokens, then more
        second[9] = 99;                        // differs inside the third block only
        KvBlockTable b = new KvBlockTable();
        assertEquals(8, kv.cachedPrefixTokens(b, second, 14));
        int freeBefore = kv.freeBlockCount();
        assertTrue(kv.admit(b, second, 8, 6));
        assertEquals(a.blockId(0), b.blockId(0));
        assertEquals(a.blockId(1), b.blockId(1));
        assertTrue(a.blockId(2) != b.blockId(2));
        assertEquals(freeBefore - 2, kv.freeBlockCount(), "two new blocks; the shared ones were held already");

        int[] exact = tokens(8, 0);            // prompt is exactly the two cached blocks
        assertEquals(4, kv.cachedPrefixTokens(new KvBlockTable(), exact, 8), "the last token must be computed");

        int[] other = tokens(8, 1);
        assertEquals(0, kv.cachedPrefixTokens(new KvBlockTable(), other, 8));
    }

    @Test
    void freedPrefixStaysReusableUntilItsBlocksAreNeeded() {
        PagedKvCache kv = new PagedKvCache(4, 4, true);
        int[] t = tokens(9, 0);
        KvBlockTable a = new KvBlockTable();
        assertTrue(kv.admit(a, t, 0, 9));
        kv.registerComputed(a, t, 9);
        kv.free(a);
        assertEquals(4, kv.freeBlockCount());
        assertEquals(8, kv.cachedPrefixTokens(new KvBlockTable(), t, 9));
        // Fill the pool with other content: the cached blocks are evicted, never handed out while shared.
        KvBlockTable b = new KvBlockTable();
        assertTrue(kv.admit(b, tokens(16, 50), 0, 16));
        assertEquals(0, kv.cachedPrefixTokens(new KvBlockTable(), t, 9));
    }

    @Test
    void heldSharedBlockIsNeverEvicted() {
        PagedKvCache kv = new PagedKvCache(3, 2, true);
        int[] t = tokens(3, 0);
        KvBlockTable a = new KvBlockTable();
        assertTrue(kv.admit(a, t, 0, 3));
        kv.registerComputed(a, t, 3);
        KvBlockTable b = new KvBlockTable();
        assertEquals(2, kv.cachedPrefixTokens(b, t, 3));
        assertTrue(kv.admit(b, t, 2, 1));
        kv.free(a);
        assertEquals(1, kv.freeBlockCount(), "block 0 is still held by b");
        KvBlockTable c = new KvBlockTable();
        assertTrue(kv.admit(c, tokens(2, 40), 0, 2));
        assertFalse(kv.grow(c, 3));
        assertEquals(a.size(), 0);
        assertEquals(2, kv.cachedPrefixTokens(new KvBlockTable(), t, 3), "b's shared block survived");
    }

    @Test
    void withoutPrefixCachingNothingIsShared() {
        PagedKvCache kv = new PagedKvCache(8, 4, false);
        int[] t = tokens(9, 0);
        KvBlockTable a = new KvBlockTable();
        assertTrue(kv.admit(a, t, 0, 9));
        kv.registerComputed(a, t, 9);
        assertEquals(0, kv.cachedPrefixTokens(new KvBlockTable(), t, 9));
    }
}
