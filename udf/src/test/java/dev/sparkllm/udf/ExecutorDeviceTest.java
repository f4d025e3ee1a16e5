package dev.sparkllm.udf;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExecutorDeviceTest {

    @Test
    void addressesAreDriverNumbersWithoutCudaVisibleDevices() {
        assertEquals("1", ExecutorDevice.visibleOrdinal("1", null));
        assertEquals("3", ExecutorDevice.visibleOrdinal(" 3 ", ""));
    }

    @Test
    void addressesAreTranslatedThroughCudaVisibleDevices() {
        // a node with GPUs 0-3 where the cluster manager gave this executor GPUs 2 and 3
        assertEquals("0", ExecutorDevice.visibleOrdinal("2", "2,3"));
        assertEquals("1", ExecutorDevice.visibleOrdinal("3", "2, 3"));
        // one GPU visible, listed by UUID: it is the one assigned
        assertEquals("0", ExecutorDevice.visibleOrdinal("5", "GPU-8d1f2a"));
        // an address the list does not name among several: kept as given
        assertEquals("7", ExecutorDevice.visibleOrdinal("7", "0,1"));
    }

    @Test
    void explicitDevicesAreKeptOutsideTasks() {
        assertEquals("cpu", ExecutorDevice.resolve("cpu"));
        assertEquals("cuda:0", ExecutorDevice.resolve("cuda"));
        assertEquals("cuda:1", ExecutorDevice.resolve("cuda:1"));
    }

    @Test
    void executorGpusWithoutATaskAmountAreWarnedAbout() {
        assertNull(ExecutorDevice.taskWithoutGpuWarning(null), "no GPUs for executors: nothing to say");
        assertNull(ExecutorDevice.taskWithoutGpuWarning("0"));
        assertNull(ExecutorDevice.taskWithoutGpuWarning("x"));
        String w = ExecutorDevice.taskWithoutGpuWarning(" 1 ");
        assertTrue(w.contains("spark.task.resource.gpu.amount") && w.contains("given 1 GPU"), w);
    }
}
