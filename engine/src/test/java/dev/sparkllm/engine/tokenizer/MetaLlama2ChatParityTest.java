package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkllm.engine.prompt.ChatMessage;
import dev.sparkllm.engine.prompt.PromptFormatter;
import dev.sparkllm.engine.prompt.PromptInput;
import dev.sparkllm.engine.prompt.PromptOptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built-in {@code llama-2-chat} template against Meta's reference {@code chat_completion} (llama/generation.py):
 * every turn's text encoded on its own with BOS before it, EOS after each finished answer. The oracle runs that
 * algorithm on Hugging Face {@code tokenizers} with the real Llama-2 vocabulary for the conversations of
 * {@code tokenizer/llama2_chat_conversations.json} (system prompt or none, multi-turn, whitespace, code,
 * special-token strings in content, Unicode); our ids must be the same from Meta's tokenizer files read in the
 * default mode, whatever their {@code legacy} says, from tokenizer.json alone, and from tokenizer.model alone.
 */
class MetaLlama2ChatParityTest {

    /** {@code <s>▁[INST]} on the real Llama-2 vocabulary: how every turn of Meta's format starts. */
    private static final int[] TURN_START = {1, 518, 25580, 29962};

    @TestFactory
    List<DynamicTest> llama2ChatGivesMetasIds() {
        JsonNode cases = NodeOracle.expected().path("llama2Chat").path("cases");
        assertTrue(cases.size() >= 10, "the oracle computed " + cases.size() + " conversations");
        List<DynamicTest> tests = new ArrayList<>();
        for (String dir : List.of("tokenizer.json with legacy:false config", "tokenizer.json alone", "tokenizer.model alone")) {
            PromptFormatter formatter = llama2Chat(TokenizerLoader.load(modelDir(dir)));
            for (JsonNode c : cases) {
                tests.add(DynamicTest.dynamicTest(dir + ": " + c.path("name").asText(), () -> {
                    int[] meta = NodeOracle.ints(c.path("ids"));
                    int[] ours = formatter.format(PromptInput.messages(messages(c)), 1, 1 << 20).tokenIds();
                    assertArrayEquals(meta, ours, "ids of " + c.path("messages"));
                    assertArrayEquals(TURN_START, Arrays.copyOf(ours, 4), "a turn starts <s>▁[INST]");
                }));
            }
        }
        return tests;
    }

    /** Each [INST] turn starts with 1, 518, 25580, 29962, also after an answer's EOS; answers end "▁ </s>". */
    @Test
    void everyTurnStartsWithBosAndSpaceMarkedInst() {
        PromptFormatter formatter = llama2Chat(TokenizerLoader.load(NodeOracle.llama2Dir()));
        int[] ids = formatter.format(PromptInput.messages(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi"),
                ChatMessage.assistant("Hello."), ChatMessage.user("Bye"))), 1, 1 << 20).tokenIds();
        int turns = 0;
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] != 1) continue;
            assertArrayEquals(TURN_START, Arrays.copyOfRange(ids, i, i + 4), "turn at " + i + " of " + Arrays.toString(ids));
            if (i > 0) assertArrayEquals(new int[]{29871, 2}, Arrays.copyOfRange(ids, i - 2, i), "the answer ends ▁ </s>");
            turns++;
        }
        assertEquals(2, turns);
    }

    /** transformers 5's reading, kept as an option, drops the ▁ after {@code <s>}: the ids differ from Meta's. */
    @Test
    void transformers5ModeIsTheOptInThatDiffers() {
        PromptFormatter formatter = llama2Chat(TokenizerLoader.load(NodeOracle.llama2Dir(), TokenizerMode.TRANSFORMERS5));
        int[] ids = formatter.format(PromptInput.text("Hello"), 1, 1 << 20).tokenIds();
        assertArrayEquals(new int[]{1, 29961, 25580, 29962}, Arrays.copyOf(ids, 4), "<s>[INST] as transformers 5 encodes it");
    }

    private static Path modelDir(String which) {
        return switch (which) {
            case "tokenizer.json with legacy:false config" -> NodeOracle.llama2Dir();
            case "tokenizer.json alone" -> NodeOracle.llama2RawDir();
            default -> NodeOracle.llama2SpmDir();
        };
    }

    private static PromptFormatter llama2Chat(Tokenizer tokenizer) {
        return new PromptFormatter(tokenizer, null, PromptOptions.defaults().withTemplate("llama-2-chat"));
    }

    private static List<ChatMessage> messages(JsonNode c) {
        List<ChatMessage> out = new ArrayList<>();
        for (JsonNode m : c.path("messages")) out.add(new ChatMessage(m.path("role").asText(), m.path("content").asText()));
        return out;
    }
}
