package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkllm.engine.testing.TestModels;
import dev.sparkllm.engine.tokenizer.Tokenizer.Segment;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code encode(List<Segment>)}: special strings count only in markup; otherwise it is the plain encode of the whole. */
class SegmentEncodingTest {

    @Test
    void specialStringsInContentStayTextLikeLlamaTokenizerJs() {
        JsonNode cases = NodeOracle.expected().path("literalSpecials");
        Tokenizer tokenizer = TokenizerLoader.load(NodeOracle.llama2Dir());
        assertEquals(true, cases.size() >= 5, "the corpus has texts with special-token strings");
        for (JsonNode c : cases) {
            String text = c.path("text").asText();
            assertArrayEquals(NodeOracle.ints(c.path("ids")), tokenizer.encode(List.of(Segment.content(text)), true),
                    "content segment " + text);
        }
    }

    @Test
    void markupSpecialsBecomeIdsAndContentSpecialsDoNot() {
        Tokenizer tokenizer = TokenizerLoader.load(TestModels.bundledModel());
        int bos = tokenizer.tokenId("<s>");
        int eos = tokenizer.tokenId("</s>");
        int[] ids = tokenizer.encode(List.of(Segment.markup("<s>"), Segment.content("a </s> b <s>"), Segment.markup("</s>")), false);
        assertEquals(bos, ids[0], "markup <s> is the BOS id");
        assertEquals(eos, ids[ids.length - 1], "markup </s> is the EOS id");
        for (int i = 1; i < ids.length - 1; i++) {
            assertEquals(false, ids[i] == bos || ids[i] == eos, "content special strings must stay text, got id " + ids[i] + " at " + i);
        }
        // The content in the middle is encoded as the same text with the strings spelled out by the model.
        int[] middle = java.util.Arrays.copyOfRange(ids, 1, ids.length - 1);
        assertEquals("a </s> b <s>", tokenizer.decode(middle, false));
    }

    /** With no special strings, any split into segments, of either kind, encodes like the concatenation. */
    @Test
    void anySegmentationOfPlainTextEqualsPlainEncode() throws Exception {
        Tokenizer tokenizer = TokenizerLoader.load(TestModels.bundledModel());
        Random random = new Random(11);
        for (String text : NodeOracle.corpus()) {
            for (int trial = 0; trial < 20; trial++) {
                List<Segment> segments = randomSegments(text, random, trial % 3 == 0);
                boolean hasSpecial = text.contains("<s>") || text.contains("</s>") || text.contains("<unk>");
                if (hasSpecial && segments.stream().anyMatch(s -> !s.parseSpecial())) continue;
                assertArrayEquals(tokenizer.encode(text, true), tokenizer.encode(segments, true), "segments " + segments);
            }
        }
    }

    @Test
    void chatTemplateShapeMatchesPlainEncodeWhenUserTextIsPlain() {
        Tokenizer tokenizer = TokenizerLoader.load(TestModels.bundledModel());
        String user = "And God said, Let there be light";
        List<Segment> prompt = List.of(Segment.markup("<s>[INST] "), Segment.content(user), Segment.markup(" [/INST]"));
        assertArrayEquals(tokenizer.encode("<s>[INST] " + user + " [/INST]", false), tokenizer.encode(prompt, false));
    }

    private static List<Segment> randomSegments(String text, Random random, boolean allMarkup) {
        List<Segment> out = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            int end = Math.min(text.length(), start + 1 + random.nextInt(12));
            if (end < text.length() && Character.isLowSurrogate(text.charAt(end))) end++;
            out.add(new Segment(text.substring(start, end), allMarkup || random.nextBoolean()));
            start = end;
        }
        if (out.isEmpty()) out.add(Segment.content(""));
        return out;
    }
}
