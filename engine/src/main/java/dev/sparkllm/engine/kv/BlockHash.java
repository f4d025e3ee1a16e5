package dev.sparkllm.engine.kv;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Identity of a full KV block's content: a hash chain over (parent block's hash, this block's token ids).
 * Two blocks with equal hashes hold the KV of the same tokens at the same positions, because a block's KV
 * depends only on the tokens up to its end (the backend's row-independence contract) and the chain covers
 * every one of them.
 *
 * <p>128 bits of SHA-256: a collision would silently hand one sequence another's KV, so a cheap 64-bit mix
 * is not good enough for pools of millions of blocks over a long job.
 */
public record BlockHash(long high, long low) {

    /** Parent hash of a sequence's first block. */
    public static final BlockHash ROOT = new BlockHash(0, 0);

    /**
     * Hash of the block holding {@code tokens[from .. from+count)} whose predecessor has hash {@code parent}.
     */
    public static BlockHash of(BlockHash parent, int[] tokens, int from, int count) {
        ByteBuffer bytes = ByteBuffer.allocate(16 + 4 * count);
        bytes.putLong(parent.high).putLong(parent.low);
        for (int i = from; i < from + count; i++) bytes.putInt(tokens[i]);
        byte[] digest = sha256().digest(bytes.array());
        ByteBuffer d = ByteBuffer.wrap(digest);
        return new BlockHash(d.getLong(), d.getLong());
    }

    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from this Java runtime; every Java SE runtime has it", e);
        }
    });

    private static MessageDigest sha256() {
        MessageDigest md = SHA256.get();
        md.reset();
        return md;
    }
}
