package dev.sparkllm.engine.prompt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sparkllm.engine.testing.TestModels;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jinjava, as we configure it, against Jinja itself (Python's jinja2, set up as transformers sets it up): the
 * chat templates of Llama-2, Llama-3, Mistral and ChatML render every test conversation to the same text, and
 * reject the same conversations with the same {@code raise_exception} message. Skips when no Python with jinja2
 * is installed (Debian: {@code apt-get install python3-jinja2}).
 */
class JinjaParityTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> TOKENS = Map.of("bos_token", "<s>", "eos_token", "</s>", "unk_token", "<unk>");
    private static String python;

    @BeforeAll
    static void findPython() {
        for (String candidate : List.of("/usr/bin/python3", "python3")) {
            try {
                Process p = new ProcessBuilder(candidate, "-c", "import jinja2").redirectErrorStream(true).start();
                if (p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    python = candidate;
                    return;
                }
            } catch (IOException | InterruptedException e) {
                // try the next one
            }
        }
    }

    static Path templatesDir() {
        return TestModels.repoDir().resolve("engine/src/test/resources/templates");
    }

    static JsonNode conversations() throws IOException {
        return JSON.readTree(templatesDir().resolve("conversations.json").toFile());
    }

    static List<ChatMessage> messages(JsonNode conversation) {
        List<ChatMessage> out = new ArrayList<>();
        for (JsonNode m : conversation.get("messages")) out.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-2-chat", "llama-3", "mistral-instruct", "chatml", "system-user-assistant"})
    void jinjavaRendersLikeJinja(String templateName) throws Exception {
        Assumptions.assumeTrue(python != null,
                "skipped: no python3 with jinja2 (install Debian's python3-jinja2) to compare Jinjava against");
        String source = Files.readString(templatesDir().resolve(templateName + ".jinja"));
        JsonNode conversations = conversations();

        ObjectNode request = JSON.createObjectNode();
        request.put("template", source);
        request.set("variables", JSON.valueToTree(TOKENS));
        ArrayNode cases = request.putArray("cases");
        for (JsonNode c : conversations) {
            ObjectNode item = cases.addObject();
            item.set("messages", c.get("messages"));
            item.set("add_generation_prompt", c.get("add_generation_prompt"));
        }
        JsonNode expected = runJinja(request);

        JinjaChatTemplate template = new JinjaChatTemplate(templateName, source, TOKENS);
        int rejected = 0;
        for (int i = 0; i < conversations.size(); i++) {
            JsonNode c = conversations.get(i);
            String label = templateName + " / " + c.get("name").asText();
            List<ChatMessage> messages = messages(c);
            boolean addGenerationPrompt = c.get("add_generation_prompt").asBoolean();
            JsonNode want = expected.get(i);
            if (want.has("error")) {
                rejected++;
                PromptException e = assertThrows(PromptException.class,
                        () -> template.renderText(messages, addGenerationPrompt), label);
                assertTrue(e.getMessage().endsWith(want.get("error").asText()), label + ": " + e.getMessage());
                continue;
            }
            assertEquals(want.get("text").asText(), template.renderText(messages, addGenerationPrompt), label);
            // The marked render finds content spans and, unmarked, is the same text.
            assertEquals(want.get("text").asText(), template.render(messages, addGenerationPrompt).text(), label);
        }
        if (templateName.equals("llama-2-chat") || templateName.equals("mistral-instruct")) {
            assertTrue(rejected > 0, "raise_exception should have rejected some conversations of " + templateName);
        }
    }

    @org.junit.jupiter.api.Test
    void jinjaFeaturesBeyondChatTemplates() throws Exception {
        Assumptions.assumeTrue(python != null,
                "skipped: no python3 with jinja2 (install Debian's python3-jinja2) to compare Jinjava against");
        String source = Files.readString(TestModels.repoDir().resolve("engine/src/test/resources/jinja-features/features.jinja"));
        JsonNode conversations = conversations();
        ObjectNode request = JSON.createObjectNode();
        request.put("template", source);
        ArrayNode cases = request.putArray("cases");
        for (JsonNode c : conversations) {
            ObjectNode item = cases.addObject();
            item.set("messages", c.get("messages"));
            item.set("add_generation_prompt", c.get("add_generation_prompt"));
        }
        JsonNode expected = runJinja(request);
        JinjaChatTemplate template = new JinjaChatTemplate("features", source, TOKENS);
        for (int i = 0; i < conversations.size(); i++) {
            JsonNode c = conversations.get(i);
            assertEquals(expected.get(i).get("text").asText(),
                    template.renderText(messages(c), c.get("add_generation_prompt").asBoolean()), c.get("name").asText());
        }
    }

    private static JsonNode runJinja(JsonNode request) throws Exception {
        Path script = TestModels.repoDir().resolve("engine/src/test/scripts/jinja_render.py");
        Process p = new ProcessBuilder(python, script.toString()).start();
        p.getOutputStream().write(JSON.writeValueAsBytes(request));
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "jinja_render.py did not finish");
        assertEquals(0, p.exitValue(), "jinja_render.py failed: " + err);
        JsonNode result = JSON.readTree(out);
        assertNotNull(result);
        return result;
    }
}
