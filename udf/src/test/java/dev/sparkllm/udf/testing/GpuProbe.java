package dev.sparkllm.udf.testing;

import dev.sparkllm.udf.ExecutorDevice;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Spark application for the two-GPU cluster test (submitted like the batch job): runs {@code PARTITIONS} tasks
 * that each hold their slot for {@code SLEEP_MS} and report where they ran, one tab-separated line per task,
 * written by the driver to {@code OUTPUT}:
 * partition, executor id, the task's "gpu" addresses, {@code ExecutorDevice.resolve("auto")},
 * {@code resolve("cuda")}, the executor's CUDA_VISIBLE_DEVICES ("-" when unset), and how many probe tasks were
 * running in that executor JVM when this one started (itself included).
 *
 * <p>Usage: {@code GpuProbe OUTPUT PARTITIONS SLEEP_MS}
 */
public final class GpuProbe {

    /** Probe tasks running now in this JVM. */
    private static final AtomicInteger RUNNING = new AtomicInteger();

    private GpuProbe() {
    }

    public static void main(String[] args) throws Exception {
        String output = args[0];
        int partitions = Integer.parseInt(args[1]);
        long sleepMs = Long.parseLong(args[2]);
        SparkSession spark = SparkSession.builder().appName("sparkllm-gpu-probe").getOrCreate();
        try {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < partitions; i++) ids.add(i);
            List<String> lines = sc.parallelize(ids, partitions)
                    .mapPartitions((Iterator<Integer> rows) -> List.of(probe(sleepMs)).iterator())
                    .collect();
            Files.write(Paths.get(output), lines);
        } finally {
            spark.stop();
        }
    }

    static String probe(long sleepMs) throws InterruptedException {
        int concurrent = RUNNING.incrementAndGet();
        try {
            TaskContext task = TaskContext.get();
            ResourceInformation gpu = task.resources().get("gpu").getOrElse(() -> null);
            String addresses = gpu == null ? "-" : String.join(",", gpu.addresses());
            String auto = ExecutorDevice.resolve("auto");
            String cuda = ExecutorDevice.resolve("cuda");
            String visible = System.getenv("CUDA_VISIBLE_DEVICES");
            Thread.sleep(sleepMs);
            return String.join("\t", String.valueOf(task.partitionId()), SparkEnv.get().executorId(), addresses,
                    auto, cuda, visible == null ? "-" : visible, String.valueOf(concurrent));
        } finally {
            RUNNING.decrementAndGet();
        }
    }
}
