package dev.sparkllm.engine.prompt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Finds a template by name: {@code raw}, {@code llama-2-chat}, {@code system-user-assistant}, {@code model}
 * (the model directory's own {@code chat_template}; {@code model:NAME} picks one of several named ones), or a
 * file: {@code .jinja}/{@code .j2} files are Jinja chat templates, any other file a placeholder template
 * ({@link PlaceholderTemplate}).
 */
public final class ChatTemplates {

    public static final String MODEL = "model";

    private static final List<String> NAMES = List.of(RawTemplate.NAME, Llama2ChatTemplate.NAME,
            SystemUserAssistantTemplate.NAME, MODEL);

    private static final List<String> SPECIAL_TOKEN_KEYS = List.of("bos_token", "eos_token", "unk_token",
            "pad_token", "sep_token", "cls_token", "mask_token");

    private ChatTemplates() {
    }

    /** The template names besides file paths. */
    public static List<String> names() {
        return NAMES;
    }

    /** {@link #resolve(String, Path, RenderLimits)} with the default limits. */
    public static ChatTemplate resolve(String nameOrPath, Path modelDir) {
        return resolve(nameOrPath, modelDir, RenderLimits.defaults());
    }

    /**
     * @param nameOrPath a name from {@link #names()}, {@code model:NAME}, or a template file
     * @param modelDir   the model directory (for {@code model} and the special-token variables), may be null
     * @param limits     time and output-size limits for Jinja templates, which can loop (the others only copy
     *                   their content once, and PromptFormatter checks their output's size)
     * @throws IllegalArgumentException naming the template when it is unknown, missing or malformed
     */
    public static ChatTemplate resolve(String nameOrPath, Path modelDir, RenderLimits limits) {
        String name = nameOrPath == null || nameOrPath.isBlank() ? RawTemplate.NAME : nameOrPath.strip();
        switch (name) {
            case RawTemplate.NAME:
                return new RawTemplate();
            case Llama2ChatTemplate.NAME:
                return new Llama2ChatTemplate();
            case SystemUserAssistantTemplate.NAME:
                return new SystemUserAssistantTemplate();
            default:
                break;
        }
        if (name.equals(MODEL) || name.startsWith(MODEL + ":")) {
            String which = name.equals(MODEL) ? null : name.substring(MODEL.length() + 1);
            return modelTemplate(modelDir, which, limits);
        }
        Path file = Path.of(name);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("template '" + name + "' is neither a template name " + NAMES
                    + " nor an existing file");
        }
        String lower = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (lower.endsWith(".jinja") || lower.endsWith(".j2")) {
            return new JinjaChatTemplate(file.toString(), read(file), specialTokens(modelDir), limits);
        }
        return PlaceholderTemplate.load(file);
    }

    /** The model's own chat template: {@code chat_template.jinja}, else {@code chat_template} in tokenizer_config.json. */
    static JinjaChatTemplate modelTemplate(Path modelDir, String which, RenderLimits limits) {
        if (modelDir == null) {
            throw new IllegalArgumentException("template 'model' needs a model directory to read its chat_template from");
        }
        Path jinjaFile = modelDir.resolve("chat_template.jinja");
        if (which == null && Files.isRegularFile(jinjaFile)) {
            return new JinjaChatTemplate(MODEL + " (" + jinjaFile + ")", read(jinjaFile), specialTokens(modelDir), limits);
        }
        JsonNode config = tokenizerConfig(modelDir);
        JsonNode template = config == null ? null : config.get("chat_template");
        if (template == null || template.isNull()) {
            throw new IllegalArgumentException("template 'model': " + modelDir + " has no chat_template (neither"
                    + " chat_template.jinja nor chat_template in tokenizer_config.json); choose one of "
                    + NAMES.subList(0, 3) + " or a template file");
        }
        String source;
        String label = MODEL;
        if (template.isTextual()) {
            if (which != null) {
                throw new IllegalArgumentException("template '" + MODEL + ":" + which + "': " + modelDir
                        + " has a single chat_template; use 'model'");
            }
            source = template.asText();
        } else {
            Map<String, String> named = new LinkedHashMap<>();
            for (JsonNode t : template) named.put(t.path("name").asText(), t.path("template").asText());
            String pick = which != null ? which : "default";
            source = named.get(pick);
            if (source == null) {
                throw new IllegalArgumentException("template '" + (which == null ? MODEL : MODEL + ":" + which)
                        + "': " + modelDir + " has chat templates " + new ArrayList<>(named.keySet())
                        + "; choose one as model:NAME");
            }
            label = MODEL + ":" + pick;
        }
        return new JinjaChatTemplate(label, source, specialTokens(modelDir), limits);
    }

    /** bos_token, eos_token, ... from tokenizer_config.json, as strings (they may be stored as AddedToken objects). */
    static Map<String, String> specialTokens(Path modelDir) {
        Map<String, String> out = new LinkedHashMap<>();
        JsonNode config = modelDir == null ? null : tokenizerConfig(modelDir);
        if (config == null) return out;
        for (String key : SPECIAL_TOKEN_KEYS) {
            JsonNode v = config.get(key);
            if (v == null || v.isNull()) continue;
            String text = v.isTextual() ? v.asText() : v.path("content").asText(null);
            if (text != null) out.put(key, text);
        }
        return out;
    }

    private static JsonNode tokenizerConfig(Path modelDir) {
        Path file = modelDir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(file)) return null;
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read template file " + file + ": " + e.getMessage(), e);
        }
    }
}
