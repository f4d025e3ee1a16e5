package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a Hugging Face {@code tokenizer.json}, and {@code tokenizer_config.json} beside it when present, into
 * a {@link PipelineTokenizer}: as written ({@link TokenizerMode#FILES}), or as transformers 5 rebuilds a Llama
 * tokenizer ({@link TokenizerMode#TRANSFORMERS5}).
 */
final class TokenizerJson {

    /**
     * Tokenizer classes whose transformers fast tokenizer rebuilds the post-processor from {@code add_bos_token}
     * and {@code add_eos_token} (LlamaTokenizerFast.update_post_processor and its relatives), replacing whatever
     * tokenizer.json declares, so BOS is never added twice.
     */
    private static final Set<String> FLAG_DRIVEN_CLASSES = Set.of("LlamaTokenizer", "LlamaTokenizerFast",
            "CodeLlamaTokenizer", "CodeLlamaTokenizerFast", "GemmaTokenizer", "GemmaTokenizerFast");

    /**
     * Llama tokenizer classes, which transformers 5 (in {@link TokenizerMode#TRANSFORMERS5}) rebuilds around tokenizer.json's vocabulary and merges
     * (normaliser, pre-tokenizer and decoder replaced; see {@link #llamaSpacing}), mapped to whether their
     * {@code "legacy"} setting counts: LlamaTokenizer reads it, CodeLlamaTokenizer ignores it.
     */
    private static final Map<String, Boolean> LLAMA_CLASSES = Map.of("LlamaTokenizer", true, "LlamaTokenizerFast", true,
            "CodeLlamaTokenizer", false, "CodeLlamaTokenizerFast", false);

    /** Default tokenizer class (when tokenizer_config.json names none) of the model types we know. */
    private static final Map<String, String> DEFAULT_CLASSES = Map.of("llama", "LlamaTokenizerFast",
            "mistral", "LlamaTokenizerFast", "mixtral", "LlamaTokenizerFast", "gemma", "GemmaTokenizerFast");

    private TokenizerJson() {
    }

    static Tokenizer load(Path tokenizerJson, TokenizerMode mode) {
        ObjectMapper json = new ObjectMapper();
        JsonNode root = read(json, tokenizerJson);
        Path configFile = tokenizerJson.resolveSibling("tokenizer_config.json");
        JsonNode config = Files.exists(configFile) ? read(json, configFile) : json.createObjectNode();
        try {
            return new PipelineTokenizer(parts(root, config, tokenizerClass(json, config, tokenizerJson.resolveSibling("config.json")), mode));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(tokenizerJson + ": " + e.getMessage(), e);
        }
    }

    /**
     * The tokenizer class transformers would load: the one tokenizer_config.json names, or else the default
     * class of config.json's model_type; null when neither says.
     */
    private static String tokenizerClass(ObjectMapper json, JsonNode config, Path modelConfig) {
        String cls = JsonFields.text(config, "tokenizer_class", null);
        if (cls != null || !Files.exists(modelConfig)) return cls;
        return DEFAULT_CLASSES.get(JsonFields.text(read(json, modelConfig), "model_type", ""));
    }

    static PipelineTokenizer.Parts parts(JsonNode root, JsonNode config, String tokenizerClass, TokenizerMode mode) {
        boolean flagDriven = tokenizerClass != null && FLAG_DRIVEN_CLASSES.contains(tokenizerClass);
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
        Normalizer normalizer = Normalizer.fromJson(root.get("normalizer"));
        PreTokenizer preTokenizer = PreTokenizer.fromJson(root.get("pre_tokenizer"));
        Decoder decoder = Decoder.fromJson(root.get("decoder"));
        // In FILES mode tokenizer.json keeps its own normaliser (Llama-2's Prepend("▁") + Replace(" ", "▁") puts ▁
        // before every piece of text, also after a special token and before a leading space): that is
        // SentencePiece's encoding, which Llama-2 was trained on, whatever "legacy" says.
        if (mode == TokenizerMode.TRANSFORMERS5 && tokenizerClass != null && LLAMA_CLASSES.containsKey(tokenizerClass)) {
            Metaspace.PrependScheme scheme = llamaSpacing(config, LLAMA_CLASSES.get(tokenizerClass));
            // tokenizer.json's Prepend("▁") + Replace(" ", "▁") normaliser prefixes every piece of text, also a
            // piece that already starts with a space; transformers 5 drops it for a Metaspace pre-tokenizer (split
            // off), which prefixes only a piece not starting with a space, and decodes with Replace, ByteFallback,
            // Fuse and (when it prefixed anything) Strip one leading space.
            normalizer = text -> text;
            preTokenizer = new Metaspace("\u2581", scheme, false);
            decoder = llamaDecoder(scheme != Metaspace.PrependScheme.NEVER);
        }
        return new PipelineTokenizer.Parts(normalizer, preTokenizer, bpe, decoder, added, post, bos, eos);
    }

    /**
     * The Metaspace prepend scheme transformers 5 gives a Llama-class tokenizer: "never" when
     * {@code add_prefix_space} is false; else "always" (▁ before the text at the start and after every special
     * token) when the class reads {@code legacy} and it is true; else "first" (▁ only before the text at offset 0).
     * Absent or null {@code legacy} and {@code add_prefix_space} take transformers 5's defaults, false and true.
     */
    private static Metaspace.PrependScheme llamaSpacing(JsonNode config, boolean readsLegacy) {
        if (isFalse(config.get("add_prefix_space"))) return Metaspace.PrependScheme.NEVER;
        JsonNode legacy = config.get("legacy");
        boolean isLegacy = readsLegacy && legacy != null && !legacy.isNull() && legacy.asBoolean();
        return isLegacy ? Metaspace.PrependScheme.ALWAYS : Metaspace.PrependScheme.FIRST;
    }

    /** transformers 5's Llama decoder: ▁ to space, byte tokens to bytes, joined, one leading space stripped if prefixed. */
    private static Decoder llamaDecoder(boolean stripPrefix) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode sequence = json.createObjectNode().put("type", "Sequence");
        ArrayNode steps = sequence.putArray("decoders");
        ObjectNode replace = steps.addObject().put("type", "Replace").put("content", " ");
        replace.putObject("pattern").put("String", "\u2581");
        steps.addObject().put("type", "ByteFallback");
        steps.addObject().put("type", "Fuse");
        if (stripPrefix) steps.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        return Decoder.fromJson(sequence);
    }

    /** Only an explicit JSON {@code false}: absent or null means the default, true. */
    private static boolean isFalse(JsonNode node) {
        return node != null && node.isBoolean() && !node.booleanValue();
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
