package dev.sparkllm.engine.api;

/** Receives a request's tokens as they are produced, on the engine thread: return quickly. */
@FunctionalInterface
public interface TokenListener {

    /**
     * @param requestId the request
     * @param tokenId   the new token
     * @param textDelta text this token completes (may be empty: held back for a multi-byte character or a
     *                  possible stop string); the concatenation of all deltas is the final text
     */
    void onToken(String requestId, int tokenId, String textDelta);
}
