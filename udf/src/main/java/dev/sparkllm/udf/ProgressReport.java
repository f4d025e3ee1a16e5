package dev.sparkllm.udf;

import java.io.Serializable;

/**
 * One executor's counters at one moment, sent to the driver plugin.
 *
 * @param executorId        Spark's executor id
 * @param timeMillis        when it was taken (epoch ms)
 * @param rowsOk            rows emitted without error
 * @param rowsFailed        rows emitted as error rows
 * @param promptTokens      prompt tokens of emitted rows
 * @param completionTokens  generated tokens of emitted rows
 * @param engineSteps       engine steps run (all engines of the executor)
 * @param occupancySum      sum over steps of batch occupancy (0..1 per step)
 * @param engineBusyNanos   time the engines spent in steps
 * @param liveEngines       engines open now
 * @param engineCreations   engines opened since the executor started
 * @param decodeTokens      tokens the engines generated (all engines of the executor), counted per step: it
 *                          moves while rows are still in flight
 */
public record ProgressReport(String executorId, long timeMillis, long rowsOk, long rowsFailed, long promptTokens,
                             long completionTokens, long engineSteps, double occupancySum, long engineBusyNanos,
                             int liveEngines, int engineCreations, long decodeTokens) implements Serializable {

    /** Mean batch occupancy of the engines' steps, 0..1. */
    public double meanOccupancy() {
        return engineSteps == 0 ? 0 : occupancySum / engineSteps;
    }
}
