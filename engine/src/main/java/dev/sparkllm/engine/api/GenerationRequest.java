package dev.sparkllm.engine.api;

import dev.sparkllm.engine.sampling.SamplingParams;

import java.util.Objects;

/**
 * One generation: prompt token ids (already rendered by a prompt template and tokenized) and how to sample.
 * The engine works on token ids only; turning rows, prompts or messages into ids is the prompting layer's job.
 *
 * @param id             caller's id, echoed in the result (any string; need not be unique to the engine)
 * @param promptTokenIds the prompt, BOS included when the model wants one
 * @param sampling       sampling settings, fully resolved
 */
public record GenerationRequest(String id, int[] promptTokenIds, SamplingParams sampling) {
    public GenerationRequest {
        Objects.requireNonNull(promptTokenIds, "promptTokenIds");
        Objects.requireNonNull(sampling, "sampling");
        if (promptTokenIds.length == 0) throw new IllegalArgumentException("request " + id + ": empty prompt");
    }
}
