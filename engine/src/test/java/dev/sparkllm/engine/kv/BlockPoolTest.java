package dev.sparkllm.engine.kv;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlockPoolTest {

    static BlockHash hash(int... tokens) {
        return BlockHash.of(BlockHash.ROOT, tokens, 0, tokens.length);
    }

    @Test
    void allocatesEveryBlockOnceThenRefuses() {
        BlockPool pool = new BlockPool(4);
        boolean[] seen = new boolean[4];
        for (int i = 0; i < 4; i++) {
            int b = pool.allocate();
            assertFalse(seen[b], "block " + b + " handed out twice");
            seen[b] = true;
        }
        assertEquals(0, pool.freeBlockCount());
        assertThrows(IllegalStateException.class, pool::allocate);
    }

    @Test
    void referenceCountsKeepSharedBlocksHeld() {
        BlockPool pool = new BlockPool(2);
        int b = pool.allocate();
        pool.retain(b);
        assertEquals(2, pool.refCount(b));
        pool.release(b);
        assertEquals(1, pool.freeBlockCount(), "still held by one sequence");
        pool.release(b);
        assertEquals(2, pool.freeBlockCount());
        assertThrows(IllegalStateException.class, () -> pool.release(b));
    }

    @Test
    void freedCachedBlockCanBeTakenBackUntilEvicted() {
        BlockPool pool = new BlockPool(3);
        int a = pool.allocate();
        assertTrue(pool.cache(a, hash(1, 2)));
        pool.release(a);
        assertEquals(3, pool.freeBlockCount(), "an evictable cached block counts as free");
        assertEquals(a, pool.lookup(hash(1, 2)));
        pool.retain(a);                                   // a new sequence reuses it
        assertEquals(2, pool.freeBlockCount());
        pool.release(a);
        // Allocation takes the least recently freed blocks first: the two never used, then the cached one.
        int x = pool.allocate();
        int y = pool.allocate();
        assertTrue(x != a && y != a);
        assertEquals(a, pool.lookup(hash(1, 2)));
        assertEquals(a, pool.allocate());                 // evicts it
        assertEquals(-1, pool.lookup(hash(1, 2)));
        assertEquals(1, pool.evictions());
    }

    @Test
    void evictsInLeastRecentlyFreedOrder() {
        BlockPool pool = new BlockPool(3);
        int[] b = {pool.allocate(), pool.allocate(), pool.allocate()};
        for (int i = 0; i < 3; i++) pool.cache(b[i], hash(i));
        pool.release(b[2]);
        pool.release(b[0]);
        pool.release(b[1]);
        assertEquals(b[2], pool.allocate());
        assertEquals(b[0], pool.allocate());
        assertEquals(b[1], pool.lookup(hash(1)), "the most recently freed is still cached");
    }

    @Test
    void secondBlockWithSameContentIsNotCachedTwice() {
        BlockPool pool = new BlockPool(2);
        int a = pool.allocate();
        int b = pool.allocate();
        assertTrue(pool.cache(a, hash(5)));
        assertFalse(pool.cache(b, hash(5)));
        assertEquals(a, pool.lookup(hash(5)));
        assertEquals(1, pool.cachedBlockCount());
    }

    @Test
    void hashChainDependsOnParentAndEveryToken() {
        BlockHash a = hash(1, 2, 3);
        assertEquals(a, hash(1, 2, 3));
        assertFalse(a.equals(hash(1, 2, 4)));
        assertFalse(a.equals(hash(0, 2, 3)));
        assertFalse(BlockHash.of(a, new int[]{7}, 0, 1).equals(BlockHash.of(hash(9), new int[]{7}, 0, 1)));
    }
}
