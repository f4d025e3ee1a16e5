package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads a Hugging Face {@code tokenizer.json}, and {@code tokenizer_config.json} beside it when present, into
 * a {@link PipelineTokenizer}.
 */
final class TokenizerJson {

    /**
     * Tokenizer classes whose transformers fast tokenizer rebuilds the post-processor from {@code add_bos_token}
     * and {@code add_eos_token} (LlamaTokenizerFast.update_post_processor and its relatives), replacing whatever
     * tokenizer.json declares, so BOS is never added twice.
     */
    private static final Set<String> FLAG_DRIVEN_CLASSES = Set.of("LlamaTokenizer", "LlamaTokenizerFast",
            "CodeLlamaTokenizer", "CodeLlamaTokenizerFast", "GemmaTokenizer", "GemmaTokenizerFast");

    /** Model types whose default tokenizer class (when tokenizer_config.json names none) is flag-driven. */
    private static final Set<String> FLAG_DRIVEN_MODEL_TYPES = Set.of("llama", "mistral", "mixtral", "gemma");

    private TokenizerJson() {
    }

    static Tokenizer load(Path tokenizerJson) {
        ObjectMapper json = new ObjectMapper();
        JsonNode root = read(json, tokenizerJson);
        Path configFile = tokenizerJson.resolveSibling("tokenizer_config.json");
        JsonNode config = Files.exists(configFile) ? read(json, configFile) : json.createObjectNode();
        try {
            return new PipelineTokenizer(parts(root, config, flagDriven(json, config, tokenizerJson.resolveSibling("config.json"))));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(tokenizerJson + ": " + e.getMessage(), e);
        }
    }

    /**
     * Whether transformers would load a tokenizer class that rebuilds the post-processor from the config flags:
     * the class tokenizer_config.json names, or else the default class of config.json's model_type.
     */
    private static boolean flagDriven(ObjectMapper json, JsonNode config, Path modelConfig) {
        String cls = JsonFields.text(config, "tokenizer_class", null);
        if (cls != null) return FLAG_DRIVEN_CLASSES.contains(cls);
        if (!Files.exists(modelConfig)) return false;
        return FLAG_DRIVEN_MODEL_TYPES.contains(JsonFields.text(read(json, modelConfig), "model_type", ""));
    }

    static PipelineTokenizer.Parts parts(JsonNode root, JsonNode config, boolean flagDriven) {
        JsonNode model = root.path("model");
        String modelType = JsonFields.text(model, "type", model.has("merges") ? "BPE" : null);
        if (!"BPE".equals(modelType)) {
            throw new IllegalArgumentException("model type '" + modelType + "' is not supported; only BPE tokenizers "
                    + "(Llama family) are");
        }
        BpeModel bpe = BpeModel.fromJson(model);
        List<AddedToken> added = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) added.add(AddedToken.fromJson(t));

        int bos = idOf(JsonFields.tokenContent(config.get("bos_token")), bpe, added, "<s>");
        int eos = idOf(JsonFields.tokenContent(config.get("eos_token")), bpe, added, "</s>");
        PostProcessor post = PostProcessor.fromJson(root.get("post_processor"));
        if (flagDriven) {
            boolean addBos = config.path("add_bos_token").asBoolean(true);
            boolean addEos = config.path("add_eos_token").asBoolean(false);
            if ((addBos && bos < 0) || (addEos && eos < 0)) {
                throw new IllegalArgumentException("tokenizer_config.json asks to add " + (addBos && bos < 0 ? "bos" : "eos")
                        + " but no such token is defined; set bos_token/eos_token or turn the flag off");
            }
            post = new PostProcessor(addBos ? new int[]{bos} : new int[0], addEos ? new int[]{eos} : new int[0]);
        }
        return new PipelineTokenizer.Parts(Normalizer.fromJson(root.get("normalizer")),
                PreTokenizer.fromJson(root.get("pre_tokenizer")), bpe, Decoder.fromJson(root.get("decoder")),
                added, post, bos, eos);
    }

    /** Id of the named token (added tokens first, as Hugging Face looks them up), else of the fallback name, else -1. */
    private static int idOf(String name, BpeModel model, List<AddedToken> added, String fallback) {
        for (String n : new String[]{name, name == null ? fallback : null}) {
            if (n == null) continue;
            for (AddedToken t : added) if (t.content().equals(n)) return t.id();
            int id = model.id(n);
            if (id >= 0) return id;
        }
        return -1;
    }

    private static JsonNode read(ObjectMapper json, Path file) {
        try {
            return json.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
