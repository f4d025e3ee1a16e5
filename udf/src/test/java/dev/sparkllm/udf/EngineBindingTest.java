package dev.sparkllm.udf;

import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.tokenizer.Tokenizer;
import dev.sparkllm.engine.tokenizer.TokenizerLoader;
import dev.sparkllm.udf.testing.FakeEngine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The real binding's prompt and sampling side, on the bundled kjv-tiny model (no engine needed). */
class EngineBindingTest {

    static final Path MODEL = Paths.get(System.getProperty("sparkllm.repo.dir", ".."),
            "examples/models/kjv-tiny-gptq-4bit-128g-actorder");
    static Tokenizer tokenizer;
    static FakeEngine engine;

    @BeforeAll
    static void load() {
        tokenizer = TokenizerLoader.load(MODEL);
        engine = new FakeEngine(tokenizer, 4, 1024, 0, 0);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    static GenerationSettings settings() {
        return new GenerationSettings(MODEL.toString()).sampling(Map.of("max_new_tokens", "16", "temperature", "0.7"))
                .jobSeed(5L);
    }

    @Test
    void driverCheckReturnsTheModelsFingerprintAndNamesBadSettings() throws Exception {
        EngineBinding b = new EngineBinding();
        try (ModelDirectory dir = ModelDirectory.open(MODEL)) {
            assertEquals(dir.fingerprint(), b.checkOnDriver(MODEL, settings()));
        }
        var template = assertThrows(IllegalArgumentException.class, () -> b.checkOnDriver(MODEL, settings().template("fancy")));
        assertTrue(template.getMessage().contains("fancy"), template.getMessage());
        var temp = assertThrows(IllegalArgumentException.class, () ->
                b.checkOnDriver(MODEL, settings().sampling(Map.of("temperature", "-1"))));
        assertTrue(temp.getMessage().contains("temperature"), temp.getMessage());
        var unknown = assertThrows(IllegalArgumentException.class, () ->
                b.checkOnDriver(MODEL, settings().sampling(Map.of("temprature", "1"))));
        assertTrue(unknown.getMessage().contains("temprature"), unknown.getMessage());
        var preset = assertThrows(IllegalArgumentException.class, () -> b.checkOnDriver(MODEL, settings().preset("no-such-preset")));
        assertTrue(preset.getMessage().contains("no-such-preset"), preset.getMessage());
    }

    @Test
    void valuesNoRowCouldUseAreRefusedAsOptionsNamingTheModelsLimit() {
        EngineBinding b = new EngineBinding();
        var huge = assertThrows(IllegalArgumentException.class, () ->
                b.checkOnDriver(MODEL, settings().sampling(Map.of("max_new_tokens", "1000000000"))));
        assertTrue(huge.getMessage().contains("max_new_tokens 1000000000 does not fit the model's context of 1024 tokens"),
                huge.getMessage());
        assertTrue(huge.getMessage().contains("use at most 1023"), huge.getMessage());
        var shorter = assertThrows(IllegalArgumentException.class, () -> b.checkOnDriver(MODEL,
                settings().sampling(Map.of("max_new_tokens", "300")).engineOptions(Map.of("context_length", "256"))));
        assertTrue(shorter.getMessage().contains("context of 256 tokens"), shorter.getMessage());
        var stop = assertThrows(IllegalArgumentException.class, () ->
                b.checkOnDriver(MODEL, settings().sampling(Map.of("stop_token_ids", "2,999999"))));
        assertTrue(stop.getMessage().contains("stop token id 999999 is outside the model's vocabulary 0..1023"),
                stop.getMessage());
        assertDoesNotThrow(() -> b.checkOnDriver(MODEL, settings().sampling(Map.of("max_new_tokens", "1023",
                "stop_token_ids", "1023"))));
    }

    @Test
    void rowsBecomeRequestsWithLayeredSamplingAndDerivedSeeds() throws Exception {
        RowRequestFactory f = new EngineBinding().requestFactory(engine, MODEL, settings());
        var r = f.prepare(new RowInput("row-1", "And God said", null, Map.of()));
        assertArrayEquals(tokenizer.encode("And God said", true), r.request().promptTokenIds(), "raw template: text as is");
        assertEquals(16, r.request().sampling().maxNewTokens());
        assertEquals(0.7, r.request().sampling().temperature(), 1e-12);
        assertEquals(RowSeeds.derive(5L, "row-1"), r.request().sampling().seed());
        assertFalse(r.truncated());
        assertEquals(16, r.parameters().get("max_new_tokens"), String.valueOf(r.parameters()));

        var own = f.prepare(new RowInput("row-2", "And God said", null, Map.of("max_new_tokens", 3, "seed", 99)));
        assertEquals(3, own.request().sampling().maxNewTokens(), "the row's value wins");
        assertEquals(99L, own.request().sampling().seed(), "the row's own seed wins");
    }

    @Test
    void rowProblemsAreRowErrors() throws Exception {
        RowRequestFactory f = new EngineBinding().requestFactory(engine, MODEL, settings());
        var range = assertThrows(RowInputException.class, () ->
                f.prepare(new RowInput("a", "text", null, Map.of("temperature", -2))));
        assertTrue(range.getMessage().contains("temperature"), range.getMessage());
        var role = assertThrows(RowInputException.class, () -> f.prepare(new RowInput("b", null,
                List.of(new RowInput.ChatTurn("wizard", "hi")), Map.of())));
        assertTrue(role.getMessage().contains("wizard"), role.getMessage());
        RowRequestFactory strict = new EngineBinding().requestFactory(engine, MODEL, settings().failTooLongPrompts(true));
        var tooLong = assertThrows(RowInputException.class, () ->
                strict.prepare(new RowInput("c", "In the beginning ".repeat(400), null, Map.of())));
        assertFalse(tooLong.getMessage().isBlank());
        var cut = f.prepare(new RowInput("d", "In the beginning ".repeat(400), null, Map.of()));
        assertTrue(cut.truncated());
        assertTrue(cut.request().promptTokenIds().length <= 1024 - 16);
    }
}
