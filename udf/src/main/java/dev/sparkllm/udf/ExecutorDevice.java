package dev.sparkllm.udf;

import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * Which device this task's engine runs on. Spark's GPU scheduling decides: when the task was given "gpu"
 * addresses (spark.task.resource.gpu.amount) and the configured device is "auto" or "cuda", the first address
 * wins; otherwise the configured device, with a bare "cuda" meaning "cuda:0" and "auto" meaning "cpu". Explicit
 * devices ("cpu", "cuda:1", "simulated") are kept as given.
 */
public final class ExecutorDevice {

    private ExecutorDevice() {
    }

    public static String resolve(String configured) {
        TaskContext task = TaskContext.get();
        boolean wantsGpu = configured == null || configured.equals("auto") || configured.equals("cuda");
        if (task != null && wantsGpu) {
            ResourceInformation gpu = task.resources().get("gpu").getOrElse(() -> null);
            if (gpu != null && gpu.addresses().length > 0) return "cuda:" + gpu.addresses()[0];
        }
        if ("cuda".equals(configured)) return "cuda:0";
        if (configured == null || configured.equals("auto")) return "cpu";
        return configured;
    }
}
