package dev.sparkllm.engine.sampling;

import dev.sparkllm.engine.api.FinishReason;
import dev.sparkllm.engine.testing.TestModels;
import dev.sparkllm.engine.tokenizer.IncrementalDecoder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Stopping on the bundled model's vocabulary (byte-fallback tokens for multi-byte characters). */
class StopConditionsTest {

    private static VocabularyOnlyTokenizer tokenizer;
    private static int eos;

    @BeforeAll
    static void loadVocabulary() {
        tokenizer = new VocabularyOnlyTokenizer(TestModels.bundledModel().resolve("tokenizer.json"));
        eos = tokenizer.eosId();
    }

    private static SamplingParams params(int maxNew, int minNew, List<String> stop, int[] stopIds, boolean ignoreEos) {
        return new SamplingParams(1, 0, 1, 0, 1, 0, 0, maxNew, minNew, stop, stopIds, ignoreEos, null, -1);
    }

    private static StopConditions conditions(SamplingParams p) {
        return new StopConditions(p, tokenizer, new int[]{eos});
    }

    /** Feeds the ids and returns the deltas; the last step is returned through {@code last}. */
    private static List<String> feed(StopConditions stop, int[] ids, StopConditions.Step[] last) {
        List<String> deltas = new ArrayList<>();
        for (int id : ids) {
            last[0] = stop.accept(id);
            deltas.add(last[0].textDelta());
            if (last[0].finished()) break;
        }
        return deltas;
    }

    private static int[] concat(int[]... parts) {
        return java.util.Arrays.stream(parts).flatMapToInt(java.util.Arrays::stream).toArray();
    }

    @Test
    void eosEndsWithStopAndAddsNoText() {
        StopConditions stop = conditions(params(10, 0, List.of(), null, false));
        StopConditions.Step[] last = new StopConditions.Step[1];
        List<String> deltas = feed(stop, concat(tokenizer.ids("LORD"), new int[]{eos}), last);
        assertEquals(List.of("LORD", ""), deltas);
        assertTrue(last[0].finished());
        assertEquals(FinishReason.STOP, last[0].reason());
        assertEquals("LORD", stop.text());
        assertThrows(IllegalStateException.class, () -> stop.accept(5));
    }

    @Test
    void stopTokenIdsEndWithStop() {
        int[] word = tokenizer.ids("LORD");
        StopConditions stop = conditions(params(10, 0, List.of(), new int[]{word[0]}, false));
        StopConditions.Step step = stop.accept(word[0]);
        assertEquals(new StopConditions.Step("", true, FinishReason.STOP), step);
        assertEquals("", stop.text());
    }

    @Test
    void ignoreEosKeepsGoingUntilTheLength() {
        StopConditions stop = conditions(params(3, 0, List.of(), null, true));
        StopConditions.Step[] last = new StopConditions.Step[1];
        List<String> deltas = feed(stop, concat(tokenizer.ids("a"), new int[]{eos}, tokenizer.ids("b")), last);
        assertEquals(List.of("a", "", "b"), deltas);
        assertEquals(FinishReason.LENGTH, last[0].reason());
        assertEquals("ab", stop.text());
    }

    @Test
    void maxNewTokensEndsWithLengthOnExactlyThatToken() {
        StopConditions stop = conditions(params(2, 0, List.of(), null, false));
        StopConditions.Step first = stop.accept(tokenizer.ids("a")[0]);
        assertFalse(first.finished());
        assertNull(first.reason());
        StopConditions.Step second = stop.accept(tokenizer.ids("b")[0]);
        assertEquals(new StopConditions.Step("b", true, FinishReason.LENGTH), second);
    }

    @Test
    void stopStringAcrossTokensIsHeldBackThenDropped() {
        StopConditions stop = conditions(params(10, 0, List.of("LORD"), null, false));
        StopConditions.Step[] last = new StopConditions.Step[1];
        List<String> deltas = feed(stop, tokenizer.ids("I▁", "LO", "RD", "a"), last);
        // "I " is safe; "LO" might start "LORD" so it waits; "RD" completes it.
        assertEquals(List.of("I ", "", ""), deltas);
        assertEquals(FinishReason.STOP, last[0].reason());
        assertEquals("I ", stop.text());
    }

    @Test
    void heldBackTextIsReleasedWhenItCanNoLongerBecomeAStopString() {
        StopConditions stop = conditions(params(10, 0, List.of("LORD"), null, false));
        StopConditions.Step[] last = new StopConditions.Step[1];
        List<String> deltas = feed(stop, tokenizer.ids("I▁", "LO", "ve▁"), last);
        assertEquals(List.of("I ", "", "LOve "), deltas);
        assertEquals("I LOve ", stop.text());
    }

    @Test
    void heldBackTextIsReleasedAtEosAndAtTheLengthLimit() {
        StopConditions atEos = conditions(params(10, 0, List.of("LORD"), null, false));
        StopConditions.Step[] last = new StopConditions.Step[1];
        // "LO" waits (it might start "LORD"); EOS means it never will, so it comes out with the last step
        assertEquals(List.of("", "LO"), feed(atEos, concat(tokenizer.ids("LO"), new int[]{eos}), last));
        assertEquals(FinishReason.STOP, last[0].reason());
        assertEquals("LO", atEos.text());

        StopConditions atLength = conditions(params(2, 0, List.of("LORD"), null, false));
        assertEquals(List.of("I ", "LO"), feed(atLength, tokenizer.ids("I▁", "LO"), last));
        assertEquals(FinishReason.LENGTH, last[0].reason());
        assertEquals("I LO", atLength.text());
    }

    @Test
    void earliestMatchAmongSeveralStopStringsWins() {
        StopConditions stop = conditions(params(10, 0, List.of("RD", "O"), null, false));
        StopConditions.Step[] last = new StopConditions.Step[1];
        feed(stop, tokenizer.ids("I▁", "LORD"), last);
        assertEquals(FinishReason.STOP, last[0].reason());
        assertEquals("I L", stop.text());
    }

    @Test
    void multiByteCharactersFromByteFallbackTokensAreNeverSplit() {
        StopConditions stop = conditions(params(20, 0, List.of("!"), null, false));
        StopConditions.Step[] last = new StopConditions.Step[1];
        List<String> deltas = feed(stop, tokenizer.byteIds("aé😀!x"), last);
        // a | C3 A9 | F0 9F 98 80 | ! : bytes of an unfinished character give no text
        assertEquals(List.of("a", "", "é", "", "", "", "😀", ""), deltas);
        assertEquals("aé😀", stop.text());
        assertEquals(FinishReason.STOP, last[0].reason());
    }

    @Test
    void aMultiByteStopStringMatchesOnlyWholeCharacters() {
        StopConditions stop = conditions(params(20, 0, List.of("é!"), null, false));
        StopConditions.Step[] last = new StopConditions.Step[1];
        List<String> deltas = feed(stop, tokenizer.byteIds("xéé!"), last);
        // each "é" waits (it might start "é!"); the first is released when the second arrives
        assertEquals(List.of("x", "", "", "", "é", ""), deltas);
        assertEquals("xé", stop.text());
    }

    @Test
    void beforeMinNewTokensNeitherEosNorStopStringsEndGeneration() {
        StopConditions stop = conditions(params(10, 3, List.of("a"), null, false));
        int a = tokenizer.ids("a")[0];
        int b = tokenizer.ids("b")[0];
        assertEquals(new StopConditions.Step("a", false, null), stop.accept(a));      // 1: stop string ignored
        assertEquals(new StopConditions.Step("", false, null), stop.accept(eos));     // 2: EOS ignored
        assertEquals(new StopConditions.Step("b", false, null), stop.accept(b));      // 3: min reached, no match
        assertEquals(new StopConditions.Step("", true, FinishReason.STOP), stop.accept(a));  // 4: matches now
        assertEquals("ab", stop.text());
    }

    @Test
    void eosStopsOnceMinNewTokensIsReached() {
        StopConditions stop = conditions(params(10, 2, List.of(), null, false));
        assertFalse(stop.accept(eos).finished());
        assertEquals(FinishReason.STOP, stop.accept(eos).reason());
    }

    /**
     * Random token streams against a reference computed from the definition: the first prefix whose decoded
     * text contains a stop string ends the sequence, cut at the earliest occurrence.
     */
    @Test
    void deltasAlwaysConcatenateToTheReferenceText() {
        String[] alphabet = {"a", "b", "L", "O", "LO", "RD", "▁", "e▁", "<0xC3>", "<0xA9>", "<0xE2>", "<0x80>", "<0x94>"};
        List<List<String>> stopSets = List.of(List.of("LORD"), List.of("ab", "b a"), List.of("é", "—"),
                List.of("aa", "a b", "OR"), List.of("\uFFFD"), List.of());
        Random random = new Random(7);
        for (int trial = 0; trial < 3000; trial++) {
            List<String> stops = stopSets.get(trial % stopSets.size());
            int maxNew = 1 + random.nextInt(12);
            int[] ids = new int[maxNew];
            for (int i = 0; i < maxNew; i++) ids[i] = tokenizer.ids(alphabet[random.nextInt(alphabet.length)])[0];

            String expectedText = null;
            FinishReason expectedReason = FinishReason.LENGTH;
            int expectedSteps = maxNew;
            IncrementalDecoder reference = tokenizer.newDecoder();
            for (int t = 0; t < maxNew && expectedText == null; t++) {
                reference.append(ids[t]);
                String text = reference.text();
                if (t == maxNew - 1) text = text + reference.finish();
                int earliest = -1;
                for (String s : stops) {
                    int at = text.indexOf(s);
                    if (at >= 0 && (earliest < 0 || at < earliest)) earliest = at;
                }
                if (earliest >= 0) {
                    expectedText = text.substring(0, earliest);
                    expectedReason = FinishReason.STOP;
                    expectedSteps = t + 1;
                } else if (t == maxNew - 1) {
                    expectedText = text;
                }
            }

            StopConditions stop = conditions(params(maxNew, 0, stops, null, false));
            StringBuilder deltas = new StringBuilder();
            StopConditions.Step step = null;
            int steps = 0;
            for (int id : ids) {
                step = stop.accept(id);
                steps++;
                deltas.append(step.textDelta());
                assertEquals(deltas.toString(), stop.text(), "trial " + trial);
                if (step.finished()) break;
            }
            String what = "trial " + trial + " stops " + stops + " tokens " + java.util.Arrays.toString(ids);
            assertEquals(expectedText, stop.text(), what);
            assertEquals(expectedReason, step.reason(), what);
            assertEquals(expectedSteps, steps, what);
        }
    }
}
