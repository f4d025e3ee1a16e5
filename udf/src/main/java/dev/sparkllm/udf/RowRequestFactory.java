package dev.sparkllm.udf;

import dev.sparkllm.engine.api.GenerationRequest;

import java.util.Map;

/** Renders one row into an engine request: prompt template, tokenization, sampling resolution. Thread-safe. */
public interface RowRequestFactory {

    /**
     * @throws RowInputException when the row cannot be generated; the message says why
     */
    PreparedRequest prepare(RowInput row) throws RowInputException;

    /**
     * A request ready to submit.
     *
     * @param request    the engine request (its sampling fully resolved, seed included)
     * @param truncated  whether the prompt was cut to fit the context window
     * @param parameters the resolved sampling parameters by name ("temperature", "seed", ...), recorded in the
     *                   output's {@code parameters} struct for audit
     */
    record PreparedRequest(GenerationRequest request, boolean truncated, Map<String, Object> parameters) {
    }
}
