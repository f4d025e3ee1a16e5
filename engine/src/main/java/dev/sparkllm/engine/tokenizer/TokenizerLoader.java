package dev.sparkllm.engine.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads the tokenizer of a Hugging Face model directory: {@code tokenizer.json} when present, else a SentencePiece
 * {@code tokenizer.model}, read as the {@link TokenizerMode} says.
 *
 * <p>{@link TokenizerMode#FILES} (the default): {@code tokenizer.json} is applied as the {@code tokenizers} library
 * applies it (normaliser, pre-tokenizer, model, decoder as written), whatever {@code tokenizer_config.json} says of
 * {@code legacy}; only BOS/EOS follow its {@code add_bos_token}/{@code add_eos_token} for Llama classes, as
 * transformers' fast tokenizer does. A lone {@code tokenizer.model} is encoded as SentencePiece encodes it.
 *
 * <p>{@link TokenizerMode#TRANSFORMERS5}, the rule for {@code tokenizer.json}: when {@code tokenizer_config.json}
 * names a Llama tokenizer class (LlamaTokenizer(Fast), CodeLlamaTokenizer(Fast); or none, and {@code config.json}'s
 * model_type is llama, mistral or mixtral), transformers 5 keeps tokenizer.json's vocabulary, merges and added tokens but replaces its normaliser by
 * a Metaspace pre-tokenizer, and so do we: ▁ goes before the text at offset 0 only ("first") when {@code legacy} is
 * false or absent, before the text at the start and after every special token ("always") when {@code legacy} is true
 * (CodeLlama ignores {@code legacy} and always uses "first"), never when {@code add_prefix_space} is false; in no
 * case before text that already starts with a space (tokenizer.json's {@code Prepend("▁")} normaliser adds it even
 * there). BOS/EOS then follow {@code add_bos_token}/{@code add_eos_token}. With no Llama class (for example a bare
 * tokenizer.json with no config files) tokenizer.json is applied as written in this mode too. A lone
 * {@code tokenizer.model} is SentencePiece's in both modes.
 */
public final class TokenizerLoader {

    private TokenizerLoader() {
    }

    /** The tokenizer of {@code modelDir} as its files define it ({@link TokenizerMode#FILES}). */
    public static Tokenizer load(Path modelDir) {
        return load(modelDir, TokenizerMode.FILES);
    }

    /** The tokenizer of {@code modelDir} read in the given mode; fails, naming the directory, when it has no tokenizer files. */
    public static Tokenizer load(Path modelDir, TokenizerMode mode) {
        Path json = modelDir.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) return TokenizerJson.load(json, mode);
        Path sentencePiece = modelDir.resolve("tokenizer.model");
        if (Files.isRegularFile(sentencePiece)) return SentencePieceTokenizer.load(sentencePiece);
        throw new IllegalArgumentException("tokenizer.json not found in " + modelDir
                + "; expected a Hugging Face model directory");
    }
}
