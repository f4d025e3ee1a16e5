package dev.sparkllm.engine.gptq;

import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.model.Linear;
import dev.sparkllm.engine.model.LlamaWeights;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Benchmark harness (not a test): runs every linear layer of a model once per simulated decode step, single
 * row, on 1 and on N threads splitting the output range as the CPU backend does, and prints steps per second
 * and multiply-adds per second. The linears are most of a step's work, so this bounds tokens/s from above.
 *
 * <pre>
 * mvn -q -o -pl engine test-compile
 * java -cp engine/target/classes:engine/target/test-classes:$(cat cp.txt) dev.sparkllm.engine.gptq.GptqLinearBenchmark \
 *     ../shared/models/kjv-tiny/main [threads] [seconds]
 * </pre>
 */
public final class GptqLinearBenchmark {

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "../shared/models/kjv-tiny/main");
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : Runtime.getRuntime().availableProcessors();
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 5;
        List<Linear> linears = new ArrayList<>();
        try (ModelDirectory m = ModelDirectory.open(dir)) {
            LlamaWeights w = m.loadWeights();
            for (LlamaWeights.Layer l : w.layers()) {
                linears.addAll(List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.up(), l.down()));
            }
            linears.add(w.lmHead());
        }
        long macs = 0;
        for (Linear l : linears) macs += (long) l.inFeatures() * l.outFeatures();
        System.out.printf("%s: %d linears, %.2f M multiply-adds per step%n", dir, linears.size(), macs / 1e6);
        for (int t : new int[] {1, threads}) {
            ExecutorService pool = Executors.newFixedThreadPool(t);
            try {
                run(linears, t, pool, seconds / 3); // warm-up
                double stepsPerSecond = run(linears, t, pool, seconds);
                System.out.printf("threads %d: %.0f steps/s, %.2f G multiply-adds/s%n", t, stepsPerSecond, stepsPerSecond * macs / 1e9);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    private static double run(List<Linear> linears, int threads, ExecutorService pool, double seconds) throws Exception {
        float[][] xs = new float[linears.size()][];
        float[][] ys = new float[linears.size()][];
        for (int i = 0; i < linears.size(); i++) {
            xs[i] = GptqLinearTest.randomInput(linears.get(i).inFeatures(), i);
            ys[i] = new float[linears.get(i).outFeatures()];
        }
        long cpuStart = processCpuNanos();
        long start = System.nanoTime();
        long deadline = start + (long) (seconds * 1e9);
        long steps = 0;
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < linears.size(); i++) {
                Linear l = linears.get(i);
                float[] x = xs[i];
                float[] y = ys[i];
                if (threads == 1) {
                    l.forward(x, 1, y, 0, l.outFeatures());
                    continue;
                }
                List<Future<?>> parts = new ArrayList<>();
                int out = l.outFeatures();
                for (int t = 0; t < threads; t++) {
                    int s = (int) ((long) out * t / threads);
                    int e = (int) ((long) out * (t + 1) / threads);
                    parts.add(pool.submit(() -> l.forward(x, 1, y, s, e)));
                }
                for (Future<?> f : parts) f.get();
            }
            steps++;
        }
        double wall = (System.nanoTime() - start) / 1e9;
        double cpu = (processCpuNanos() - cpuStart) / 1e9;
        // On a shared machine wall time overstates the cost; CPU time shows what the kernels need.
        System.out.printf("  (%d steps in %.2f s wall, %.2f s CPU: %.0f steps per CPU-second)%n", steps, wall, cpu, steps / cpu);
        return steps / wall;
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }
}
