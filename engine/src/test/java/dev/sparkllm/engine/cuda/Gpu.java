package dev.sparkllm.engine.cuda;

import org.junit.jupiter.api.Assumptions;

/**
 * The GPU the {@code gpu}-tagged tests share (one per test JVM), or a visible skip where there is none: CI and
 * the development machines have no GPU; the tests run on the GPU machine (see BENCHMARKS.md for how).
 */
final class Gpu {

    private static CudaDevice device;

    private Gpu() {
    }

    /** Skips the calling test unless this build has kernels and the driver shows a GPU. */
    static void assumeGpu() {
        Assumptions.assumeTrue(CudaDevice.hasKernels(), "skipped: this build has no GPU kernels (nvcc absent at build time)");
        Assumptions.assumeTrue(CudaDevice.deviceCount() > 0, "skipped: no GPU (no NVIDIA driver or no device visible)");
    }

    /** GPU 0, opened once for the test JVM. */
    static synchronized CudaDevice device() {
        assumeGpu();
        if (device == null) device = CudaDevice.open(0);
        return device;
    }

    /** Relative error ‖a − b‖ / ‖b‖. */
    static double relativeError(float[] a, float[] b, int n) {
        double diff = 0, norm = 0;
        for (int i = 0; i < n; i++) {
            diff += (double) (a[i] - b[i]) * (a[i] - b[i]);
            norm += (double) b[i] * b[i];
        }
        return Math.sqrt(diff / Math.max(norm, 1e-30));
    }
}
