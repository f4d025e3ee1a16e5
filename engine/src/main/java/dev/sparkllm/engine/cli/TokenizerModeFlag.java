package dev.sparkllm.engine.cli;

import dev.sparkllm.engine.tokenizer.TokenizerMode;
import picocli.CommandLine.Option;

import java.util.Map;

/** {@code --tokenizer-mode}, shared by the commands that tokenize. */
public final class TokenizerModeFlag {

    static final String DESCRIPTION = "how the tokenizer files are read: 'files' (default) applies tokenizer.json exactly as"
            + " Hugging Face tokenizers does, whatever tokenizer_config.json says of legacy, and tokenizer.model as"
            + " SentencePiece does (for Llama-2: the ids it was trained on, Meta's); 'transformers5' reproduces"
            + " transformers 5's reading of a Llama tokenizer_config.json (with legacy false: no space marker after"
            + " <s>, a leading space not doubled), for matching its ids";

    @Option(names = "--tokenizer-mode", paramLabel = "MODE", description = DESCRIPTION)
    String mode;

    /** The mode given, else the default. */
    TokenizerMode mode() {
        return TokenizerMode.parse(mode);
    }

    /**
     * The mode given here or as the engine option {@value TokenizerMode#OPTION} (both must agree), written into
     * the engine options so the engine reads the tokenizer the same way.
     */
    TokenizerMode resolve(Map<String, String> engineOptions) {
        String fromOption = engineOptions.get(TokenizerMode.OPTION);
        if (mode != null && fromOption != null && TokenizerMode.parse(mode) != TokenizerMode.parse(fromOption)) {
            throw new IllegalArgumentException("--tokenizer-mode " + mode + " contradicts --engine-option "
                    + TokenizerMode.OPTION + "=" + fromOption + "; give one of them");
        }
        TokenizerMode resolved = TokenizerMode.parse(mode != null ? mode : fromOption);
        engineOptions.put(TokenizerMode.OPTION, resolved.wireName());
        return resolved;
    }
}
