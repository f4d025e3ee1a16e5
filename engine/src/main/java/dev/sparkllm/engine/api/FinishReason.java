package dev.sparkllm.engine.api;

/** Why a generation ended. The lower-case name is what outputs (JSON, Parquet) carry. */
public enum FinishReason {
    /** End-of-sequence token, a stop token id or a stop string. */
    STOP,
    /** max_new_tokens reached, or the context window is full. */
    LENGTH,
    /** Cancelled by the caller before it finished. */
    CANCELLED,
    /** The request failed; the result's error says why. */
    ERROR;

    public String wireName() { return name().toLowerCase(java.util.Locale.ROOT); }
}
