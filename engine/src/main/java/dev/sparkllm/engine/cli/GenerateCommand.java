package dev.sparkllm.engine.cli;

import dev.sparkllm.engine.Engines;
import dev.sparkllm.engine.api.GenerationEngine;
import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.api.RequestHandle;
import dev.sparkllm.engine.api.TokenListener;
import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.prompt.FormattedPrompt;
import dev.sparkllm.engine.prompt.MessagesJson;
import dev.sparkllm.engine.prompt.Preset;
import dev.sparkllm.engine.prompt.PromptException;
import dev.sparkllm.engine.prompt.PromptFormatter;
import dev.sparkllm.engine.prompt.PromptInput;
import dev.sparkllm.engine.prompt.PromptOptions;
import dev.sparkllm.engine.prompt.RenderLimits;
import dev.sparkllm.engine.sampling.SamplingParams;
import dev.sparkllm.engine.sampling.SamplingSettings;
import dev.sparkllm.engine.tokenizer.Tokenizer;
import dev.sparkllm.engine.tokenizer.TokenizerLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code llm generate}: prompts or conversations in, generations out (plain text, or JSON lines). */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text for prompts (--prompt, --prompts-file) or conversations (--messages-file).")
final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model directory (GPTQ, fp16 or bf16)")
    Path model;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "a prompt (repeatable)")
    List<String> prompts = new ArrayList<>();

    @Option(names = "--prompts-file", paramLabel = "FILE", description = "one prompt per line")
    Path promptsFile;

    @Option(names = "--messages-file", paramLabel = "FILE",
            description = "JSON lines, each a conversation: [{\"role\": \"system|user|assistant\", \"content\": \"...\"}, ...]")
    Path messagesFile;

    @Option(names = "--template", paramLabel = "NAME|FILE",
            description = "prompt template: raw, llama-2-chat, system-user-assistant, model (the model's chat_template), or a template file")
    String template;

    @Option(names = "--system-prompt", paramLabel = "TEXT", description = "system prompt for templates that have one")
    String systemPrompt;

    @Option(names = "--preset", paramLabel = "NAME|FILE", description = "generation preset (conf/presets): template, system prompt, sampling")
    String preset;

    @Option(names = "--truncate", paramLabel = "MODE", defaultValue = "start",
            description = "prompts longer than the context: 'start' drops the start of the content (default), 'fail' fails the prompt")
    String truncate;

    @Option(names = "--allow-special-tokens", description = "let special-token strings in prompts become control tokens")
    boolean allowSpecialTokens;

    @Mixin
    SamplingFlags sampling;

    @Option(names = "--json", description = "one JSON object per prompt instead of plain text")
    boolean json;

    @Option(names = "--show-prompt", description = "print the rendered prompt (with --json: a field rendered_prompt)")
    boolean showPrompt;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEVICE",
            description = "cpu (default), cuda (GPU 0), cuda:N, or auto (the GPU when there is one, else the CPU)")
    String device;

    @Option(names = "--engine-option", paramLabel = "KEY=VALUE", description = "engine option, e.g. threads=2, max_batch=64,"
            + " template_timeout_ms=5000 and template_max_chars=4000000 (limits on rendering one prompt's template) (repeatable)")
    Map<String, String> engineOptions = new LinkedHashMap<>();

    @Mixin
    TokenizerModeFlag tokenizerMode;

    @Override
    public Integer call() throws Exception {
        List<PromptInput> inputs = readInputs();
        if (inputs.isEmpty()) throw new IllegalArgumentException("no prompts: give --prompt, --prompts-file or --messages-file");

        ModelDirectory modelDir = ModelDirectory.open(model);
        Tokenizer tokenizer = TokenizerLoader.load(model, tokenizerMode.resolve(engineOptions));
        Preset chosen = preset == null ? null : Preset.load(preset);
        SamplingSettings fromPreset = chosen == null ? SamplingSettings.none() : chosen.sampling();
        SamplingParams params = fromPreset.overriddenBy(sampling.settings()).resolve(modelDir.generationConfig());
        // Prompt settings: the preset's, then the flags given on the command line.
        PromptOptions promptOptions = chosen == null ? PromptOptions.defaults() : chosen.applyTo(PromptOptions.defaults());
        if (template != null) promptOptions = promptOptions.withTemplate(template);
        if (systemPrompt != null) promptOptions = promptOptions.withSystemPrompt(systemPrompt);
        promptOptions = promptOptions.withTruncation(truncation(truncate)).withAllowSpecialTokensInContent(allowSpecialTokens)
                .withRenderLimits(RenderLimits.fromOptions(engineOptions));
        PromptFormatter formatter = new PromptFormatter(tokenizer, model, promptOptions);

        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        int failed = 0;
        try (GenerationEngine engine = Engines.open(modelDir, tokenizer, device, engineOptions)) {
            boolean stream = !json && inputs.size() == 1;
            List<Object> pending = new ArrayList<>();    // a RequestHandle, or the PromptException of a bad prompt
            List<FormattedPrompt> formatted = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
                try {
                    FormattedPrompt fp = formatter.format(inputs.get(i), params.maxNewTokens(), engine.contextLength());
                    if (showPrompt && !json) out.println("--- prompt " + (i + 1) + " ---\n" + fp.renderedText());
                    TokenListener listener = stream ? (id, token, delta) -> out.print(delta) : null;
                    pending.add(engine.submit(new GenerationRequest(String.valueOf(i + 1), fp.tokenIds(), params), listener));
                    formatted.add(fp);
                } catch (PromptException e) {
                    pending.add(e);
                    formatted.add(null);
                }
            }
            for (int i = 0; i < pending.size(); i++) {
                if (pending.get(i) instanceof PromptException e) {
                    failed++;
                    if (json) out.println(JsonOutput.error(inputs.get(i), e.getMessage()));
                    else System.err.println("prompt " + (i + 1) + " failed: " + e.getMessage());
                    continue;
                }
                GenerationResult r = ((RequestHandle) pending.get(i)).await();
                if (json) {
                    out.println(JsonOutput.result(inputs.get(i), formatted.get(i), r, showPrompt, tokenizer));
                } else if (stream) {
                    out.println();
                } else {
                    out.println("--- " + (i + 1) + " (" + r.finishReason().wireName() + ", " + r.tokenIds().length + " tokens) ---");
                    out.println(r.text());
                }
                if (r.error() != null) failed++;
            }
        }
        return failed == 0 ? 0 : 3;
    }

    private List<PromptInput> readInputs() throws java.io.IOException {
        List<PromptInput> inputs = new ArrayList<>();
        for (String p : prompts) inputs.add(new PromptInput.Text(p));
        if (promptsFile != null) {
            for (String line : Files.readAllLines(promptsFile, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) inputs.add(new PromptInput.Text(line));
            }
        }
        if (messagesFile != null) inputs.addAll(MessagesJson.readLines(messagesFile));
        return inputs;
    }

    static PromptOptions.Truncation truncation(String mode) {
        return switch (mode) {
            case "start" -> PromptOptions.Truncation.DROP_START_OF_CONTENT;
            case "fail" -> PromptOptions.Truncation.FAIL;
            default -> throw new IllegalArgumentException("--truncate must be 'start' or 'fail', got '" + mode + "'");
        };
    }
}
