package dev.sparkllm.engine.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads the tokenizer of a Hugging Face model directory: {@code tokenizer.json} when present (with
 * {@code tokenizer_config.json} for the BOS/EOS settings), else a SentencePiece {@code tokenizer.model}.
 */
public final class TokenizerLoader {

    private TokenizerLoader() {
    }

    /** The tokenizer of {@code modelDir}; fails, naming the directory, when it has no tokenizer files. */
    public static Tokenizer load(Path modelDir) {
        Path json = modelDir.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) return TokenizerJson.load(json);
        Path sentencePiece = modelDir.resolve("tokenizer.model");
        if (Files.isRegularFile(sentencePiece)) return SentencePieceTokenizer.load(sentencePiece);
        throw new IllegalArgumentException("tokenizer.json not found in " + modelDir
                + "; expected a Hugging Face model directory");
    }
}
