package dev.sparkllm.engine.sampling;

import dev.sparkllm.engine.checkpoint.GenerationConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplingSettingsTest {

    /** What the bundled model's generation_config.json says (do_sample true, temperature 0.7, top_p 0.95). */
    private static final GenerationConfig KJV_TINY = new GenerationConfig(true, 0.7, null, 0.95, null, null, null,
            1024, 1, new int[]{2}, 0);

    private static SamplingSettings only(java.util.function.UnaryOperator<Builder> set) {
        return set.apply(new Builder()).build();
    }

    @Test
    void theModelsOwnSettingsApplyAndNothingElseIsInvented() {
        SamplingParams p = SamplingSettings.none().resolve(KJV_TINY);
        assertEquals(0.7, p.temperature());
        assertEquals(0.95, p.topP());
        assertEquals(0, p.topK(), "no top_k 50 unless a source says so");
        assertEquals(0.0, p.minP());
        assertEquals(1.0, p.repetitionPenalty());
        assertEquals(SamplingSettings.DEFAULT_MAX_NEW_TOKENS, p.maxNewTokens(), "max_length is not max_new_tokens");
        assertEquals(-1, p.logprobs());
        assertNull(p.seed());
    }

    @Test
    void builtInDefaultsAreVllmsWhenNoSourceSaysAnything() {
        SamplingParams p = SamplingSettings.none().resolve(GenerationConfig.empty());
        assertEquals(1.0, p.temperature());
        assertEquals(0, p.topK());
        assertEquals(1.0, p.topP());
        assertEquals(0.0, p.presencePenalty());
        assertEquals(0.0, p.frequencyPenalty());
        assertEquals(0, p.minNewTokens());
        assertEquals(List.of(), p.stop());
        assertEquals(0, p.stopTokenIds().length);
        assertEquals(false, p.ignoreEos());
    }

    @Test
    void doSampleFalseInTheModelMeansGreedyUnlessAHigherSourceSetsATemperature() {
        GenerationConfig greedyModel = new GenerationConfig(false, 0.6, 40, 0.9, null, null, 64, null, 1, new int[]{2}, 0);
        assertEquals(0.0, SamplingSettings.none().resolve(greedyModel).temperature());
        assertEquals(0.0, only(b -> b.topP(0.5)).resolve(greedyModel).temperature(), "top_p alone does not switch sampling on");
        assertEquals(0.8, only(b -> b.temperature(0.8)).resolve(greedyModel).temperature());
        assertEquals(0.6, only(b -> b.doSample(true)).resolve(greedyModel).temperature(), "do_sample true uses the model's temperature");
        assertEquals(64, SamplingSettings.none().resolve(greedyModel).maxNewTokens());
    }

    @Test
    void withoutDoSampleTheModelsTemperatureDecides() {
        GenerationConfig noDoSample = new GenerationConfig(null, 0.6, null, null, null, null, null, null, 1, new int[]{2}, 0);
        assertEquals(0.6, SamplingSettings.none().resolve(noDoSample).temperature());
    }

    @Test
    void doSampleFalseOverridesTemperaturesFromItsOwnAndLowerSources() {
        SamplingSettings preset = only(b -> b.temperature(0.9).doSample(false));
        assertEquals(0.0, preset.resolve(KJV_TINY).temperature());
        SamplingSettings cli = only(b -> b.temperature(0.3));
        assertEquals(0.3, preset.overriddenBy(cli).resolve(KJV_TINY).temperature());
        SamplingSettings request = only(b -> b.doSample(false));
        assertEquals(0.0, preset.overriddenBy(cli).overriddenBy(request).resolve(KJV_TINY).temperature());
    }

    @Test
    void eachFieldComesFromTheHighestSourceThatSetsIt() {
        SamplingSettings preset = only(b -> b.temperature(0.5).topK(10).topP(0.8).maxNewTokens(100).stop(List.of("###")));
        SamplingSettings cli = only(b -> b.topK(20).maxNewTokens(200).seed(5L));
        SamplingSettings request = only(b -> b.maxNewTokens(300).logprobs(2).stopTokenIds(new int[]{13}));
        SamplingParams p = preset.overriddenBy(cli).overriddenBy(request).resolve(KJV_TINY);
        assertEquals(0.5, p.temperature());   // preset over model (0.7)
        assertEquals(20, p.topK());           // cli over preset
        assertEquals(0.8, p.topP());          // preset over model (0.95)
        assertEquals(300, p.maxNewTokens());  // request over cli over preset
        assertEquals(List.of("###"), p.stop());
        assertEquals(5L, p.seed());
        assertEquals(2, p.logprobs());
        assertArrayEquals(new int[]{13}, p.stopTokenIds());
    }

    @Test
    void vllmsMinusOneMeansTopKOff() {
        assertEquals(0, only(b -> b.topK(-1)).resolve(KJV_TINY).topK());
    }

    @Test
    void resolvedParamsRoundTripThroughSettings() {
        SamplingParams p = new SamplingParams(0.4, 7, 0.9, 0.05, 1.1, 0.2, -0.3, 77, 3, List.of("x"), new int[]{4},
                true, 99L, 1);
        SamplingParams back = SamplingSettings.of(p).resolve(KJV_TINY);
        assertEquals(List.of(p.temperature(), p.topK(), p.topP(), p.minP(), p.repetitionPenalty(), p.presencePenalty(),
                        p.frequencyPenalty(), p.maxNewTokens(), p.minNewTokens(), p.stop(), p.ignoreEos(), p.seed(), p.logprobs()),
                List.of(back.temperature(), back.topK(), back.topP(), back.minP(), back.repetitionPenalty(), back.presencePenalty(),
                        back.frequencyPenalty(), back.maxNewTokens(), back.minNewTokens(), back.stop(), back.ignoreEos(), back.seed(), back.logprobs()));
        assertArrayEquals(p.stopTokenIds(), back.stopTokenIds());
    }

    @Test
    void validationNamesEveryBadValue() {
        SamplingParams bad = new SamplingParams(-1, -2, 1.5, -0.1, 0, 3, -2.5, 0, -1, List.of(""), new int[]{-4},
                false, null, 21);
        assertEquals(List.of(
                "temperature must be >= 0 and finite (0 = greedy), got -1",
                "top_k must be >= 0 (0 = off), got -2",
                "top_p must be in (0, 1] (1 = off), got 1.5",
                "min_p must be in [0, 1] (0 = off), got -0.1",
                "repetition_penalty must be > 0 and finite (1 = off), got 0",
                "presence_penalty must be in [-2, 2] (0 = off), got 3",
                "frequency_penalty must be in [-2, 2] (0 = off), got -2.5",
                "max_new_tokens must be >= 1, got 0",
                "min_new_tokens must be >= 0, got -1",
                "stop strings must be non-empty, got an empty one",
                "stop_token_ids must be >= 0, got -4",
                "logprobs must be in [-1, 20] (-1 = off, 0 = chosen token only), got 21"), SamplingSettings.validate(bad));
        assertTrue(SamplingSettings.validate(SamplingParams.greedy(16)).isEmpty());
        assertEquals(List.of("temperature must be >= 0 and finite (0 = greedy), got NaN"),
                SamplingSettings.validate(new SamplingParams(Double.NaN, 0, 1, 0, 1, 0, 0, 5, 0, List.of(), null, false, null, -1)));
    }

    @Test
    void resolveRejectsOutOfRangeValuesWithTheirNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> only(b -> b.temperature(-1.0).maxNewTokens(5).minNewTokens(6)).resolve(KJV_TINY));
        assertEquals("invalid sampling settings: temperature must be >= 0 and finite (0 = greedy), got -1; "
                + "min_new_tokens (6) must not exceed max_new_tokens (5)", e.getMessage());
    }

    @Test
    void namedValuesFromACommandLineOrJsonPreset() {
        SamplingSettings fromFlags = SamplingSettings.fromMap(java.util.Map.of("temperature", "0.6", "top_k", "40",
                "do_sample", "TRUE", "stop", "</s>", "stop_token_ids", "13, 2", "seed", "-9", "max_tokens", "50"));
        SamplingParams p = fromFlags.resolve(GenerationConfig.empty());
        assertEquals(0.6, p.temperature());
        assertEquals(40, p.topK());
        assertEquals(List.of("</s>"), p.stop());
        assertArrayEquals(new int[]{13, 2}, p.stopTokenIds());
        assertEquals(-9L, p.seed());
        assertEquals(50, p.maxNewTokens());

        java.util.Map<String, Object> json = new java.util.HashMap<>();
        json.put("temperature", 1);
        json.put("stop", List.of("a", "b"));
        json.put("stop_token_ids", List.of(7));
        json.put("min_new_tokens", 3.0);
        json.put("logprobs", null);
        SamplingSettings fromJson = SamplingSettings.fromMap(json);
        assertEquals(1.0, fromJson.temperature());
        assertEquals(3, fromJson.minNewTokens());
        assertNull(fromJson.logprobs());
        assertEquals(List.of("a", "b"), fromJson.stop());
        assertEquals(java.util.Map.of("temperature", 1.0, "min_new_tokens", 3, "stop", List.of("a", "b"),
                "stop_token_ids", List.of(7)), fromJson.toMap());
        assertEquals(fromJson.toMap(), SamplingSettings.fromMap(fromJson.toMap()).toMap());
    }

    @Test
    void namedValuesRejectUnknownKeysAndWrongTypes() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> SamplingSettings.fromMap(java.util.Map.of("topk", 5)));
        assertTrue(unknown.getMessage().startsWith("unknown sampling setting \"topk\"; known settings: do_sample, "),
                unknown.getMessage());
        assertEquals("top_k must be an integer, got \"4.5\"",
                assertThrows(IllegalArgumentException.class, () -> SamplingSettings.fromMap(java.util.Map.of("top_k", 4.5))).getMessage());
        assertEquals("temperature must be a number, got \"warm\"",
                assertThrows(IllegalArgumentException.class, () -> SamplingSettings.fromMap(java.util.Map.of("temperature", "warm"))).getMessage());
        assertEquals("ignore_eos must be true or false, got \"yes\"",
                assertThrows(IllegalArgumentException.class, () -> SamplingSettings.fromMap(java.util.Map.of("ignore_eos", "yes"))).getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> SamplingSettings.fromMap(java.util.Map.of("max_tokens", 5, "max_new_tokens", 6)));
    }

    /** Test-local builder so each case names only the fields it sets. */
    private static final class Builder {
        Boolean doSample; Double temperature; Integer topK; Double topP; Integer maxNewTokens; Integer minNewTokens;
        List<String> stop; int[] stopTokenIds; Long seed; Integer logprobs;

        Builder doSample(boolean v) { doSample = v; return this; }
        Builder temperature(double v) { temperature = v; return this; }
        Builder topK(int v) { topK = v; return this; }
        Builder topP(double v) { topP = v; return this; }
        Builder maxNewTokens(int v) { maxNewTokens = v; return this; }
        Builder minNewTokens(int v) { minNewTokens = v; return this; }
        Builder stop(List<String> v) { stop = v; return this; }
        Builder stopTokenIds(int[] v) { stopTokenIds = v; return this; }
        Builder seed(Long v) { seed = v; return this; }
        Builder logprobs(int v) { logprobs = v; return this; }

        SamplingSettings build() {
            return new SamplingSettings(doSample, temperature, topK, topP, null, null, null, null, maxNewTokens,
                    minNewTokens, stop, stopTokenIds, null, seed, logprobs);
        }
    }
}
