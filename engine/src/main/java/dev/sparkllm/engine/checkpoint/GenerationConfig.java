package dev.sparkllm.engine.checkpoint;

/**
 * The model's own sampling defaults from {@code generation_config.json}; every field is null when the file
 * does not set it. The lowest-priority source when sampling settings are resolved.
 *
 * @param doSample          {@code do_sample}; false means greedy unless something of higher priority says otherwise
 * @param temperature       {@code temperature}
 * @param topK              {@code top_k}
 * @param topP              {@code top_p}
 * @param minP              {@code min_p}
 * @param repetitionPenalty {@code repetition_penalty}
 * @param maxNewTokens      {@code max_new_tokens}
 * @param maxLength         {@code max_length} (prompt plus generation)
 * @param bosTokenId        {@code bos_token_id}
 * @param eosTokenIds       {@code eos_token_id}, a number or a list
 * @param padTokenId        {@code pad_token_id}
 */
public record GenerationConfig(
        Boolean doSample,
        Double temperature,
        Integer topK,
        Double topP,
        Double minP,
        Double repetitionPenalty,
        Integer maxNewTokens,
        Integer maxLength,
        Integer bosTokenId,
        int[] eosTokenIds,
        Integer padTokenId) {

    /** A config that sets nothing (the model directory has no generation_config.json). */
    public static GenerationConfig empty() {
        return new GenerationConfig(null, null, null, null, null, null, null, null, null, null, null);
    }
}
