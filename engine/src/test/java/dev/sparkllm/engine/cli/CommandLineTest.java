package dev.sparkllm.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkllm.engine.testing.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code llm generate | tokenize | perplexity} through {@link Main#run}, checked against the Hugging Face reference
 * outputs for the bundled model (src/test/resources/reference/hf_kjv_tiny.json).
 */
class CommandLineTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static JsonNode reference;
    static final String MODEL = TestModels.bundledModel().toString();

    @BeforeAll
    static void load() throws Exception {
        reference = JSON.readTree(TestModels.repoDir().resolve("engine/src/test/resources/reference/hf_kjv_tiny.json").toFile())
                .get("models").get("gptq-4bit-128g-actorder_True");
    }

    record Run(int exitCode, String out, String err) {
        List<JsonNode> jsonLines() throws Exception {
            List<JsonNode> nodes = new ArrayList<>();
            for (String line : out.split("\n")) if (!line.isBlank()) nodes.add(JSON.readTree(line));
            return nodes;
        }
    }

    static synchronized Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void greedyGenerationEqualsTransformers() throws Exception {
        JsonNode g = reference.get("generations").get(0);
        Run r = run("generate", "--model", MODEL, "--prompt", g.get("prompt").asText(), "--temperature", "0",
                "--max-new-tokens", "32", "--json", "--engine-option", "threads=2");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode o = r.jsonLines().get(0);
        assertEquals(g.get("prompt_ids"), o.get("prompt_token_ids"));
        List<Integer> expected = new ArrayList<>();
        for (JsonNode id : g.get("output_ids")) if (id.asInt() != 2) expected.add(id.asInt());   // EOS is not part of the output
        assertEquals(JSON.valueToTree(expected), o.get("token_ids"));
        assertEquals(g.get("text").asText(), o.get("text").asText());
        assertEquals("stop", o.get("finish_reason").asText());
        assertEquals(expected.size(), o.get("completion_tokens").asInt());
        assertTrue(o.get("error").isNull());
    }

    @Test
    void aSeededPromptGivesTheSameTextAloneOrAmongOthers() throws Exception {
        String prompt = "And the LORD said unto Moses,";
        Run alone = run("generate", "--model", MODEL, "--prompt", prompt, "--seed", "11", "--max-new-tokens", "24", "--json");
        Run among = run("generate", "--model", MODEL, "--prompt", "Blessed are the", "--prompt", prompt, "--prompt", "For God so loved",
                "--seed", "11", "--max-new-tokens", "24", "--json");
        assertEquals(0, alone.exitCode(), alone.err());
        assertEquals(alone.jsonLines().get(0).get("token_ids"), among.jsonLines().get(1).get("token_ids"));
    }

    @Test
    void tokenizeWorksOnADirectoryWithOnlyTokenizerFiles(@TempDir Path dir) throws Exception {
        for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
            Files.copy(TestModels.bundledModel().resolve(f), dir.resolve(f));
        }
        JsonNode g = reference.get("generations").get(1);
        Run r = run("tokenize", "--model", dir.toString(), "--text", g.get("prompt").asText(), "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode o = r.jsonLines().get(0);
        assertEquals(g.get("prompt_ids"), o.get("ids"));
        assertEquals(o.get("ids").size(), o.get("tokens").size());
        assertEquals("<s>", o.get("tokens").get(0).asText());
    }

    @Test
    void perplexityEqualsTransformers() throws Exception {
        JsonNode expected = reference.get("heldout");
        Run r = run("perplexity", "--model", MODEL, "--file",
                TestModels.repoDir().resolve("engine/src/test/resources/reference/heldout-english.txt").toString(),
                "--window", expected.get("window").asText(), "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode o = r.jsonLines().get(0);
        assertEquals(expected.get("tokens").asInt(), o.get("tokens").asInt());
        double hf = expected.get("perplexity").asDouble();
        assertEquals(hf, o.get("perplexity").asDouble(), hf * 1e-3);
    }

    @Test
    void badInputStopsWithAMessageNamingIt(@TempDir Path empty) throws Exception {
        Run missing = run("generate", "--model", empty.resolve("nope").toString(), "--prompt", "x");
        assertEquals(2, missing.exitCode());
        assertTrue(missing.err().contains("nope"), missing.err());

        Run badTemperature = run("generate", "--model", MODEL, "--prompt", "x", "--temperature", "-1");
        assertEquals(2, badTemperature.exitCode());
        assertTrue(badTemperature.err().contains("temperature"), badTemperature.err());

        Run badTemplate = run("generate", "--model", MODEL, "--prompt", "x", "--template", "no-such-template");
        assertEquals(2, badTemplate.exitCode());
        assertTrue(badTemplate.err().contains("no-such-template"), badTemplate.err());

        Path conversations = empty.resolve("c.jsonl");
        Files.writeString(conversations, "[{\"role\":\"user\",\"content\":\"Who begat Enos?\"}]\n[{\"role\":\"wizard\",\"content\":\"x\"}]\n");
        Run rows = run("generate", "--model", MODEL, "--messages-file", conversations.toString(), "--template", "llama-2-chat",
                "--max-new-tokens", "4", "--json");
        assertEquals(3, rows.exitCode(), "a failed prompt is reported in its row and in the exit code");
        List<JsonNode> lines = rows.jsonLines();
        assertEquals(2, lines.size(), "one output line per input, failed or not");
        assertEquals("error", lines.get(1).get("finish_reason").asText());
        assertTrue(lines.get(1).get("error").asText().contains("wizard"));
        assertTrue(lines.get(0).get("error").isNull());
    }

    /**
     * {@code --tokenizer-mode}: by default the bundled model's tokenizer.json is read as written (raw tokenizers'
     * ids in golden/transformers_llama_legacy.json, although its tokenizer_config.json says legacy false), so the
     * llama-2-chat prompt starts {@code <s> ▁ [}; {@code transformers5} gives transformers 5's ids ({@code <s> [}).
     */
    @Test
    void tokenizerModeDecidesTheIdsOfTokenizeAndGenerate() throws Exception {
        JsonNode golden = JSON.readTree(TestModels.repoDir().resolve("engine/src/test/resources/golden/transformers_llama_legacy.json").toFile());
        String text = "<s>[INST] Who begat Enos? [/INST]";
        Run files = run("tokenize", "--model", MODEL, "--text", text, "--json");
        assertEquals(0, files.exitCode(), files.err());
        assertEquals(golden.get("raw").get(text), files.jsonLines().get(0).get("ids"));
        Run transformers5 = run("tokenize", "--model", MODEL, "--text", text, "--json", "--tokenizer-mode", "transformers5");
        assertEquals(0, transformers5.exitCode(), transformers5.err());
        assertEquals(golden.get("false").get(text), transformers5.jsonLines().get(0).get("ids"));

        for (String mode : List.of("files", "transformers5")) {
            Run r = run("generate", "--model", MODEL, "--template", "llama-2-chat", "--prompt", "Who begat Enos?",
                    "--max-new-tokens", "1", "--json", "--show-prompt", "--tokenizer-mode", mode, "--engine-option", "threads=1");
            assertEquals(0, r.exitCode(), r.err());
            JsonNode o = r.jsonLines().get(0);
            assertEquals(text, o.get("rendered_prompt").asText());
            // The template's own <s> is the one BOS: the tokenizer's ids of the text, less the BOS it adds itself.
            JsonNode expected = golden.get(mode.equals("files") ? "raw" : "false").get(text);
            List<Integer> ids = new ArrayList<>();
            for (int i = 1; i < expected.size(); i++) ids.add(expected.get(i).asInt());
            assertEquals(JSON.valueToTree(ids), o.get("prompt_token_ids"), mode);
        }

        Run bad = run("tokenize", "--model", MODEL, "--text", "x", "--tokenizer-mode", "legacy");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("unknown tokenizer mode 'legacy'") && bad.err().contains("files, transformers5"), bad.err());
        Run contradicting = run("generate", "--model", MODEL, "--prompt", "x", "--tokenizer-mode", "files",
                "--engine-option", "tokenizer_mode=transformers5");
        assertEquals(2, contradicting.exitCode());
        assertTrue(contradicting.err().contains("contradicts"), contradicting.err());
    }

    /** A template that loops for minutes is stopped at the engine option's limit: an error row naming it, exit 3. */
    @Test
    void aRunawayTemplateIsAnErrorRowNamingTheLimit(@TempDir Path dir) throws Exception {
        Path template = dir.resolve("loops.jinja");
        Files.writeString(template, "{% for m in messages %}{% if m.content.startswith('loop') %}{% for a in range(1000) %}"
                + "{% for b in range(1000) %}{% for c in range(1000) %}{% endfor %}{% endfor %}{% endfor %}{% endif %}"
                + "{{ m.content }}{% endfor %}");
        Run r = run("generate", "--model", MODEL, "--template", template.toString(), "--prompt", "loop", "--prompt",
                "In the beginning", "--max-new-tokens", "2", "--json", "--engine-option", "template_timeout_ms=1000",
                "--engine-option", "threads=1");
        assertEquals(3, r.exitCode(), r.err());
        List<JsonNode> lines = r.jsonLines();
        assertEquals("error", lines.get(0).get("finish_reason").asText());
        assertTrue(lines.get(0).get("error").asText().contains("template_timeout_ms"), lines.get(0).toString());
        assertTrue(lines.get(1).get("error").isNull(), "the other prompt still runs");
        Run bad = run("generate", "--model", MODEL, "--prompt", "x", "--engine-option", "template_max_chars=0");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("template_max_chars"), bad.err());
    }
}
