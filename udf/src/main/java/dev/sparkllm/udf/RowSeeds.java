package dev.sparkllm.udf;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Per-row seeds: a pure function of the job's seed and the row's id, so a row samples the same tokens whatever
 * partition, executor or task attempt runs it.
 */
public final class RowSeeds {

    private RowSeeds() {
    }

    /** The first 8 bytes of SHA-256(jobSeed as 8 big-endian bytes || id in UTF-8), as a non-negative long. */
    public static long derive(long jobSeed, String id) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (int i = 7; i >= 0; i--) sha.update((byte) (jobSeed >>> (8 * i)));
            sha.update(id.getBytes(StandardCharsets.UTF_8));
            byte[] d = sha.digest();
            long v = 0;
            for (int i = 0; i < 8; i++) v = (v << 8) | (d[i] & 0xff);
            return v & Long.MAX_VALUE;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
