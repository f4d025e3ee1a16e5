package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Our tokenizer against Hugging Face {@code tokenizers} (run in Node) on a varied corpus, for the real Llama-2
 * vocabulary and for the bundled kjv-tiny model; and against llama-tokenizer-js's own test cases.
 *
 * <p>Both real tokenizers come with a tokenizer_config.json naming LlamaTokenizer with {@code "legacy": false}. In
 * the default mode ({@link TokenizerMode#FILES}) their expectations are raw {@code tokenizers} on tokenizer.json,
 * whatever that config says: so are those of their {@code -legacy} copies (the same config with
 * {@code "legacy": true}), {@code -noprefix} copies ({@code "add_prefix_space": false}) and {@code -raw} copies
 * (no config files). In {@link TokenizerMode#TRANSFORMERS5} ({@code -transformers5} entries) they are transformers
 * 5's (the oracle's emulation, itself checked against transformers' golden ids).
 */
class TokenizerParityTest {

    private static final List<String> REAL = List.of("llama2", "kjv");
    private static final List<String> COPIES = List.of("", "-raw", "-legacy", "-noprefix", "-transformers5",
            "-legacy-transformers5", "-noprefix-transformers5");

    /** Meta's tokenizer files, legacy:false config included, read as written: raw tokenizers. */
    @TestFactory
    List<DynamicTest> llama2MatchesTokenizers() {
        assertEquals("files", entry("llama2").path("mode").asText());
        return cases("llama2");
    }

    @TestFactory
    List<DynamicTest> llama2WithoutConfigMatchesTokenizers() {
        return cases("llama2-raw");
    }

    @TestFactory
    List<DynamicTest> kjvTinyMatchesTokenizers() {
        return cases("kjv");
    }

    @TestFactory
    List<DynamicTest> kjvTinyWithoutConfigMatchesTokenizers() {
        return cases("kjv-raw");
    }

    /** The default mode ignores "legacy" and "add_prefix_space": the same ids as with legacy false. */
    @TestFactory
    List<DynamicTest> legacyAndPrefixSettingsDoNotChangeTheDefaultMode() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : List.of("llama2-legacy", "llama2-noprefix", "kjv-legacy", "kjv-noprefix")) {
            assertEquals("files", entry(name).path("mode").asText());
            tests.addAll(cases(name));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> llama2Transformers5ModeMatchesTransformers() {
        assertEquals("transformers5:first", entry("llama2-transformers5").path("emulation").asText());
        return cases("llama2-transformers5");
    }

    @TestFactory
    List<DynamicTest> kjvTinyTransformers5ModeMatchesTransformers() {
        assertEquals("transformers5:first", entry("kjv-transformers5").path("emulation").asText());
        return cases("kjv-transformers5");
    }

    @TestFactory
    List<DynamicTest> legacyTrueInTransformers5ModeMatchesTransformers() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : List.of("llama2-legacy-transformers5", "kjv-legacy-transformers5")) {
            assertEquals("transformers5:always", entry(name).path("emulation").asText());
            tests.addAll(cases(name));
        }
        return tests;
    }

    /** add_prefix_space false: transformers 5's prepend scheme "never" and a decoder without the Strip step. */
    @TestFactory
    List<DynamicTest> withoutPrefixSpaceInTransformers5ModeMatchesTransformers() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : List.of("llama2-noprefix-transformers5", "kjv-noprefix-transformers5")) {
            assertEquals("transformers5:never", entry(name).path("emulation").asText());
            tests.addAll(cases(name));
        }
        return tests;
    }

    /** Where the two modes differ on the real Llama-2 vocabulary: the ▁ after a special token, and a leading space. */
    @Test
    void modesDifferWhereTransformers5DropsTheSpaceMarker() {
        Tokenizer files = TokenizerLoader.load(NodeOracle.llama2Dir());
        Tokenizer transformers5 = TokenizerLoader.load(NodeOracle.llama2Dir(), TokenizerMode.TRANSFORMERS5);
        assertArrayEquals(new int[]{1, 518, 25580, 29962}, files.encode("<s>[INST]", false), "<s> ▁[ INST ]");
        assertArrayEquals(new int[]{1, 29961, 25580, 29962}, transformers5.encode("<s>[INST]", false), "<s> [ INST ]");
        assertArrayEquals(new int[]{1, 29871, 15043}, files.encode(" Hello", true), "<s> ▁ ▁Hello");
        assertArrayEquals(new int[]{1, 15043}, transformers5.encode(" Hello", true), "<s> ▁Hello");
        assertArrayEquals(new int[]{1, 268, 736}, files.encode("    return", true), "<s> ▁▁▁▁ ▁return");
        assertArrayEquals(new int[]{1, 1678, 736}, transformers5.encode("    return", true), "<s> ▁▁▁ ▁return");
    }

    /** The oracle's emulation reproduced every id transformers computed for the chat-template golden file. */
    @Test
    void emulationOfTransformersMatchesItsGoldenIds() {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isRegularFile(NodeOracle.goldenFile()),
                "skipped: " + NodeOracle.goldenFile() + " is absent");
        JsonNode golden = NodeOracle.expected().path("golden");
        assertEquals("kjv", golden.path("tokenizer").asText());
        assertEquals(true, golden.path("checked").asInt() >= 50, "golden cases checked: " + golden.path("checked"));
    }

    /** The oracle's emulation reproduced transformers' ids and decodes for legacy false / true / absent (and raw ids). */
    @Test
    void emulationOfTransformersMatchesItsLegacyProbe() {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isRegularFile(NodeOracle.legacyGoldenFile()),
                "skipped: " + NodeOracle.legacyGoldenFile() + " is absent");
        JsonNode golden = NodeOracle.expected().path("legacyGolden");
        assertEquals("kjv", golden.path("tokenizer").asText());
        assertEquals(true, golden.path("checked").asInt() >= 3 * 7 * 2 + 7, "legacy probe checks: " + golden.path("checked"));
    }

    /** Variants of the two exercising the other components (engine/src/test/node/variants.mjs). */
    @TestFactory
    List<DynamicTest> variantsMatchHuggingFace() {
        List<DynamicTest> tests = new ArrayList<>();
        NodeOracle.expected().path("tokenizers").fieldNames().forEachRemaining(name -> {
            if (REAL.stream().noneMatch(real -> COPIES.stream().anyMatch(copy -> name.equals(real + copy)))) tests.addAll(cases(name));
        });
        assertEquals(true, tests.size() > 10 * 40, "expected the oracle to cover the variants, got " + tests.size() + " cases");
        return tests;
    }

    private List<DynamicTest> cases(String name) {
        JsonNode expected = entry(name);
        assertEquals(false, expected.isMissingNode(), "the oracle has no tokenizer " + name);
        Tokenizer tokenizer = NodeOracle.load(expected);
        List<DynamicTest> tests = new ArrayList<>();
        tests.add(DynamicTest.dynamicTest(name + " vocab size", () ->
                assertEquals(expected.path("vocabSize").asInt(), tokenizer.vocabSize())));
        int i = 0;
        for (JsonNode c : expected.path("cases")) {
            String text = c.path("text").asText();
            tests.add(DynamicTest.dynamicTest(name + " #" + i++ + " " + abbreviate(text), () -> {
                int[] ids = NodeOracle.ints(c.path("ids"));
                assertArrayEquals(ids, tokenizer.encode(text, true), "encode with special tokens: " + c.path("tokens"));
                assertArrayEquals(NodeOracle.ints(c.path("idsNoSpecial")), tokenizer.encode(text, false), "encode without");
                assertEquals(c.path("decoded").asText(), tokenizer.decode(ids, false), "decode keeping specials");
                assertEquals(c.path("decodedSkip").asText(), tokenizer.decode(ids, true), "decode skipping specials");
            }));
        }
        int s = 0;
        for (JsonNode c : expected.path("streams")) {
            tests.add(DynamicTest.dynamicTest(name + " random ids #" + s++, () -> {
                int[] ids = NodeOracle.ints(c.path("ids"));
                assertEquals(c.path("decoded").asText(), tokenizer.decode(ids, false), "decode keeping specials");
                assertEquals(c.path("decodedSkip").asText(), tokenizer.decode(ids, true), "decode skipping specials");
            }));
        }
        return tests;
    }

    private static JsonNode entry(String name) {
        return NodeOracle.expected().path("tokenizers").path(name);
    }

    @Test
    void llamaTokenizerJsOwnCases() {
        JsonNode recorded = NodeOracle.expected().path("llamaTokenizerJs");
        // llama-tokenizer-js prefixes ▁ as raw tokenizer.json does (also before text that starts with a space).
        Tokenizer tokenizer = TokenizerLoader.load(NodeOracle.llama2RawDir());
        int checked = 0;
        for (JsonNode c : recorded.path("encodes")) {
            String text = c.path("text").asText();
            int[] ids = NodeOracle.ints(c.path("ids"));
            assertArrayEquals(ids, tokenizer.encode(text, true), "llama-tokenizer-js encode case " + abbreviate(text));
            assertEquals(text, tokenizer.decode(ids, true), "llama-tokenizer-js round trip " + abbreviate(text));
            checked++;
        }
        for (JsonNode c : recorded.path("decodes")) {
            // Their decode(ids, add_bos_token=true, add_preceding_space=true) is the Hugging Face decode skipping specials.
            if (!c.path("addBos").asBoolean() || !c.path("addPrecedingSpace").asBoolean()) continue;
            int[] ids = NodeOracle.ints(c.path("ids"));
            if (ids.length == 0 || ids[0] != tokenizer.bosId()) continue;
            assertEquals(c.path("text").asText(), tokenizer.decode(ids, true), "llama-tokenizer-js decode case");
            checked++;
        }
        assertEquals(true, checked >= 12, "expected llama-tokenizer-js's suite to yield its cases, got " + checked);
    }

    static String abbreviate(String s) {
        String flat = s.replace("\n", "\\n").replace("\t", "\\t");
        return flat.length() > 40 ? flat.substring(0, 40) + "…" : flat;
    }
}
