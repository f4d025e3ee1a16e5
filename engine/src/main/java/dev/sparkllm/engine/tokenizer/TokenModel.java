package dev.sparkllm.engine.tokenizer;

/** The model step of a tokenizer: one pre-tokenized word to token ids. Thread-safe. */
interface TokenModel {

    /** Appends the ids of {@code word} (never empty) to {@code out}. */
    void tokenize(String word, IntList out);

    /** One past the largest id in the model's vocabulary (added tokens not counted). */
    int size();

    /** The token string of an id, or null when the id is not in the vocabulary. */
    String token(int id);

    /** The id of a token string, or -1. */
    int id(String token);
}
