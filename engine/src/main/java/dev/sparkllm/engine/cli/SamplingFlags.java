package dev.sparkllm.engine.cli;

import dev.sparkllm.engine.sampling.SamplingSettings;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sampling flags shared by the commands that generate. Only flags the user gave are set, so the resolution
 * order (request, command line, preset, the model's generation_config.json) sees what the command line says.
 */
public final class SamplingFlags {

    @Option(names = "--temperature", paramLabel = "T", description = "0 = greedy; logits are divided by T")
    Double temperature;

    @Option(names = "--top-p", paramLabel = "P", description = "nucleus sampling: keep the smallest set reaching P")
    Double topP;

    @Option(names = "--top-k", paramLabel = "K", description = "keep the K most likely tokens (0 = off)")
    Integer topK;

    @Option(names = "--min-p", paramLabel = "P", description = "drop tokens below P times the top probability")
    Double minP;

    @Option(names = "--repetition-penalty", paramLabel = "R", description = "Hugging Face repetition penalty (1 = off)")
    Double repetitionPenalty;

    @Option(names = "--presence-penalty", paramLabel = "X", description = "vLLM presence penalty (0 = off)")
    Double presencePenalty;

    @Option(names = "--frequency-penalty", paramLabel = "X", description = "vLLM frequency penalty (0 = off)")
    Double frequencyPenalty;

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "most tokens to generate")
    Integer maxNewTokens;

    @Option(names = "--min-new-tokens", paramLabel = "N", description = "EOS and stop strings are ignored before N tokens")
    Integer minNewTokens;

    @Option(names = "--stop", paramLabel = "S", description = "stop string (repeatable); not included in the text")
    List<String> stop;

    @Option(names = "--stop-token-id", paramLabel = "ID", description = "token id that ends generation (repeatable)")
    List<Integer> stopTokenIds;

    @Option(names = "--ignore-eos", description = "keep generating past end-of-sequence (benchmarks)")
    Boolean ignoreEos;

    @Option(names = "--seed", paramLabel = "N", description = "seed for every request: the same prompt gives the same text, alone or among others")
    Long seed;

    @Option(names = "--logprobs", paramLabel = "N", description = "report each token's log-probability and the N most likely alternatives")
    Integer logprobs;

    /** The flags given, in the Hugging Face / vLLM names that SamplingSettings reads. */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        put(m, "temperature", temperature);
        put(m, "top_p", topP);
        put(m, "top_k", topK);
        put(m, "min_p", minP);
        put(m, "repetition_penalty", repetitionPenalty);
        put(m, "presence_penalty", presencePenalty);
        put(m, "frequency_penalty", frequencyPenalty);
        put(m, "max_new_tokens", maxNewTokens);
        put(m, "min_new_tokens", minNewTokens);
        put(m, "stop", stop);
        put(m, "stop_token_ids", stopTokenIds);
        put(m, "ignore_eos", ignoreEos);
        put(m, "seed", seed);
        put(m, "logprobs", logprobs);
        return m;
    }

    public SamplingSettings settings() {
        return SamplingSettings.fromMap(asMap());
    }

    private static void put(Map<String, Object> m, String key, Object value) {
        if (value != null) m.put(key, value);
    }
}
