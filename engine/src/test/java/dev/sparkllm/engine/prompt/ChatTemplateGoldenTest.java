package dev.sparkllm.engine.prompt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkllm.engine.testing.TestModels;
import dev.sparkllm.engine.tokenizer.Tokenizer;
import dev.sparkllm.engine.tokenizer.TokenizerLoader;
import dev.sparkllm.engine.tokenizer.TokenizerMode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our templates and tokenization against Hugging Face's {@code apply_chat_template} on the bundled model's
 * tokenizer, from {@code golden/chat_templates.json} (written by engine/src/test/scripts/chat_template_golden.py
 * on a machine with transformers 5, so the tokenizer is read in {@link TokenizerMode#TRANSFORMERS5}, the mode that
 * reproduces it; the default mode's ids are Meta's, see MetaLlama2ChatParityTest). Each Jinja file is checked as the model's own template ({@code model}); the
 * Llama-2 and SYSTEM/USER/ASSISTANT files also against our named templates. Where Hugging Face's ids lack a BOS
 * that the tokenizer's {@code add_bos_token} asks for, we expect it added once (our documented rule).
 *
 * <p>Hugging Face parses special-token strings everywhere in the rendered text, data included; so equality with
 * its ids is checked with special tokens allowed in content, and, by default (content stays text), for every
 * conversation whose data holds no special-token string.
 */
class ChatTemplateGoldenTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> NAMED = Map.of("llama-2-chat", "llama-2-chat",
            "system-user-assistant", "system-user-assistant");
    private static JsonNode golden;
    private static Tokenizer tokenizer;

    private static final Path GOLDEN = TestModels.repoDir().resolve("engine/src/test/resources/golden/chat_templates.json");

    @BeforeAll
    static void load() throws Exception {
        if (Files.isRegularFile(GOLDEN)) golden = JSON.readTree(GOLDEN.toFile());
        tokenizer = TokenizerLoader.load(TestModels.bundledModel(), TokenizerMode.TRANSFORMERS5);
    }

    @BeforeEach
    void requireGolden() {
        Assumptions.assumeTrue(golden != null, "skipped: " + GOLDEN + " is absent; generate it with"
                + " engine/src/test/scripts/chat_template_golden.py (see its header) on a machine with transformers");
    }

    private static int[] expectedIds(JsonNode ids) {
        int[] hf = new int[ids.size()];
        for (int i = 0; i < hf.length; i++) hf[i] = ids.get(i).asInt();
        if (tokenizer.addsBos() && (hf.length == 0 || hf[0] != tokenizer.bosId())) {
            int[] withBos = new int[hf.length + 1];
            withBos[0] = tokenizer.bosId();
            System.arraycopy(hf, 0, withBos, 1, hf.length);
            return withBos;
        }
        return hf;
    }

    private static Map<String, JsonNode> conversationsByName() throws Exception {
        Map<String, JsonNode> out = new HashMap<>();
        for (JsonNode c : JinjaParityTest.conversations()) out.put(c.get("name").asText(), c);
        return out;
    }

    /** A copy of the bundled model's tokenizer_config.json with the given chat_template. */
    private static Path modelDirWith(Path dir, String chatTemplate) throws Exception {
        return ModelChatTemplateTest.modelDirWith(dir, chatTemplate);
    }

    @Test
    void everyTemplateAsTheModelsOwn(@TempDir Path tmp) throws Exception {
        Map<String, JsonNode> conversations = conversationsByName();
        int compared = 0;
        for (JsonNode c : golden.get("cases")) {
            String templateName = c.get("template").asText();
            String label = templateName + " / " + c.get("conversation").asText();
            Path dir = Files.createDirectories(tmp.resolve(templateName));
            String source = Files.readString(JinjaParityTest.templatesDir().resolve(templateName + ".jinja"));
            Path model = modelDirWith(dir, source);
            PromptFormatter formatter = new PromptFormatter(tokenizer, model, PromptOptions.defaults().withTemplate("model"));
            PromptFormatter allowing = new PromptFormatter(tokenizer, model,
                    PromptOptions.defaults().withTemplate("model").withAllowSpecialTokensInContent(true));
            JsonNode conversation = conversations.get(c.get("conversation").asText());
            List<ChatMessage> messages = JinjaParityTest.messages(conversation);
            boolean addGenerationPrompt = conversation.get("add_generation_prompt").asBoolean();
            if (c.has("error")) {
                PromptException e = assertThrows(PromptException.class,
                        () -> formatter.template().render(messages, addGenerationPrompt), label);
                assertTrue(c.get("error").asText().contains(e.getMessage().replaceAll(".*rejects the conversation: ", "")),
                        label + ": " + e.getMessage() + " vs " + c.get("error").asText());
                continue;
            }
            RenderedPrompt rendered = formatter.template().render(messages, addGenerationPrompt);
            assertEquals(c.get("text").asText(), rendered.text(), label);
            assertArrayEquals(expectedIds(c.get("ids")), allowing.tokenize(rendered), label);
            if (!holdsSpecialStrings(messages)) assertArrayEquals(expectedIds(c.get("ids")), formatter.tokenize(rendered), label);
            compared++;
        }
        assertTrue(compared >= 30, "only " + compared + " golden cases compared");
    }

    @Test
    void namedTemplatesMatchTheirJinjaForms() throws Exception {
        Map<String, JsonNode> conversations = conversationsByName();
        int compared = 0;
        for (JsonNode c : golden.get("cases")) {
            String named = NAMED.get(c.get("template").asText());
            if (named == null || c.has("error")) continue;
            JsonNode conversation = conversations.get(c.get("conversation").asText());
            List<ChatMessage> messages = JinjaParityTest.messages(conversation);
            if (!alternates(messages)) continue; // our named templates reject these by rule
            String label = named + " / " + c.get("conversation").asText();
            PromptFormatter formatter = new PromptFormatter(tokenizer, null, PromptOptions.defaults().withTemplate(named));
            PromptFormatter allowing = new PromptFormatter(tokenizer, null,
                    PromptOptions.defaults().withTemplate(named).withAllowSpecialTokensInContent(true));
            RenderedPrompt rendered = formatter.template().render(messages, conversation.get("add_generation_prompt").asBoolean());
            assertEquals(c.get("text").asText(), rendered.text(), label);
            assertArrayEquals(expectedIds(c.get("ids")), allowing.tokenize(rendered), label);
            if (!holdsSpecialStrings(messages)) assertArrayEquals(expectedIds(c.get("ids")), formatter.tokenize(rendered), label);
            compared++;
        }
        assertTrue(compared >= 12, "only " + compared + " named-template cases compared");
    }

    @Test
    void rawMatchesTheTokenizerCall() {
        PromptFormatter raw = new PromptFormatter(tokenizer, null, PromptOptions.defaults());
        PromptFormatter rawAllowing = new PromptFormatter(tokenizer, null, PromptOptions.defaults().withAllowSpecialTokensInContent(true));
        int compared = 0;
        for (JsonNode r : golden.get("raw")) {
            String text = r.get("text").asText();
            if (text.isBlank()) continue;
            int[] hf = new int[r.get("ids").size()];
            for (int i = 0; i < hf.length; i++) hf[i] = r.get("ids").get(i).asInt();
            String label = r.get("conversation").asText();
            assertArrayEquals(hf, rawAllowing.format(PromptInput.text(text), 1, 1 << 20).tokenIds(), label);
            if (!holdsSpecialStrings(List.of(ChatMessage.user(text)))) {
                assertArrayEquals(hf, raw.format(PromptInput.text(text), 1, 1 << 20).tokenIds(), label);
            }
            compared++;
        }
        assertTrue(compared > 5);
    }

    @Test
    void injectedSpecialStringsAreTextWhereHuggingFaceMakesThemTokens() throws Exception {
        // apply_chat_template parses "</s>" in a message as EOS; we keep it text, unless allowed.
        JsonNode conversation = conversationsByName().get("special-token-strings-in-content");
        List<ChatMessage> messages = JinjaParityTest.messages(conversation);
        PromptFormatter safe = new PromptFormatter(tokenizer, null, PromptOptions.defaults().withTemplate("llama-2-chat"));
        int[] ids = safe.format(PromptInput.messages(messages), 1, 1 << 20).tokenIds();
        assertEquals(1, count(ids, tokenizer.bosId()), "only the template's BOS");
        assertEquals(0, count(ids, tokenizer.eosId()), "no EOS from the data");
        PromptFormatter allowing = new PromptFormatter(tokenizer, null,
                PromptOptions.defaults().withTemplate("llama-2-chat").withAllowSpecialTokensInContent(true));
        int[] allowed = allowing.format(PromptInput.messages(messages), 1, 1 << 20).tokenIds();
        assertEquals(2, count(allowed, tokenizer.bosId()));
        assertEquals(1, count(allowed, tokenizer.eosId()));
        for (JsonNode c : golden.get("cases")) {
            if (c.get("template").asText().equals("llama-2-chat") && c.get("conversation").asText().equals("special-token-strings-in-content")) {
                assertArrayEquals(expectedIds(c.get("ids")), allowed, "allowing special tokens gives Hugging Face's ids");
            }
        }
    }

    /** Whether any message holds the text of a special token of the tokenizer (all of them: ids below 3 here). */
    private static boolean holdsSpecialStrings(List<ChatMessage> messages) {
        for (ChatMessage m : messages) {
            for (int id = 0; id < tokenizer.vocabSize(); id++) {
                if (tokenizer.isSpecial(id) && m.content().contains(tokenizer.tokenString(id))) return true;
            }
        }
        return false;
    }

    private static boolean alternates(List<ChatMessage> messages) {
        try {
            ConversationRules.requireAlternating("test", messages);
            return true;
        } catch (PromptException e) {
            return false;
        }
    }

    private static int count(int[] ids, int id) {
        int n = 0;
        for (int x : ids) if (x == id) n++;
        return n;
    }

}
