package dev.sparkllm.engine.sampling;

import dev.sparkllm.engine.checkpoint.GenerationConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sampling settings from one source, every field nullable (null = this source does not say). Sources are layered
 * in one order, lowest first: built-in defaults &lt; the model's {@code generation_config.json} &lt; a preset &lt;
 * the command line &lt; the request (a Spark row's own values):
 * <pre>{@code
 * SamplingParams p = preset.overriddenBy(commandLine).overriddenBy(perRequest).resolve(modelGenerationConfig);
 * }</pre>
 *
 * <h2>Greedy or sampling</h2>
 * {@code doSample = false} means greedy; it also overrides any temperature from its own or a lower source,
 * but a temperature set by a higher source switches sampling back on (the caller asked for it explicitly). A
 * temperature of 0 is greedy whatever {@code doSample} says (vLLM's convention). When no source says
 * {@code do_sample} at all, the temperature decides (vLLM's reading of {@code generation_config.json}; Hugging
 * Face would decode greedily and warn that the file's temperature is ignored).
 *
 * <h2>Built-in defaults (when no source says)</h2>
 * vLLM's, not Hugging Face's: temperature 1, top-k off, top-p 1, min-p 0, all penalties off, min_new_tokens 0,
 * max_new_tokens {@value #DEFAULT_MAX_NEW_TOKENS}, no stop strings, logprobs off. Hugging Face's
 * {@code GenerationConfig} class would add top_k 50 and greedy decoding even where the model's file never asks
 * for them; we apply only what a source actually writes, as vLLM does with {@code generation_config.json}, so
 * the model card's settings mean what they say. {@code max_length} (prompt plus output) is not turned into
 * max_new_tokens: the engine caps generation at the context window instead.
 *
 * <h2>Names</h2>
 * {@link #fromMap} and {@link #toMap} use the Hugging Face and vLLM spellings ({@code temperature, top_k, top_p,
 * min_p, repetition_penalty, presence_penalty, frequency_penalty, max_new_tokens, min_new_tokens, stop,
 * stop_token_ids, ignore_eos, seed, logprobs, do_sample}; vLLM's {@code max_tokens} and {@code min_tokens} are
 * accepted too), so presets, command-line flags and per-row map columns share one vocabulary.
 *
 * <h2>Validation</h2>
 * {@link #validate(SamplingParams)} returns every problem as a message (empty when valid), so the Spark job can
 * report all of a row's mistakes in its error column and the CLI can print them; {@link #resolve} throws
 * {@link IllegalArgumentException} with those messages.
 */
public record SamplingSettings(
        Boolean doSample,
        Double temperature,
        Integer topK,
        Double topP,
        Double minP,
        Double repetitionPenalty,
        Double presencePenalty,
        Double frequencyPenalty,
        Integer maxNewTokens,
        Integer minNewTokens,
        List<String> stop,
        int[] stopTokenIds,
        Boolean ignoreEos,
        Long seed,
        Integer logprobs) {

    public static final int DEFAULT_MAX_NEW_TOKENS = 256;
    /** Most alternatives per token that logprobs may ask for (vLLM's default max_logprobs). */
    public static final int MAX_LOGPROBS = 20;

    public SamplingSettings {
        stop = stop == null ? null : List.copyOf(stop);
        stopTokenIds = stopTokenIds == null ? null : stopTokenIds.clone();
    }

    /** A source that says nothing. */
    public static SamplingSettings none() {
        return new SamplingSettings(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** The sampling fields of a model's {@code generation_config.json} ({@code max_length} is not one of them). */
    public static SamplingSettings of(GenerationConfig config) {
        return new SamplingSettings(config.doSample(), config.temperature(), config.topK(), config.topP(),
                config.minP(), config.repetitionPenalty(), null, null, config.maxNewTokens(), null, null, null, null,
                null, null);
    }

    /** Every field of {@code params}, so a resolved value can be layered again (e.g. a preset written out). */
    public static SamplingSettings of(SamplingParams params) {
        return new SamplingSettings(null, params.temperature(), params.topK(), params.topP(), params.minP(),
                params.repetitionPenalty(), params.presencePenalty(), params.frequencyPenalty(),
                params.maxNewTokens(), params.minNewTokens(), params.stop(), params.stopTokenIds(),
                params.ignoreEos(), params.seed(), params.logprobs());
    }

    /**
     * Settings from named values (see the class comment for the names). Values may be strings (command-line
     * flags), or numbers, booleans and lists as JSON gives them; {@code stop} takes a string or a list of strings,
     * {@code stop_token_ids} a number, a list or a comma-separated string. Null values leave a field unset.
     *
     * @throws IllegalArgumentException naming an unknown key or a value of the wrong type
     */
    public static SamplingSettings fromMap(Map<String, ?> values) {
        SettingValues v = new SettingValues(values);
        return new SamplingSettings(v.bool("do_sample"), v.decimal("temperature"), v.integer("top_k"),
                v.decimal("top_p"), v.decimal("min_p"), v.decimal("repetition_penalty"), v.decimal("presence_penalty"),
                v.decimal("frequency_penalty"), v.integer("max_new_tokens", "max_tokens"),
                v.integer("min_new_tokens", "min_tokens"), v.strings("stop"), v.ids("stop_token_ids"),
                v.bool("ignore_eos"), v.integer64("seed"), v.integer("logprobs"));
    }

    /** The fields this source sets, by their Hugging Face / vLLM names, in a stable order (for run records). */
    public Map<String, Object> toMap() {
        Map<String, Object> out = new LinkedHashMap<>();
        putIfSet(out, "do_sample", doSample);
        putIfSet(out, "temperature", temperature);
        putIfSet(out, "top_k", topK);
        putIfSet(out, "top_p", topP);
        putIfSet(out, "min_p", minP);
        putIfSet(out, "repetition_penalty", repetitionPenalty);
        putIfSet(out, "presence_penalty", presencePenalty);
        putIfSet(out, "frequency_penalty", frequencyPenalty);
        putIfSet(out, "max_new_tokens", maxNewTokens);
        putIfSet(out, "min_new_tokens", minNewTokens);
        putIfSet(out, "stop", stop);
        putIfSet(out, "stop_token_ids", stopTokenIds == null ? null : java.util.Arrays.stream(stopTokenIds).boxed().toList());
        putIfSet(out, "ignore_eos", ignoreEos);
        putIfSet(out, "seed", seed);
        putIfSet(out, "logprobs", logprobs);
        return out;
    }

    private static void putIfSet(Map<String, Object> out, String key, Object value) {
        if (value != null) out.put(key, value);
    }

    /** These settings with every field that {@code higher} sets replaced by its value. */
    public SamplingSettings overriddenBy(SamplingSettings higher) {
        Boolean mergedDoSample = higher.doSample != null ? higher.doSample
                : higher.temperature != null ? null : doSample;
        return new SamplingSettings(
                mergedDoSample,
                pick(higher.temperature, temperature),
                pick(higher.topK, topK),
                pick(higher.topP, topP),
                pick(higher.minP, minP),
                pick(higher.repetitionPenalty, repetitionPenalty),
                pick(higher.presencePenalty, presencePenalty),
                pick(higher.frequencyPenalty, frequencyPenalty),
                pick(higher.maxNewTokens, maxNewTokens),
                pick(higher.minNewTokens, minNewTokens),
                pick(higher.stop, stop),
                pick(higher.stopTokenIds, stopTokenIds),
                pick(higher.ignoreEos, ignoreEos),
                pick(higher.seed, seed),
                pick(higher.logprobs, logprobs));
    }

    /**
     * Final parameters: the model's defaults overridden by these settings, then built-in defaults for whatever is
     * still unset. Throws {@link IllegalArgumentException} listing every out-of-range value.
     */
    public SamplingParams resolve(GenerationConfig modelDefaults) {
        SamplingSettings s = modelDefaults == null ? this : of(modelDefaults).overriddenBy(this);
        double temp = Boolean.FALSE.equals(s.doSample) ? 0 : or(s.temperature, 1.0);
        int k = or(s.topK, 0);
        SamplingParams params = new SamplingParams(
                temp,
                k == -1 ? 0 : k,  // vLLM spells "off" as -1
                or(s.topP, 1.0),
                or(s.minP, 0.0),
                or(s.repetitionPenalty, 1.0),
                or(s.presencePenalty, 0.0),
                or(s.frequencyPenalty, 0.0),
                or(s.maxNewTokens, DEFAULT_MAX_NEW_TOKENS),
                or(s.minNewTokens, 0),
                or(s.stop, List.of()),
                or(s.stopTokenIds, new int[0]),
                or(s.ignoreEos, false),
                s.seed,
                or(s.logprobs, -1));
        List<String> problems = validate(params);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid sampling settings: " + String.join("; ", problems));
        }
        return params;
    }

    /** Every out-of-range value of {@code p}, one message each ("temperature must be >= 0, got -1"); empty when valid. */
    public static List<String> validate(SamplingParams p) {
        List<String> problems = new ArrayList<>();
        if (!(p.temperature() >= 0) || Double.isInfinite(p.temperature())) {
            problems.add("temperature must be >= 0 and finite (0 = greedy), got " + num(p.temperature()));
        }
        if (p.topK() < 0) problems.add("top_k must be >= 0 (0 = off), got " + p.topK());
        if (!(p.topP() > 0 && p.topP() <= 1)) problems.add("top_p must be in (0, 1] (1 = off), got " + num(p.topP()));
        if (!(p.minP() >= 0 && p.minP() <= 1)) problems.add("min_p must be in [0, 1] (0 = off), got " + num(p.minP()));
        if (!(p.repetitionPenalty() > 0) || Double.isInfinite(p.repetitionPenalty())) {
            problems.add("repetition_penalty must be > 0 and finite (1 = off), got " + num(p.repetitionPenalty()));
        }
        if (!(p.presencePenalty() >= -2 && p.presencePenalty() <= 2)) {
            problems.add("presence_penalty must be in [-2, 2] (0 = off), got " + num(p.presencePenalty()));
        }
        if (!(p.frequencyPenalty() >= -2 && p.frequencyPenalty() <= 2)) {
            problems.add("frequency_penalty must be in [-2, 2] (0 = off), got " + num(p.frequencyPenalty()));
        }
        if (p.maxNewTokens() < 1) problems.add("max_new_tokens must be >= 1, got " + p.maxNewTokens());
        if (p.minNewTokens() < 0) problems.add("min_new_tokens must be >= 0, got " + p.minNewTokens());
        if (p.minNewTokens() > p.maxNewTokens()) {
            problems.add("min_new_tokens (" + p.minNewTokens() + ") must not exceed max_new_tokens (" + p.maxNewTokens() + ")");
        }
        for (String s : p.stop()) {
            if (s == null || s.isEmpty()) problems.add("stop strings must be non-empty, got an empty one");
        }
        for (int id : p.stopTokenIds()) {
            if (id < 0) problems.add("stop_token_ids must be >= 0, got " + id);
        }
        if (p.logprobs() < -1 || p.logprobs() > MAX_LOGPROBS) {
            problems.add("logprobs must be in [-1, " + MAX_LOGPROBS + "] (-1 = off, 0 = chosen token only), got " + p.logprobs());
        }
        return problems;
    }

    private static String num(double v) {
        return v == Math.rint(v) && !Double.isInfinite(v) ? Long.toString((long) v) : Double.toString(v);
    }

    private static <T> T pick(T higher, T lower) {
        return higher != null ? higher : lower;
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }
}
