package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkllm.engine.testing.TestModels;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Appending tokens one at a time must give exactly the whole-sequence decode (skipping specials): against
 * Hugging Face's decode for every oracle tokenizer, and against our own decode for random streams.
 */
class IncrementalDecoderTest {

    /** Decodes ids one by one; returns the concatenation of the pieces, checking text() along the way. */
    static String streamDecode(Tokenizer tokenizer, int[] ids) {
        IncrementalDecoder decoder = tokenizer.newDecoder();
        StringBuilder pieces = new StringBuilder();
        for (int id : ids) {
            pieces.append(decoder.append(id));
            assertEquals(pieces.toString(), decoder.text(), "text() is the concatenation of the pieces so far");
        }
        pieces.append(decoder.finish());
        assertEquals(pieces.toString(), decoder.text(), "text() after finish()");
        return pieces.toString();
    }

    @TestFactory
    List<DynamicTest> matchesHuggingFaceDecode() {
        List<DynamicTest> tests = new ArrayList<>();
        NodeOracle.expected().path("tokenizers").properties().forEach(e -> {
            String name = e.getKey();
            JsonNode expected = e.getValue();
            tests.add(DynamicTest.dynamicTest(name, () -> {
                Tokenizer tokenizer = NodeOracle.load(expected);
                for (JsonNode c : expected.path("cases")) {
                    assertEquals(c.path("decodedSkip").asText(), streamDecode(tokenizer, NodeOracle.ints(c.path("ids"))),
                            name + ": corpus text " + TokenizerParityTest.abbreviate(c.path("text").asText()));
                }
                for (JsonNode c : expected.path("streams")) {
                    assertEquals(c.path("decodedSkip").asText(), streamDecode(tokenizer, NodeOracle.ints(c.path("ids"))),
                            name + ": random ids " + c.path("ids"));
                }
            }));
        });
        return tests;
    }

    /** Random streams of corpus tokens and raw ids on the bundled model; needs no Node. */
    @Test
    void randomStreamsOnBundledModel() throws Exception {
        Tokenizer tokenizer = TokenizerLoader.load(TestModels.bundledModel());
        List<int[]> encoded = new ArrayList<>();
        for (String text : NodeOracle.corpus()) encoded.add(tokenizer.encode(text, true));
        Random random = new Random(7);
        for (int trial = 0; trial < 500; trial++) {
            List<Integer> ids = new ArrayList<>();
            int parts = 1 + random.nextInt(5);
            for (int p = 0; p < parts; p++) {
                if (random.nextBoolean()) {
                    int[] source = encoded.get(random.nextInt(encoded.size()));
                    int from = random.nextInt(source.length + 1);
                    int to = from + random.nextInt(source.length - from + 1);
                    for (int i = from; i < to; i++) ids.add(source[i]);
                } else {
                    int n = random.nextInt(8);
                    // Mostly byte-fallback ids (3..258 in kjv-tiny), so characters split across tokens are common.
                    for (int i = 0; i < n; i++) ids.add(random.nextInt(4) == 0 ? random.nextInt(tokenizer.vocabSize()) : 3 + random.nextInt(256));
                }
            }
            int[] stream = ids.stream().mapToInt(Integer::intValue).toArray();
            assertEquals(tokenizer.decode(stream, true), streamDecode(tokenizer, stream), "stream " + ids);
        }
    }

    @Test
    void characterSplitAcrossByteTokensIsHeldBackUntilComplete() {
        Tokenizer tokenizer = TokenizerLoader.load(TestModels.bundledModel());
        // 🦙 is F0 9F A6 99 in UTF-8; kjv-tiny has no such piece, so it is spelled with four byte tokens.
        int[] ids = tokenizer.encode("a🦙", false);
        IncrementalDecoder decoder = tokenizer.newDecoder();
        StringBuilder seen = new StringBuilder();
        for (int id : ids) {
            String piece = decoder.append(id);
            assertEquals(false, piece.contains("\uFFFD"), "no replacement character while the emoji is incomplete");
            seen.append(piece);
        }
        seen.append(decoder.finish());
        assertEquals("a🦙", seen.toString());
    }
}
