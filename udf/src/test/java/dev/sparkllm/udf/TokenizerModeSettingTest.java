package dev.sparkllm.udf;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine option {@code tokenizer_mode} (Spark setting {@code spark.sparkllm.engine.tokenizer_mode}, the
 * Transformer's engineOptions, the job's --tokenizer-mode): checked on the driver, and part of what decides a
 * row's output, so a resumed run cannot mix prompts tokenized two ways.
 */
class TokenizerModeSettingTest {

    static final Path MODEL = Paths.get(System.getProperty("sparkllm.repo.dir", ".."),
            "examples/models/kjv-tiny-gptq-4bit-128g-actorder");

    @Test
    void aBadModeStopsOnTheDriverNamingTheValues() {
        GenerationSettings s = new GenerationSettings(MODEL.toString()).engineOptions(Map.of("tokenizer_mode", "legacy"));
        var e = assertThrows(IllegalArgumentException.class, () -> new EngineBinding().checkOnDriver(MODEL, s));
        assertTrue(e.getMessage().contains("'legacy'") && e.getMessage().contains("files, transformers5"), e.getMessage());
    }

    @Test
    void theModeDecidesResultsAndTheDefaultIsFiles() throws Exception {
        GenerationSettings plain = new GenerationSettings(MODEL.toString());
        GenerationSettings files = new GenerationSettings(MODEL.toString()).engineOptions(Map.of("tokenizer_mode", "files"));
        GenerationSettings transformers5 = new GenerationSettings(MODEL.toString())
                .engineOptions(Map.of("tokenizer_mode", "transformers5"));
        assertEquals("files", plain.resultDefiningParameters().get("tokenizer_mode"));
        assertEquals(plain.resultDefiningParameters(), files.resultDefiningParameters());
        assertNotEquals(plain.resultDefiningParameters(), transformers5.resultDefiningParameters());
        new EngineBinding().checkOnDriver(MODEL, transformers5);
    }
}
