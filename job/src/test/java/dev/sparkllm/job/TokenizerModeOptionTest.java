package dev.sparkllm.job;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --tokenizer-mode} becomes the engine option the executors read; bad or contradicting values stop the job. */
class TokenizerModeOptionTest {

    private static final String[] REQUIRED = {"--model", "m", "--input", "in.jsonl", "--output", "out"};

    private static JobOptions parse(String... extra) {
        String[] args = new String[REQUIRED.length + extra.length];
        System.arraycopy(REQUIRED, 0, args, 0, REQUIRED.length);
        System.arraycopy(extra, 0, args, REQUIRED.length, extra.length);
        return JobOptions.parse(args);
    }

    @Test
    void theFlagSetsTheEngineOption() {
        assertEquals("transformers5", parse("--tokenizer-mode", "transformers5").engineOptions.get("tokenizer_mode"));
        assertEquals("files", parse("--tokenizer-mode=FILES").engineOptions.get("tokenizer_mode"));
        assertFalse(parse().engineOptions.containsKey("tokenizer_mode"), "absent: the engine's default, files");
        assertEquals("transformers5", parse("--engine-option", "tokenizer_mode=transformers5", "--tokenizer-mode", "transformers5")
                .engineOptions.get("tokenizer_mode"));
        assertTrue(JobOptions.USAGE.contains("--tokenizer-mode"));
    }

    @Test
    void badOrContradictingValuesAreRefused() {
        var bad = assertThrows(IllegalArgumentException.class, () -> parse("--tokenizer-mode", "hf"));
        assertTrue(bad.getMessage().contains("'hf'") && bad.getMessage().contains("files, transformers5"), bad.getMessage());
        var both = assertThrows(IllegalArgumentException.class, () ->
                parse("--tokenizer-mode", "files", "--engine-option", "tokenizer_mode=transformers5"));
        assertTrue(both.getMessage().contains("contradicts"), both.getMessage());
    }
}
