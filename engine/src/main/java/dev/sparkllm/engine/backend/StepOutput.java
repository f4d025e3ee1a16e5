package dev.sparkllm.engine.backend;

import java.util.List;

/**
 * The logits of one step, one entry per chunk of the {@link StepInput}, in the same order.
 *
 * @param logits per chunk: {@code null} for {@link StepInput.Logits#NONE}; {@code [vocab]} for
 *               {@link StepInput.Logits#LAST}; {@code [tokens * vocab]} row-major for {@link StepInput.Logits#ALL}.
 *               Raw model output, before any sampling adjustment.
 */
public record StepOutput(List<float[]> logits) {
}
