package dev.sparkllm.udf;

import dev.sparkllm.engine.tokenizer.TokenizerLoader;
import dev.sparkllm.udf.testing.FakeEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The template limits reach the job, the Transformer and {@code llm_generate} (all prompts go through
 * EngineBinding) as engine options ({@code spark.sparkllm.engine.template_timeout_ms}, ...): a row whose template
 * runs past the limit is a row error naming it; a bad value stops on the driver.
 */
class TemplateLimitsSettingTest {

    static final Path MODEL = Paths.get(System.getProperty("sparkllm.repo.dir", ".."),
            "examples/models/kjv-tiny-gptq-4bit-128g-actorder");

    @Test
    void aTemplateRunningPastTheLimitIsARowError(@TempDir Path dir) throws Exception {
        Path template = dir.resolve("loops.jinja");
        Files.writeString(template, "{% for m in messages %}{% if m.content.startswith('loop') %}{% for a in range(1000) %}"
                + "{% for b in range(1000) %}{% for c in range(1000) %}{% endfor %}{% endfor %}{% endfor %}{% endif %}"
                + "{{ m.content }}{% endfor %}");
        GenerationSettings s = new GenerationSettings(MODEL.toString()).template(template.toString())
                .engineOptions(Map.of("template_timeout_ms", "1000"));
        try (FakeEngine engine = new FakeEngine(TokenizerLoader.load(MODEL), 4, 1024, 0, 0)) {
            RowRequestFactory f = new EngineBinding().requestFactory(engine, MODEL, s);
            f.prepare(new RowInput("ok", "In the beginning", null, Map.of()));
            long start = System.nanoTime();
            var e = assertThrows(RowInputException.class, () -> f.prepare(new RowInput("slow", "loop", null, Map.of())));
            assertTrue((System.nanoTime() - start) / 1_000_000 < 5_000);
            assertTrue(e.getMessage().contains("template_timeout_ms"), e.getMessage());
        }
    }

    @Test
    void aBadLimitStopsOnTheDriver() {
        GenerationSettings s = new GenerationSettings(MODEL.toString()).engineOptions(Map.of("template_max_chars", "lots"));
        var e = assertThrows(IllegalArgumentException.class, () -> new EngineBinding().checkOnDriver(MODEL, s));
        assertTrue(e.getMessage().contains("template_max_chars"), e.getMessage());
    }
}
