package dev.sparkllm.udf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkllm.engine.Engines;
import dev.sparkllm.engine.api.GenerationEngine;
import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.checkpoint.GenerationConfig;
import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.prompt.ChatMessage;
import dev.sparkllm.engine.prompt.FormattedPrompt;
import dev.sparkllm.engine.prompt.Preset;
import dev.sparkllm.engine.prompt.PromptFormatter;
import dev.sparkllm.engine.prompt.PromptInput;
import dev.sparkllm.engine.prompt.PromptOptions;
import dev.sparkllm.engine.prompt.RenderLimits;
import dev.sparkllm.engine.sampling.SamplingParams;
import dev.sparkllm.engine.sampling.SamplingSettings;
import dev.sparkllm.engine.tokenizer.TokenizerLoader;
import dev.sparkllm.engine.tokenizer.TokenizerMode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The real binding: the engine from {@code Engines.open}, prompts through {@link PromptFormatter}, sampling
 * resolved row &gt; job (command line) &gt; preset &gt; the model's {@code generation_config.json} by
 * {@link SamplingSettings}, and each row's seed derived from the job seed and its id unless the row brings one.
 */
public final class EngineBinding implements GenerationBinding {

    /** Written by the driver beside a remote model's small files: the weights were not copied. */
    public static final String REMOTE_LISTING = ".sparkllm-remote-listing";

    @Override
    public GenerationEngine openEngine(Path localModelDir, String device, Map<String, String> options) {
        return Engines.open(localModelDir, device, options);
    }

    @Override
    public RowRequestFactory requestFactory(GenerationEngine engine, Path localModelDir, GenerationSettings settings)
            throws IOException {
        Preset preset = settings.preset() == null ? null : Preset.load(settings.preset());
        PromptFormatter formatter = new PromptFormatter(engine.tokenizer(), localModelDir, promptOptions(settings, preset));
        GenerationConfig modelDefaults = generationConfig(localModelDir);
        SamplingSettings jobLevel = jobSampling(settings, preset);
        int context = engine.contextLength();
        return row -> {
            SamplingParams params;
            try {
                params = jobLevel.overriddenBy(SamplingSettings.fromMap(row.rowParams())).resolve(modelDefaults);
            } catch (IllegalArgumentException e) {
                throw new RowInputException(e.getMessage());
            }
            if (params.seed() == null && settings.jobSeed() != null && !row.rowParams().containsKey("seed")) {
                params = params.withSeed(RowSeeds.derive(settings.jobSeed(), row.id()));
            }
            FormattedPrompt prompt;
            try {
                prompt = formatter.format(input(row), params.maxNewTokens(), context);
            } catch (IllegalArgumentException e) { // PromptException included: the row's content is at fault
                throw new RowInputException(e.getMessage());
            }
            return new RowRequestFactory.PreparedRequest(new GenerationRequest(row.id(), prompt.tokenIds(), params),
                    prompt.truncated(), SamplingSettings.of(params).toMap());
        };
    }

    @Override
    public String checkOnDriver(Path localModelDir, GenerationSettings settings) throws IOException {
        boolean remote = Files.exists(localModelDir.resolve(REMOTE_LISTING));
        String fingerprint;
        GenerationConfig modelDefaults;
        int positions;
        int vocab;
        if (remote) {
            fingerprint = "remote:" + sha256(localModelDir, REMOTE_LISTING, "config.json", "quantize_config.json");
            modelDefaults = GenerationConfig.empty();
            JsonNode config = readConfig(localModelDir.resolve("config.json"), settings);
            positions = config.path("max_position_embeddings").asInt(2048);
            vocab = config.path("vocab_size").asInt(Integer.MAX_VALUE);
        } else {
            try (ModelDirectory model = ModelDirectory.open(localModelDir)) {
                fingerprint = model.fingerprint();
                modelDefaults = model.generationConfig();
                positions = model.config().maxPositionEmbeddings();
                vocab = model.config().vocabSize();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("model " + settings.modelUri() + ": " + e.getMessage(), e);
            }
        }
        Preset preset = settings.preset() == null ? null : Preset.load(settings.preset());
        new PromptFormatter(TokenizerLoader.load(localModelDir, TokenizerMode.fromOptions(settings.engineOptions())),
                localModelDir, promptOptions(settings, preset));
        // Throws naming every out-of-range job-level value; then the values the model itself bounds.
        SamplingParams params = jobSampling(settings, preset).resolve(modelDefaults);
        checkAgainstModel(params, contextLength(settings, positions), vocab);
        return fingerprint;
    }

    /** The context a request gets: the engine option context_length when given, else max_position_embeddings. */
    static int contextLength(GenerationSettings s, int maxPositions) {
        String v = s.engineOptions().get("context_length");
        if (v == null || v.isBlank()) return maxPositions;
        try {
            int n = Integer.parseInt(v.trim());
            return n > 0 ? Math.min(n, maxPositions) : maxPositions;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("engine option context_length must be a whole number, got '" + v + "'");
        }
    }

    /**
     * Job-level values that no row could ever use are refused as options, not turned into an error on every row:
     * max_new_tokens must leave room for at least one prompt token in the context, and stop token ids must be
     * in the model's vocabulary.
     */
    static void checkAgainstModel(SamplingParams p, int context, int vocab) {
        if (p.maxNewTokens() >= context) {
            throw new IllegalArgumentException("max_new_tokens " + p.maxNewTokens() + " does not fit the model's context of "
                    + context + " tokens (max_position_embeddings in config.json, or the engine option context_length) "
                    + "with even a one-token prompt; use at most " + (context - 1));
        }
        for (int id : p.stopTokenIds()) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("stop token id " + id + " is outside the model's vocabulary 0.."
                        + (vocab - 1) + " (vocab_size in config.json); no token can ever match it");
            }
        }
    }

    private static JsonNode readConfig(Path file, GenerationSettings s) throws IOException {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException("model " + s.modelUri() + ": config.json is not readable JSON: " + e.getMessage(), e);
        }
    }

    /** Explicit template and system prompt win over the preset's; the template's limits are engine options. */
    static PromptOptions promptOptions(GenerationSettings s, Preset preset) {
        PromptOptions base = preset == null ? PromptOptions.defaults() : preset.applyTo(PromptOptions.defaults());
        if (s.template() != null) base = base.withTemplate(s.template());
        if (s.systemPrompt() != null) base = base.withSystemPrompt(s.systemPrompt());
        return base.withTruncation(s.failTooLongPrompts() ? PromptOptions.Truncation.FAIL
                        : PromptOptions.Truncation.DROP_START_OF_CONTENT)
                .withAllowSpecialTokensInContent(s.allowSpecialTokensInContent())
                .withRenderLimits(RenderLimits.fromOptions(s.engineOptions()));
    }

    /** The preset's sampling overridden by the job's own options (logprobs included). */
    static SamplingSettings jobSampling(GenerationSettings s, Preset preset) {
        Map<String, Object> values = new LinkedHashMap<>(s.sampling());
        if (values.get("stop") instanceof String stops) values.put("stop", List.of(stops.split("\u0000")));
        if (s.logprobs() >= 0) values.put("logprobs", s.logprobs());
        SamplingSettings job = SamplingSettings.fromMap(values);
        return preset == null ? job : preset.sampling().overriddenBy(job);
    }

    private static PromptInput input(RowInput row) {
        if (row.prompt() != null) return PromptInput.text(row.prompt());
        List<ChatMessage> messages = new ArrayList<>(row.messages().size());
        for (RowInput.ChatTurn t : row.messages()) messages.add(new ChatMessage(t.role(), t.content()));
        return PromptInput.messages(messages);
    }

    private static GenerationConfig generationConfig(Path dir) {
        if (Files.exists(dir.resolve(REMOTE_LISTING))) return GenerationConfig.empty();
        try (ModelDirectory model = ModelDirectory.open(dir)) {
            return model.generationConfig();
        }
    }

    private static String sha256(Path dir, String... names) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String n : names) {
                Path p = dir.resolve(n);
                sha.update(n.getBytes(StandardCharsets.UTF_8));
                if (Files.exists(p)) sha.update(Files.readAllBytes(p));
            }
            return HexFormat.of().formatHex(Arrays.copyOf(sha.digest(), 8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
