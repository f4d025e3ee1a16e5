package dev.sparkllm.engine.cuda;

import dev.sparkllm.engine.backend.StepInput;
import jcuda.driver.CUgraphExec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Kernel-level measurements for the GPU benchmark: the GPTQ product per layer shape and batch, and where one
 * engine step's time goes, kernel by kernel.
 */
public final class GpuKernelTimings {

    private GpuKernelTimings() {
    }

    /** One product's time: {@code ms} per call, weight bytes read per second. */
    public record ProductTiming(String shape, int in, int out, int batch, double ms, double tbPerSecond) {
    }

    /**
     * Times the GPTQ product ({@code gemm_q4} + its split-K reduction) of random weights at each shape and batch,
     * averaged over {@code reps} calls after a warm-up; each shape's weights are {@code copies} separate layers
     * taken in turn, so that the L2 cache holds none of them between calls (as in a real step). The calls are
     * replayed as one CUDA graph, as a decode step is: timed as launches from the host, a 20 µs product measured
     * the host's launch rate (0.040 ms for the o shape at batch 1 where the kernel takes 0.018).
     *
     * @param shapes rows of {name, in, out}
     */
    public static List<ProductTiming> products(CudaBackend backend, List<Object[]> shapes, int[] batches, int bits,
                                               int groupSize, boolean actOrder, int reps, int copies) {
        CudaDevice d = backend.device();
        return d.call(() -> {
            List<ProductTiming> out = new ArrayList<>();
            Random r = new Random(3);
            int maxBatch = 0;
            for (int b : batches) maxBatch = Math.max(maxBatch, b);
            for (Object[] shape : shapes) {
                String name = (String) shape[0];
                int in = (Integer) shape[1], n = (Integer) shape[2];
                List<GpuLinear> layers = new ArrayList<>();
                long[] bytes = {0};
                for (int i = 0; i < copies; i++) layers.add(GpuModel.randomGptq(d, in, n, bits, groupSize, actOrder, r, bytes));
                long weightBytes = bytes[0] / copies;
                DeviceBuffer x = d.alloc((long) maxBatch * in * 2, "x");
                d.launch("fill_random_half", GpuLinears.blocks((long) maxBatch * in), 1, 1, 256, 0, x, (long) maxBatch * in, 1f, 7L);
                DeviceBuffer y = d.alloc((long) maxBatch * n * 4, "y");
                DeviceBuffer ws = d.alloc(layers.get(0).workspaceFloats() * 4, "workspace");
                for (int batch : batches) {
                    for (int i = 0; i < copies; i++) layers.get(i).forward(d, x, in, batch, ws, y, n, 0, false); // warm-up
                    CUgraphExec calls = d.capture(() -> {
                        for (int i = 0; i < reps; i++) layers.get(i % copies).forward(d, x, in, batch, ws, y, n, 0, false);
                    }, "product timing");
                    try {
                        d.replay(calls, "product timing");
                        double ms = d.timer().timeMillis(() -> d.replay(calls, "product timing")) / reps;
                        out.add(new ProductTiming(name, in, n, batch, ms, weightBytes / (ms * 1e-3) / 1e12));
                    } finally {
                        d.destroy(calls);
                    }
                }
                for (GpuLinear g : layers) {
                    d.free(g.weights);
                    d.free(g.zeroScales);
                    d.free(g.stepGroup);
                    d.free(g.perm);
                }
                d.free(x);
                d.free(y);
                d.free(ws);
            }
            return out;
        });
    }

    /** Milliseconds a memory-bound reduction over {@code bytes} takes: the card's read bandwidth in TB/s. */
    public static double readBandwidth(CudaBackend backend, long bytes) {
        CudaDevice d = backend.device();
        return d.call(() -> {
            DeviceBuffer b = d.alloc(bytes, "bandwidth probe");
            DeviceBuffer sink = d.alloc(1024 * 4, "bandwidth sink");
            d.zero(b);
            long words = bytes / 16;
            d.launch("read_bandwidth", 1056, 1, 1, 256, 0, b, words, sink);
            double ms = d.timer().timeMillis(() -> {
                for (int i = 0; i < 5; i++) d.launch("read_bandwidth", 1056, 1, 1, 256, 0, b, words, sink);
            }) / 5;
            d.free(b);
            d.free(sink);
            return bytes / (ms * 1e-3) / 1e12;
        });
    }

    /**
     * Runs {@code step} on the backend once with every launch timed; returns per kernel {total ms, launches}.
     * The step's KV blocks must be valid for the backend (its contents do not matter for timing).
     */
    public static Map<String, double[]> breakdown(CudaBackend backend, StepInput step) {
        CudaDevice d = backend.device();
        d.call(() -> {
            d.timer().startProfile();
            return null;
        });
        RuntimeException failure = null;
        try {
            backend.execute(step);
        } catch (RuntimeException e) {
            failure = e;
        }
        Map<String, double[]> result = d.call(() -> d.timer().stopProfile());
        if (failure != null) throw failure;
        return result;
    }
}
