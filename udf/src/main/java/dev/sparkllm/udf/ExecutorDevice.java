package dev.sparkllm.udf;

import dev.sparkllm.engine.Engines;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

import java.util.Arrays;
import java.util.List;

/**
 * Which device this task's engine runs on. Spark's GPU scheduling decides: when the task was given "gpu"
 * addresses (spark.task.resource.gpu.amount) and the configured device is "auto" or "cuda", the first address
 * wins. Otherwise the configured device: a bare "cuda" means "cuda:0", and "auto" means GPU 0 when this build has
 * kernels and the driver shows a GPU, else the CPU (local mode on a GPU machine uses the GPU). Explicit devices
 * ("cpu", "cuda:1", "simulated") are kept as given.
 *
 * <p>Spark's address is a GPU number as the discovery script printed it (nvidia-smi's index). Where the cluster
 * manager also narrowed the process's view with CUDA_VISIBLE_DEVICES (YARN and Kubernetes do), the driver numbers
 * the visible GPUs from 0, so the address is translated to its position in that list.
 */
public final class ExecutorDevice {

    private ExecutorDevice() {
    }

    public static String resolve(String configured) {
        TaskContext task = TaskContext.get();
        boolean wantsGpu = configured == null || configured.equals("auto") || configured.equals("cuda");
        if (task != null && wantsGpu) {
            ResourceInformation gpu = task.resources().get("gpu").getOrElse(() -> null);
            if (gpu != null && gpu.addresses().length > 0) {
                return "cuda:" + visibleOrdinal(gpu.addresses()[0], System.getenv("CUDA_VISIBLE_DEVICES"));
            }
        }
        if ("cuda".equals(configured)) return "cuda:0";
        if (configured == null || configured.equals("auto")) return Engines.resolveDevice("auto");
        return configured;
    }

    /**
     * The driver's number for the GPU Spark calls {@code address}: its position in {@code visibleDevices} when
     * that list (CUDA_VISIBLE_DEVICES) names it, the address itself otherwise.
     */
    static String visibleOrdinal(String address, String visibleDevices) {
        if (visibleDevices == null || visibleDevices.isBlank()) return address.trim();
        List<String> visible = Arrays.stream(visibleDevices.split(",")).map(String::trim).toList();
        int i = visible.indexOf(address.trim());
        if (i >= 0) return String.valueOf(i);
        if (visible.size() == 1) return "0"; // the one GPU this process sees (listed by UUID, say) is the one assigned
        return address.trim();
    }
}
