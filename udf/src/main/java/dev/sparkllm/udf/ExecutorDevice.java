package dev.sparkllm.udf;

import dev.sparkllm.engine.Engines;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

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
 *
 * <p>Executors given GPUs ({@code spark.executor.resource.gpu.amount}) whose tasks ask for none (no
 * {@code spark.task.resource.gpu.amount}) get no address: every such executor's engine would open GPU 0. That is
 * logged as a warning, once per executor.
 */
public final class ExecutorDevice {

    private static final Logger LOG = LoggerFactory.getLogger(ExecutorDevice.class);
    private static final AtomicBoolean WARNED = new AtomicBoolean();

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
            SparkEnv env = SparkEnv.get();
            String warning = env == null ? null
                    : taskWithoutGpuWarning(env.conf().get("spark.executor.resource.gpu.amount", null));
            if (warning != null && WARNED.compareAndSet(false, true)) LOG.warn(warning);
        }
        if ("cuda".equals(configured)) return "cuda:0";
        if (configured == null || configured.equals("auto")) return Engines.resolveDevice("auto");
        return configured;
    }

    /**
     * The warning for a task that has no gpu address on an executor given {@code executorGpuAmount} GPUs (the
     * setting's value, null when unset); null when there is nothing to warn about.
     */
    static String taskWithoutGpuWarning(String executorGpuAmount) {
        if (executorGpuAmount == null) return null;
        try {
            if (Double.parseDouble(executorGpuAmount.trim()) <= 0) return null;
        } catch (NumberFormatException e) {
            return null;
        }
        return "this executor was given " + executorGpuAmount.trim() + " GPU(s) (spark.executor.resource.gpu.amount)"
                + " but its tasks get no gpu address: set spark.task.resource.gpu.amount (0.25 = four tasks per GPU)."
                + " Without it the engine opens GPU 0, as does every other executor on this machine";
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
