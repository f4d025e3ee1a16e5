package dev.sparkllm.engine.checkpoint.synthetic;

/**
 * SplitMix64 (Steele, Lea and Flood): a counter-based generator, value {@code i} of a stream is a fixed mix of
 * {@code seed + i * golden gamma}. About a nanosecond per 64 bits, and every chunk of a synthetic tensor gets its
 * own stream from {@link #mix}, so chunks can be generated on any thread in any order and the file comes out the
 * same.
 */
final class SplitMix64 {

    private static final long GAMMA = 0x9E3779B97F4A7C15L;

    private long state;

    SplitMix64(long seed) {
        this.state = seed;
    }

    long next() {
        return finish(state += GAMMA);
    }

    /** A seed for sub-stream {@code index} of stream {@code seed}. */
    static long mix(long seed, long index) {
        return finish(seed + (index + 1) * GAMMA) ^ finish(index ^ 0x632BE59BD9B4E019L);
    }

    /** A 64-bit hash of {@code text} (FNV-1a over its UTF-16 units, then mixed). */
    static long hash(String text) {
        long h = 0xCBF29CE484222325L;
        for (int i = 0; i < text.length(); i++) {
            h ^= text.charAt(i);
            h *= 0x100000001B3L;
        }
        return finish(h);
    }

    private static long finish(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
