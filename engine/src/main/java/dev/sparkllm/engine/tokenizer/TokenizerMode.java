package dev.sparkllm.engine.tokenizer;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * How a model directory's tokenizer files are read.
 *
 * <p>{@link #FILES} (the default) applies them as they are: {@code tokenizer.json} exactly as Hugging Face
 * {@code tokenizers} applies it, whatever {@code tokenizer_config.json} says of {@code legacy}; a lone
 * {@code tokenizer.model} exactly as SentencePiece encodes it. For Llama-2 both give the ids the model was
 * trained on (SentencePiece's), which Meta's reference code and transformers' fast tokenizer also produce.
 *
 * <p>{@link #TRANSFORMERS5} reproduces transformers 5, which rebuilds a {@code tokenizer.json} whose
 * {@code tokenizer_config.json} names a Llama tokenizer class around a Metaspace pre-tokenizer: with
 * {@code legacy: false} (what Meta's repositories say) no ▁ after a special token ({@code <s>[INST]} starts
 * with {@code [}, not {@code ▁[}) and a text that starts with a space does not get a second ▁. Only for users who
 * must match transformers 5's ids; the model saw the other ones in training. It changes nothing for a directory
 * with only {@code tokenizer.model}, which stays SentencePiece's.
 */
public enum TokenizerMode {
    FILES("files"),
    TRANSFORMERS5("transformers5");

    /** The engine option (and Spark setting {@code spark.sparkllm.engine.tokenizer_mode}) that picks the mode. */
    public static final String OPTION = "tokenizer_mode";

    private final String wireName;

    TokenizerMode(String wireName) {
        this.wireName = wireName;
    }

    /** The name used on command lines and in options: {@code files} or {@code transformers5}. */
    public String wireName() {
        return wireName;
    }

    /** A mode by its name, case-insensitively; null or blank is the default, {@link #FILES}. */
    public static TokenizerMode parse(String name) {
        if (name == null || name.isBlank()) return FILES;
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (TokenizerMode m : values()) if (m.wireName.equals(n)) return m;
        throw new IllegalArgumentException("unknown tokenizer mode '" + name + "'; use one of " + names()
                + " (files: the checkpoint's tokenizer files as written, the default; transformers5: transformers 5's"
                + " reading of a Llama tokenizer_config.json)");
    }

    /** The mode an engine-option map asks for ({@value #OPTION}), or the default. */
    public static TokenizerMode fromOptions(Map<String, String> options) {
        return parse(options == null ? null : options.get(OPTION));
    }

    /** The accepted names, comma-separated. */
    public static String names() {
        return Arrays.stream(values()).map(TokenizerMode::wireName).collect(Collectors.joining(", "));
    }

    @Override
    public String toString() {
        return wireName;
    }
}
