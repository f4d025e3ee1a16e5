package dev.sparkllm.engine.prompt;

import dev.sparkllm.engine.sampling.SamplingSettings;
import dev.sparkllm.engine.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Presets: the bundled ones say what the model card says; files load; mistakes are named. */
class PresetTest {

    /** The Llama-2 default system prompt, as Hugging Face transformers' Llama tokenizer carries it. */
    private static final String LLAMA2_DEFAULT_SYSTEM_PROMPT = "You are a helpful, respectful and honest assistant."
            + " Always answer as helpfully as possible, while being safe. Your answers should not include any harmful,"
            + " unethical, racist, sexist, toxic, dangerous, or illegal content. Please ensure that your responses are"
            + " socially unbiased and positive in nature.\n\nIf a question does not make any sense, or is not"
            + " factually coherent, explain why instead of answering something not correct. If you don't know the"
            + " answer to a question, please don't share false information.";

    @Test
    void llama2ChatPresetFollowsTheModelCard() {
        Preset p = Preset.load("llama-2-chat");
        assertEquals("llama-2-chat", p.name());
        assertEquals("llama-2-chat", p.template());
        assertEquals(LLAMA2_DEFAULT_SYSTEM_PROMPT, p.systemPrompt());
        SamplingSettings s = p.sampling();
        assertEquals(0.7, s.temperature());
        assertEquals(0.95, s.topP());
        assertEquals(1.15, s.repetitionPenalty());
        assertEquals(512, s.maxNewTokens());
    }

    @Test
    void systemUserAssistantPresetUsesTheCardsOneParagraphPrompt() {
        Preset p = Preset.load("system-user-assistant");
        assertEquals("system-user-assistant", p.template());
        assertEquals(LLAMA2_DEFAULT_SYSTEM_PROMPT.replace("\n\n", " "), p.systemPrompt());
        assertEquals(0.7, p.sampling().temperature());
    }

    @Test
    void greedyPresetSetsOnlySampling() {
        Preset p = Preset.load("greedy");
        assertEquals(Boolean.FALSE, p.sampling().doSample());
        assertNull(p.template());
        assertNull(p.systemPrompt());
        assertEquals(PromptOptions.defaults(), p.applyTo(PromptOptions.defaults()));
    }

    @Test
    void everyPresetInConfLoadsFromTheRepositoryAndFromTheClasspath() throws Exception {
        Path dir = TestModels.repoDir().resolve("conf/presets");
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString().replace(".json", "");
                assertEquals(Preset.load(f.toString()), Preset.load(name));
                assertTrue(Preset.names().contains(name), name + " missing from " + Preset.names());
                // The preset's template resolves.
                Preset p = Preset.load(name);
                if (p.template() != null) ChatTemplates.resolve(p.template(), null);
            }
        }
    }

    @Test
    void bundledPresetsAreListedFromAJar(@TempDir Path dir) throws Exception {
        Path jar = dir.resolve("presets.jar");
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar))) {
            for (String entry : new String[]{"sparkllm/", "sparkllm/presets/", "sparkllm/presets/a.json",
                    "sparkllm/presets/b.json", "sparkllm/presets/notes.txt", "other/c.json"}) {
                out.putNextEntry(new java.util.jar.JarEntry(entry));
                if (!entry.endsWith("/")) out.write("{}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
        try (var loader = new java.net.URLClassLoader(new java.net.URL[]{jar.toUri().toURL()}, null)) {
            assertEquals(java.util.Set.of("a", "b"), Preset.bundledNames(loader));
        }
    }

    @Test
    void applyToSetsTemplateAndSystemPrompt() {
        PromptOptions o = Preset.load("llama-2-chat").applyTo(PromptOptions.defaults());
        assertEquals("llama-2-chat", o.template());
        assertEquals(LLAMA2_DEFAULT_SYSTEM_PROMPT, o.systemPrompt());
    }

    @Test
    void aCopiedAndEditedFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("mine.json");
        Files.writeString(file, "{\"template\": \"raw\", \"sampling\": {\"temperature\": 0.2, \"stop\": [\"\\n\\n\"]}}");
        Preset p = Preset.load(file.toString());
        assertEquals("mine", p.name());
        assertEquals("raw", p.template());
        assertEquals(0.2, p.sampling().temperature());
    }

    @Test
    void mistakesAreNamed(@TempDir Path dir) throws Exception {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> Preset.load("llama-3-chat"));
        assertTrue(unknown.getMessage().contains("llama-3-chat") && unknown.getMessage().contains("greedy"), unknown.getMessage());
        Path typo = dir.resolve("typo.json");
        Files.writeString(typo, "{\"system-prompt\": \"x\"}");
        IllegalArgumentException key = assertThrows(IllegalArgumentException.class, () -> Preset.load(typo.toString()));
        assertTrue(key.getMessage().contains("system-prompt"), key.getMessage());
        Path badJson = dir.resolve("bad.json");
        Files.writeString(badJson, "{\"template\": ");
        assertThrows(IllegalArgumentException.class, () -> Preset.load(badJson.toString()));
        Path badSampling = dir.resolve("badsampling.json");
        Files.writeString(badSampling, "{\"sampling\": {\"temprature\": 1}}");
        IllegalArgumentException s = assertThrows(IllegalArgumentException.class, () -> Preset.load(badSampling.toString()));
        assertTrue(s.getMessage().contains("temprature"), s.getMessage());
    }
}
