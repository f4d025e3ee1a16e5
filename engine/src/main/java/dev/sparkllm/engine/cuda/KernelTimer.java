package dev.sparkllm.engine.cuda;

import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Timing on a {@link CudaDevice}'s stream, for benchmarks: events around every launch while a profile is open (the
 * per-kernel breakdown of a step; launches are then not captured into graphs), and the time a piece of work takes
 * between two events. Runs on the device's thread, like every CUDA call.
 */
public final class KernelTimer {

    private final CudaDevice d;
    private Map<String, double[]> profile;            // kernel → {total ms, launches}
    private final List<Object[]> pending = new ArrayList<>();

    KernelTimer(CudaDevice d) {
        this.d = d;
    }

    private CUevent event() {
        CUevent e = new CUevent();
        d.check(JCudaDriver.cuEventCreate(e, 0), "cuEventCreate");
        return e;
    }

    /** Whether launches are being timed one by one. */
    public boolean profiling() {
        return profile != null;
    }

    /** Starts timing every launch. */
    public void startProfile() {
        d.onDeviceThread();
        profile = new TreeMap<>();
        pending.clear();
    }

    /** Called by {@link CudaDevice#launch} before a launch: an event recorded when profiling, else null. */
    Object beforeLaunch() {
        if (profile == null) return null;
        CUevent start = event();
        d.check(JCudaDriver.cuEventRecord(start, d.stream()), "cuEventRecord");
        return start;
    }

    /** Called by {@link CudaDevice#launch} after a launch, with what {@link #beforeLaunch} returned. */
    void afterLaunch(Object start, String kernel) {
        if (start == null) return;
        CUevent end = event();
        d.check(JCudaDriver.cuEventRecord(end, d.stream()), "cuEventRecord");
        pending.add(new Object[]{kernel, start, end});
    }

    /** Stops timing; returns per kernel name {total milliseconds, launches}. */
    public Map<String, double[]> stopProfile() {
        d.onDeviceThread();
        d.synchronize("profiled work");
        float[] ms = new float[1];
        for (Object[] t : pending) {
            d.check(JCudaDriver.cuEventElapsedTime(ms, (CUevent) t[1], (CUevent) t[2]), "cuEventElapsedTime");
            double[] acc = profile.computeIfAbsent((String) t[0], k -> new double[2]);
            acc[0] += ms[0];
            acc[1]++;
            JCudaDriver.cuEventDestroy((CUevent) t[1]);
            JCudaDriver.cuEventDestroy((CUevent) t[2]);
        }
        pending.clear();
        Map<String, double[]> result = profile;
        profile = null;
        return result;
    }

    /** Milliseconds {@code work} takes on the stream, between two events (the work must only launch). */
    public double timeMillis(Runnable work) {
        d.onDeviceThread();
        CUevent a = event(), b = event();
        d.check(JCudaDriver.cuEventRecord(a, d.stream()), "cuEventRecord");
        work.run();
        d.check(JCudaDriver.cuEventRecord(b, d.stream()), "cuEventRecord");
        d.check(JCudaDriver.cuEventSynchronize(b), "timed work");
        float[] ms = new float[1];
        d.check(JCudaDriver.cuEventElapsedTime(ms, a, b), "cuEventElapsedTime");
        JCudaDriver.cuEventDestroy(a);
        JCudaDriver.cuEventDestroy(b);
        return ms[0];
    }
}
