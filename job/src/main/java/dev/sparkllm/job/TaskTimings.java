package dev.sparkllm.job;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-partition timings of the generation stages, for the run summary: a listener that maps stages to the chunk
 * whose job ran them (through the job group) and records every finished task.
 */
final class TaskTimings extends SparkListener {

    static final String GROUP_PREFIX = "sparkllm-chunk-";

    /** One finished task of a generation stage. */
    record Task(int chunk, int partition, int attempt, String executor, long millis, long rowsWritten, boolean ok) {
    }

    private final Map<Integer, Integer> stageChunk = new ConcurrentHashMap<>();
    private final List<Task> tasks = new ArrayList<>();

    @Override
    public void onJobStart(SparkListenerJobStart job) {
        String group = job.properties() == null ? null : job.properties().getProperty("spark.jobGroup.id");
        if (group == null || !group.startsWith(GROUP_PREFIX)) return;
        int chunk = Integer.parseInt(group.substring(GROUP_PREFIX.length()));
        job.stageIds().foreach(id -> stageChunk.put((Integer) id, chunk));
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        Integer chunk = stageChunk.get(end.stageId());
        if (chunk == null || end.taskInfo() == null) return;
        long written = end.taskMetrics() == null ? 0 : end.taskMetrics().outputMetrics().recordsWritten();
        if (written == 0 && end.taskInfo().successful()) return; // the shuffle-write side of the chunk job
        synchronized (tasks) {
            tasks.add(new Task(chunk, end.taskInfo().partitionId(), end.taskInfo().attemptNumber(),
                    end.taskInfo().executorId(), end.taskInfo().duration(), written, end.taskInfo().successful()));
        }
    }

    List<Task> tasks() {
        synchronized (tasks) {
            return List.copyOf(tasks);
        }
    }
}
