package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Our tokenizer against Hugging Face {@code tokenizers} (run in Node) on a varied corpus, for the real Llama-2
 * vocabulary and for the bundled kjv-tiny model; and against llama-tokenizer-js's own test cases.
 */
class TokenizerParityTest {

    @TestFactory
    List<DynamicTest> llama2MatchesHuggingFace() {
        return cases("llama2");
    }

    @TestFactory
    List<DynamicTest> kjvTinyMatchesHuggingFace() {
        return cases("kjv");
    }

    /** Variants of the two exercising the other components (engine/src/test/node/variants.mjs). */
    @TestFactory
    List<DynamicTest> variantsMatchHuggingFace() {
        List<DynamicTest> tests = new ArrayList<>();
        NodeOracle.expected().path("tokenizers").fieldNames().forEachRemaining(name -> {
            if (!name.equals("llama2") && !name.equals("kjv")) tests.addAll(cases(name));
        });
        assertEquals(true, tests.size() > 10 * 40, "expected the oracle to cover the variants, got " + tests.size() + " cases");
        return tests;
    }

    private List<DynamicTest> cases(String name) {
        JsonNode expected = NodeOracle.expected().path("tokenizers").path(name);
        Tokenizer tokenizer = TokenizerLoader.load(Path.of(expected.path("dir").asText()));
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

    @Test
    void llamaTokenizerJsOwnCases() {
        JsonNode recorded = NodeOracle.expected().path("llamaTokenizerJs");
        Tokenizer tokenizer = TokenizerLoader.load(NodeOracle.llama2Dir());
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
