package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sparkllm.engine.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Loading a model directory: the bundled and shared kjv-tiny models, the BOS/EOS flags of
 * {@code tokenizer_config.json} (which, for Llama tokenizers, replace the post-processor of tokenizer.json as
 * transformers' LlamaTokenizerFast does), tokenizer.json as written in the default mode whatever {@code legacy}
 * says, transformers 5's spacing rules for Llama classes ({@code legacy}, {@code add_prefix_space}) in
 * {@link TokenizerMode#TRANSFORMERS5}, and the error for a directory without tokenizer files.
 */
class TokenizerLoaderTest {

    private static final String TEXT = "In the beginning God created the heaven and the earth.";

    @Test
    void bundledModelAddsBosOnce() {
        Tokenizer tokenizer = TokenizerLoader.load(TestModels.bundledModel());
        assertEquals(1024, tokenizer.vocabSize());
        assertEquals(1, tokenizer.bosId());
        assertEquals(2, tokenizer.eosId());
        assertTrue(tokenizer.addsBos());
        int[] ids = tokenizer.encode(TEXT, true);
        assertEquals(1, ids[0]);
        assertEquals(1, IntStream.of(ids).filter(id -> id == 1).count(), "BOS exactly once");
        assertArrayEquals(tokenizer.encode(TEXT, false), java.util.Arrays.copyOfRange(ids, 1, ids.length));
        assertTrue(tokenizer.isSpecial(1) && tokenizer.isSpecial(2) && !tokenizer.isSpecial(100));
        assertEquals("<0x0A>", tokenizer.tokenString(3 + '\n'));
        assertEquals(3 + '\n', tokenizer.tokenId("<0x0A>"));
        assertEquals(-1, tokenizer.tokenId("no such token"));
    }

    @Test
    void everySharedVariantLoadsTheSameTokenizer() {
        Tokenizer bundled = TokenizerLoader.load(TestModels.bundledModel());
        for (String variant : TestModels.KJV_TINY_VARIANTS) {
            Tokenizer t = TokenizerLoader.load(TestModels.kjvTiny(variant));
            assertArrayEquals(bundled.encode(TEXT, true), t.encode(TEXT, true), variant);
        }
    }

    @Test
    void configFlagsDecideBosAndEos(@TempDir Path dir) throws Exception {
        Tokenizer reference = TokenizerLoader.load(TestModels.bundledModel());
        int[] plain = reference.encode(TEXT, false);
        for (boolean bos : new boolean[]{false, true}) {
            for (boolean eos : new boolean[]{false, true}) {
                Path model = copyWithConfig(dir.resolve(bos + "-" + eos), cfg -> cfg.put("add_bos_token", bos).put("add_eos_token", eos));
                Tokenizer t = TokenizerLoader.load(model);
                int[] expected = IntStream.concat(IntStream.concat(bos ? IntStream.of(1) : IntStream.empty(), IntStream.of(plain)),
                        eos ? IntStream.of(2) : IntStream.empty()).toArray();
                assertArrayEquals(expected, t.encode(TEXT, true), "add_bos_token=" + bos + " add_eos_token=" + eos);
                assertEquals(bos, t.addsBos());
            }
        }
    }

    @Test
    void withoutLlamaTokenizerClassTheTokenizerJsonPostProcessorApplies(@TempDir Path dir) throws Exception {
        // tokenizer.json's TemplateProcessing adds <s>; a non-Llama class does not rebuild it from the flags.
        Path model = copyWithConfig(dir, cfg -> cfg.put("tokenizer_class", "PreTrainedTokenizerFast").put("add_bos_token", false));
        assertEquals(1, TokenizerLoader.load(model).encode(TEXT, true)[0]);
    }

    @Test
    void withoutTokenizerClassTheModelTypeDecides(@TempDir Path dir) throws Exception {
        // No tokenizer_class: transformers picks the model type's default class (LlamaTokenizerFast for llama).
        Path llama = copyWithConfig(dir.resolve("llama"), cfg -> cfg.remove("tokenizer_class"));
        Files.writeString(llama.resolve("tokenizer_config.json"), "{\"add_bos_token\": false}");
        Files.writeString(llama.resolve("config.json"), "{\"model_type\": \"llama\"}");
        assertEquals(false, TokenizerLoader.load(llama).addsBos(), "llama model type: the flag decides");
        Files.writeString(llama.resolve("config.json"), "{\"model_type\": \"gpt2\"}");
        assertEquals(true, TokenizerLoader.load(llama).addsBos(), "other model types: tokenizer.json decides");
    }

    /**
     * The default mode reads tokenizer.json as written whatever tokenizer_config.json says of {@code legacy} or
     * {@code add_prefix_space}, or which Llama class it names: raw tokenizers' ids from
     * golden/transformers_llama_legacy.json for every configuration recorded there (before the modes, the
     * transformers 5 reading was the only one and these differed).
     */
    @Test
    void defaultModeIgnoresLegacyAndMatchesRawTokenizers(@TempDir Path dir) throws Exception {
        JsonNode golden = new ObjectMapper().readTree(NodeOracle.legacyGoldenFile().toFile());
        int checked = 0;
        int differFromTransformers5 = 0;
        for (Map.Entry<String, java.util.function.Consumer<ObjectNode>> e : configEdits().entrySet()) {
            Path model = copyWithConfig(dir.resolve("mode-" + e.getKey()), e.getValue());
            Files.copy(TestModels.bundledModel().resolve("config.json"), model.resolve("config.json"));
            Tokenizer tokenizer = TokenizerLoader.load(model);
            for (Iterator<Map.Entry<String, JsonNode>> it = golden.path("raw").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> c = it.next();
                int[] raw = NodeOracle.ints(c.getValue());
                assertArrayEquals(raw, tokenizer.encode(c.getKey(), true), e.getKey() + ": raw tokenizers ids of " + c.getKey());
                if (golden.has(e.getKey()) && !Arrays.equals(raw, NodeOracle.ints(golden.path(e.getKey()).path(c.getKey())))) {
                    differFromTransformers5++;
                }
                checked++;
            }
        }
        assertTrue(checked >= 5 * 7, "cases checked: " + checked);
        assertTrue(differFromTransformers5 >= 3, "the golden texts should show where transformers 5 differs: " + differFromTransformers5);
    }

    /** tokenizer_config.json edits named as in golden/transformers_llama_legacy.json's modes. */
    private static Map<String, java.util.function.Consumer<ObjectNode>> configEdits() {
        Map<String, java.util.function.Consumer<ObjectNode>> edits = new LinkedHashMap<>();
        edits.put("false", cfg -> cfg.put("legacy", false));
        edits.put("true", cfg -> cfg.put("legacy", true));
        edits.put("absent", cfg -> cfg.remove("legacy"));
        edits.put("codellama_true", cfg -> cfg.put("legacy", true).put("tokenizer_class", "CodeLlamaTokenizer"));
        edits.put("noprefix", cfg -> cfg.put("add_prefix_space", false));
        return edits;
    }

    /**
     * In {@link TokenizerMode#TRANSFORMERS5}: exactly transformers 5.17's ids and decodes (golden/transformers_llama_legacy.json, recorded on the GPU
     * machine by engine/src/test/scripts/transformers_llama_tokenizer_probe.py) for the bundled model with
     * tokenizer_config.json's {@code legacy} false, true and removed (and, where the file has them, a CodeLlama
     * class with legacy true and {@code add_prefix_space} false); and raw tokenizers' ids for its bare tokenizer.json
     * (no config files). Decodes skipping special tokens are the recorded ones where the file has them, else
     * inferred from transformers' decode keeping them: special-token strings removed, then the decoder's Strip
     * of one leading space.
     */
    @Test
    void transformers5ModeFollowsTransformersForEveryLegacySetting(@TempDir Path dir) throws Exception {
        JsonNode golden = new ObjectMapper().readTree(NodeOracle.legacyGoldenFile().toFile());
        Map<String, java.util.function.Consumer<ObjectNode>> edits = configEdits();
        int checked = 0;
        for (Map.Entry<String, java.util.function.Consumer<ObjectNode>> e : edits.entrySet()) {
            String mode = e.getKey();
            if (!golden.has(mode) && !List.of("false", "true", "absent").contains(mode)) continue;  // older probe output
            Path model = copyWithConfig(dir.resolve("mode-" + mode), e.getValue());
            Files.copy(TestModels.bundledModel().resolve("config.json"), model.resolve("config.json"));
            Tokenizer tokenizer = TokenizerLoader.load(model, TokenizerMode.TRANSFORMERS5);
            assertTrue(golden.path(mode).size() > 0, "mode " + mode + " missing from " + NodeOracle.legacyGoldenFile());
            for (Iterator<Map.Entry<String, JsonNode>> it = golden.path(mode).fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> c = it.next();
                String text = c.getKey();
                int[] ids = NodeOracle.ints(c.getValue());
                assertArrayEquals(ids, tokenizer.encode(text, true), mode + " ids of " + text);
                String decoded = golden.path(mode + "_decode").path(text).asText(null);
                assertEquals(decoded, tokenizer.decode(ids, false), mode + " decode of " + text);
                String skipped = decoded.replace("<s>", "").replace("</s>", "");
                String expectedSkip = golden.path(mode + "_decode_skip").path(text).asText(
                        skipped.startsWith(" ") ? skipped.substring(1) : skipped);
                assertEquals(expectedSkip, tokenizer.decode(ids, true), mode + " decode skipping special tokens of " + text);
                checked++;
            }
        }
        Path bare = Files.createDirectories(dir.resolve("bare"));
        Files.copy(TestModels.bundledModel().resolve("tokenizer.json"), bare.resolve("tokenizer.json"));
        Tokenizer raw = TokenizerLoader.load(bare);
        for (Iterator<Map.Entry<String, JsonNode>> it = golden.path("raw").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> c = it.next();
            assertArrayEquals(NodeOracle.ints(c.getValue()), raw.encode(c.getKey(), true), "raw tokenizers ids of " + c.getKey());
            checked++;
        }
        assertTrue(checked >= 4 * 7, "cases checked in " + NodeOracle.legacyGoldenFile() + ": " + checked);
    }

    /**
     * Over the whole corpus, in {@link TokenizerMode#TRANSFORMERS5}: Llama classes (named, or picked by model_type)
     * follow transformers 5 (the oracle's emulation, itself checked against transformers' ids): prepend scheme
     * "first" for legacy false or absent, "always" for legacy true, which CodeLlamaTokenizer ignores; another class,
     * or a bare tokenizer.json, keeps raw tokenizers semantics. In the default mode every one of them is raw.
     */
    @Test
    void llamaClassesFollowTransformersOthersRawTokenizers(@TempDir Path dir) throws Exception {
        JsonNode tokenizers = NodeOracle.expected().path("tokenizers");
        Map<String, int[]> first = idsByText(tokenizers.path("kjv-transformers5"));
        Map<String, int[]> always = idsByText(tokenizers.path("kjv-legacy-transformers5"));
        Map<String, int[]> raw = idsByText(tokenizers.path("kjv-raw"));
        Map<String, Path> dirs = new LinkedHashMap<>();
        dirs.put("LlamaTokenizerFast", copyWithConfig(dir.resolve("fast"), cfg -> cfg.put("tokenizer_class", "LlamaTokenizerFast")));
        dirs.put("legacy absent", copyWithConfig(dir.resolve("absent"), cfg -> cfg.remove("legacy")));
        dirs.put("legacy null", copyWithConfig(dir.resolve("null"), cfg -> cfg.putNull("legacy")));
        dirs.put("legacy true", copyWithConfig(dir.resolve("true"), cfg -> cfg.put("legacy", true)));
        dirs.put("CodeLlamaTokenizer legacy true", copyWithConfig(dir.resolve("codellama"),
                cfg -> cfg.put("tokenizer_class", "CodeLlamaTokenizer").put("legacy", true)));
        Path byModelType = copyWithConfig(dir.resolve("model-type"), cfg -> {
            cfg.remove("tokenizer_class");
            cfg.put("legacy", true);
        });
        Files.writeString(byModelType.resolve("config.json"), "{\"model_type\": \"llama\"}");
        dirs.put("model_type llama legacy true", byModelType);
        dirs.put("other class", copyWithConfig(dir.resolve("other"), cfg -> cfg.put("tokenizer_class", "PreTrainedTokenizerFast")));
        Map<String, Tokenizer> loaded = new LinkedHashMap<>();
        Map<String, Tokenizer> asFiles = new LinkedHashMap<>();
        dirs.forEach((name, d) -> {
            loaded.put(name, TokenizerLoader.load(d, TokenizerMode.TRANSFORMERS5));
            asFiles.put(name, TokenizerLoader.load(d));
        });
        Map<String, Map<String, int[]>> expected = Map.of("LlamaTokenizerFast", first, "legacy absent", first,
                "legacy null", first, "legacy true", always, "CodeLlamaTokenizer legacy true", first,
                "model_type llama legacy true", always, "other class", raw);
        int differing = 0;
        for (String text : first.keySet()) {
            if (Arrays.equals(first.get(text), raw.get(text)) && Arrays.equals(always.get(text), raw.get(text))) continue;
            differing++;
            for (Map.Entry<String, Tokenizer> t : loaded.entrySet()) {
                assertArrayEquals(expected.get(t.getKey()).get(text), t.getValue().encode(text, true), t.getKey() + ": " + text);
            }
            for (Map.Entry<String, Tokenizer> t : asFiles.entrySet()) {
                assertArrayEquals(raw.get(text), t.getValue().encode(text, true), "default mode, " + t.getKey() + ": " + text);
            }
        }
        assertTrue(differing >= 3, "the corpus should hold texts where the prepend scheme matters, found " + differing);
    }

    private static Map<String, int[]> idsByText(JsonNode oracleTokenizer) {
        Map<String, int[]> out = new LinkedHashMap<>();
        for (JsonNode c : oracleTokenizer.path("cases")) out.put(c.path("text").asText(), NodeOracle.ints(c.path("ids")));
        return out;
    }

    @Test
    void missingTokenizerFilesNameTheDirectory(@TempDir Path dir) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenizerLoader.load(dir));
        assertEquals("tokenizer.json not found in " + dir + "; expected a Hugging Face model directory", e.getMessage());
    }

    private static Path copyWithConfig(Path target, java.util.function.Consumer<ObjectNode> edit) throws Exception {
        Files.createDirectories(target);
        Path source = TestModels.bundledModel();
        Files.copy(source.resolve("tokenizer.json"), target.resolve("tokenizer.json"));
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(source.resolve("tokenizer_config.json").toFile());
        edit.accept(config);
        json.writeValue(target.resolve("tokenizer_config.json").toFile(), config);
        return target;
    }
}
