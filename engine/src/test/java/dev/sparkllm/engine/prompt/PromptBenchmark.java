package dev.sparkllm.engine.prompt;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkllm.engine.testing.TestModels;
import dev.sparkllm.engine.tokenizer.Tokenizer;
import dev.sparkllm.engine.tokenizer.TokenizerLoader;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Host-side cost of rendering one prompt (system prompt plus a 3-turn conversation) with each kind of template,
 * and of formatting it (render and tokenize with the bundled model's tokenizer, with and without truncation),
 * for the benchmark record; not a test. Jinja templates render twice per prompt (plain and content-marked).
 * Run:
 * <pre>
 * mvn -q -o -pl engine test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=dev.sparkllm.engine.prompt.PromptBenchmark
 * </pre>
 */
public final class PromptBenchmark {

    private PromptBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        var templates = TestModels.repoDir().resolve("engine/src/test/resources/templates");
        Map<String, String> tokens = Map.of("bos_token", "<s>", "eos_token", "</s>");
        List<ChatTemplate> cases = List.of(
                new Llama2ChatTemplate(),
                new SystemUserAssistantTemplate(),
                new JinjaChatTemplate("llama-2-chat.jinja", Files.readString(templates.resolve("llama-2-chat.jinja")), tokens),
                new JinjaChatTemplate("chatml.jinja", Files.readString(templates.resolve("chatml.jinja")), tokens));
        List<ChatMessage> conversation = List.of(
                ChatMessage.system("You are a helpful, respectful and honest assistant. ".repeat(8)),
                ChatMessage.user("In the beginning God created the heaven and the earth. ".repeat(10)),
                ChatMessage.assistant("And the earth was without form, and void. ".repeat(5)),
                ChatMessage.user("What came next?"));
        System.out.printf("ChatTemplate.render, system prompt + 3 turns, %d characters%n",
                conversation.stream().mapToInt(m -> m.content().length()).sum());
        for (ChatTemplate t : cases) {
            for (int i = 0; i < 3000; i++) t.render(conversation, true);  // warm-up
            int calls = 10000;
            long start = System.nanoTime();
            long sink = 0;
            for (int i = 0; i < calls; i++) sink += t.render(conversation, true).pieces().size();
            double micros = (System.nanoTime() - start) / 1e3 / calls;
            System.out.printf("  %-30s %8.1f us/prompt (checksum %d)%n", t.name(), micros, sink);
        }

        // Render and tokenize with the bundled model's tokenizer; then a prompt 4x over the budget (truncation).
        Tokenizer tokenizer = TokenizerLoader.load(TestModels.bundledModel());
        Path modelDir = Files.createTempDirectory("prompt-benchmark");
        Files.writeString(modelDir.resolve("tokenizer_config.json"), new ObjectMapper().writeValueAsString(
                Map.of("bos_token", "<s>", "eos_token", "</s>", "chat_template",
                        Files.readString(templates.resolve("llama-2-chat.jinja")))));
        PromptInput input = PromptInput.messages(conversation);
        for (String template : List.of("llama-2-chat", "model")) {
            PromptFormatter f = new PromptFormatter(tokenizer, modelDir, PromptOptions.defaults().withTemplate(template));
            int fullLength = f.format(input, 0, 1 << 20).length();
            for (int budget : new int[]{1 << 20, fullLength - 100}) {
                for (int i = 0; i < 300; i++) f.format(input, 0, budget);  // warm-up
                int calls = budget == 1 << 20 ? 3000 : 300;
                long start = System.nanoTime();
                long sink = 0;
                for (int i = 0; i < calls; i++) sink += f.format(input, 0, budget).length();
                double micros = (System.nanoTime() - start) / 1e3 / calls;
                System.out.printf("  format %-14s %-16s %8.1f us/prompt (%d of %d tokens)%n", template,
                        budget == 1 << 20 ? "fits" : "truncated", micros, sink / calls, fullLength);
            }
        }
    }
}
