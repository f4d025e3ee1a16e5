package dev.sparkllm.engine.cuda;

import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One GPU through JCuda's driver API: its context, the engine's kernel module, a stream and every allocation.
 *
 * <p>Threading: every CUDA call happens on this device's own thread ({@code cuda-N}), where the context is
 * current; callers hand work to it with {@link #call}. Spark task threads therefore never touch CUDA, and a
 * context is never current on two threads. Methods other than {@link #call}, {@link #open} and
 * {@link #close} must run on that thread (they check).
 *
 * <p>Start-up checks, each with a message that says what is wrong and what to do: the driver library loads,
 * the driver supports CUDA {@value #MIN_DRIVER_VERSION_TEXT} (the kernels are built by nvcc 13), the device
 * exists, its compute capability is at least 8.0, and this build carries kernels.
 */
public final class CudaDevice implements AutoCloseable {

    /** cuDriverGetVersion of CUDA 13.0: kernels built by nvcc 13 need it (driver 580 or later). */
    static final int MIN_DRIVER_VERSION = 13000;
    static final String MIN_DRIVER_VERSION_TEXT = "13.0";
    static final String KERNELS_RESOURCE = "/dev/sparkllm/engine/cuda/kernels.fatbin";

    private final int ordinal;
    private final ExecutorService thread;
    private Thread deviceThread;
    private CUcontext context;
    private CUdevice device;
    private CUmodule module;
    private CUstream stream;
    private String name;
    private int ccMajor;
    private int ccMinor;
    private int smCount;
    private int maxSharedPerBlock;
    private long totalBytes;
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final Map<DeviceBuffer, Boolean> live = new IdentityHashMap<>();
    private long allocatedBytes;
    private boolean broken;

    private CudaDevice(int ordinal) {
        this.ordinal = ordinal;
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "cuda-" + ordinal);
            t.setDaemon(true);
            return t;
        });
    }

    /** Whether this build carries GPU kernels (nvcc was present when it was built). */
    public static boolean hasKernels() {
        return CudaDevice.class.getResource(KERNELS_RESOURCE) != null;
    }

    /** Opens GPU {@code ordinal} (as the driver numbers the visible devices), or throws saying why it cannot. */
    public static CudaDevice open(int ordinal) {
        if (!hasKernels()) {
            throw new CudaException("this build has no GPU kernels: nvcc (the CUDA 13 toolkit) was not found when it was"
                    + " built; install the CUDA toolkit and rebuild, or use --device cpu");
        }
        CudaDevice d = new CudaDevice(ordinal);
        try {
            d.call(() -> {
                d.init();
                return null;
            });
        } catch (RuntimeException e) {
            d.thread.shutdownNow();
            throw e;
        }
        return d;
    }

    /** Number of GPUs the driver shows this process, 0 when there is no usable driver (never throws). */
    public static int deviceCount() {
        ExecutorService t = Executors.newSingleThreadExecutor(r -> {
            Thread th = new Thread(r, "cuda-probe");
            th.setDaemon(true);
            return th;
        });
        try {
            return t.submit(() -> {
                try {
                    JCudaDriver.setExceptionsEnabled(false);
                    if (JCudaDriver.cuInit(0) != CUresult.CUDA_SUCCESS) return 0;
                    int[] n = new int[1];
                    return JCudaDriver.cuDeviceGetCount(n) == CUresult.CUDA_SUCCESS ? n[0] : 0;
                } catch (Throwable e) { // no libcuda, no JCuda natives for this platform
                    return 0;
                }
            }).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        } catch (ExecutionException e) {
            return 0;
        } finally {
            t.shutdownNow();
        }
    }

    private void init() {
        deviceThread = Thread.currentThread();
        try {
            JCudaDriver.setExceptionsEnabled(false);
            int r = JCudaDriver.cuInit(0);
            if (r != CUresult.CUDA_SUCCESS) {
                throw new CudaException("no usable NVIDIA GPU: cuInit failed with " + CUresult.stringFor(r)
                        + (r == CUresult.CUDA_ERROR_NO_DEVICE ? " (the driver sees no GPU; check CUDA_VISIBLE_DEVICES and the"
                        + " container's GPU access)" : "") + "; use --device cpu to run without one");
            }
        } catch (UnsatisfiedLinkError e) {
            String first = String.valueOf(e.getMessage()).lines().findFirst().orElse("").trim();
            throw new CudaException("no NVIDIA driver: the CUDA driver library (libcuda.so.1) or JCuda's native library could"
                    + " not be loaded (" + first + "); install the NVIDIA driver (580 or later) or use --device cpu");
        }
        int[] v = new int[1];
        check(JCudaDriver.cuDriverGetVersion(v), "cuDriverGetVersion");
        if (v[0] < MIN_DRIVER_VERSION) {
            throw new CudaException("the NVIDIA driver supports CUDA " + v[0] / 1000 + "." + v[0] % 1000 / 10
                    + " but the engine's kernels need CUDA " + MIN_DRIVER_VERSION_TEXT + " (driver 580 or later); update the driver");
        }
        int[] count = new int[1];
        check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
        if (ordinal < 0 || ordinal >= count[0]) {
            throw new CudaException("GPU cuda:" + ordinal + " does not exist: the driver shows " + count[0] + " GPU(s) to this"
                    + " process (numbered from 0" + (System.getenv("CUDA_VISIBLE_DEVICES") != null
                    ? ", after CUDA_VISIBLE_DEVICES=" + System.getenv("CUDA_VISIBLE_DEVICES") : "") + ")");
        }
        device = new CUdevice();
        check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet");
        ccMajor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        ccMinor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        smCount = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        maxSharedPerBlock = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        byte[] nameBytes = new byte[256];
        check(JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, device), "cuDeviceGetName");
        int end = 0;
        while (end < nameBytes.length && nameBytes[end] != 0) end++;
        name = new String(nameBytes, 0, end, StandardCharsets.UTF_8);
        if (ccMajor < 8) {
            throw new CudaException("GPU cuda:" + ordinal + " (" + name + ") has compute capability " + ccMajor + "." + ccMinor
                    + "; the engine's kernels use tensor-core instructions of compute capability 8.0 and newer (A100, A10,"
                    + " L4, H100, ...)");
        }
        long[] total = new long[1];
        check(JCudaDriver.cuDeviceTotalMem(total, device), "cuDeviceTotalMem");
        totalBytes = total[0];
        context = new CUcontext();
        int retained = JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        if (isSticky(retained)) {
            // The driver keeps a faulted context for the life of the process, even after cuDevicePrimaryCtxReset.
            throw new CudaException("GPU cuda:" + ordinal + " (" + name + ") cannot be used again in this process: an earlier"
                    + " kernel fault (" + CUresult.stringFor(retained) + ") left its context unusable; restart the process"
                    + " (in Spark, the executor) to use this GPU", true);
        }
        check(retained, "cuDevicePrimaryCtxRetain");
        check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
        module = new CUmodule();
        check(JCudaDriver.cuModuleLoadData(module, readKernels()), "cuModuleLoadData (the engine's kernels)");
        stream = new CUstream();
        check(JCudaDriver.cuStreamCreate(stream, 0 /* blocking: synchronous copies order with its kernels */), "cuStreamCreate");
    }

    private static byte[] readKernels() {
        try (InputStream in = CudaDevice.class.getResourceAsStream(KERNELS_RESOURCE)) {
            if (in == null) throw new CudaException("this build has no GPU kernels (" + KERNELS_RESOURCE + " is missing)");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new CudaException("cannot read the GPU kernels from the engine jar: " + e.getMessage());
        }
    }

    private int attribute(int attr) {
        int[] v = new int[1];
        check(JCudaDriver.cuDeviceGetAttribute(v, attr, device), "cuDeviceGetAttribute");
        return v[0];
    }

    /** Runs {@code work} on this device's thread and returns its result; its exceptions pass through unchanged. */
    public <T> T call(Callable<T> work) {
        Future<T> f = thread.submit(work);
        try {
            return f.get();
        } catch (InterruptedException e) {
            // The step still runs to its end on the device thread; the caller stops waiting.
            Thread.currentThread().interrupt();
            throw new CudaException("interrupted while waiting for GPU cuda:" + ordinal);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) throw re;
            if (c instanceof Error err) throw err;
            throw new CudaException("GPU work failed: " + c);
        }
    }

    void onDeviceThread() {
        if (Thread.currentThread() != deviceThread) {
            throw new IllegalStateException("CUDA call from thread " + Thread.currentThread().getName() + "; only " + deviceThread.getName()
                    + " may call CUDA (use CudaDevice.call)");
        }
        if (broken) throw new CudaException("GPU cuda:" + ordinal + " had an unrecoverable error earlier; the engine must be reopened", true);
    }

    /** Throws a {@link CudaException} naming {@code what} unless {@code result} is CUDA_SUCCESS. */
    public void check(int result, String what) {
        if (result == CUresult.CUDA_SUCCESS) return;
        boolean sticky = isSticky(result);
        if (sticky) broken = true;
        String message = what + " failed on GPU cuda:" + ordinal + (name != null ? " (" + name + ")" : "") + ": "
                + CUresult.stringFor(result);
        if (result == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            message += "; " + memorySummary();
        }
        throw new CudaException(message + (sticky ? " (the GPU context is unusable; the engine closes)" : ""), sticky);
    }

    private static boolean isSticky(int r) {
        return r == CUresult.CUDA_ERROR_ILLEGAL_ADDRESS || r == CUresult.CUDA_ERROR_LAUNCH_FAILED
                || r == CUresult.CUDA_ERROR_ILLEGAL_INSTRUCTION || r == CUresult.CUDA_ERROR_MISALIGNED_ADDRESS
                || r == CUresult.CUDA_ERROR_INVALID_ADDRESS_SPACE || r == CUresult.CUDA_ERROR_INVALID_PC
                || r == CUresult.CUDA_ERROR_HARDWARE_STACK_ERROR || r == CUresult.CUDA_ERROR_ASSERT
                || r == CUresult.CUDA_ERROR_ECC_UNCORRECTABLE || r == CUresult.CUDA_ERROR_LAUNCH_TIMEOUT;
    }

    String memorySummary() {
        long[] free = new long[1], total = new long[1];
        String freeText = JCudaDriver.cuMemGetInfo(free, total) == CUresult.CUDA_SUCCESS ? gib(free[0]) + " free of " + gib(total[0]) : "free memory unknown";
        return "the engine holds " + gib(allocatedBytes) + " in " + live.size() + " buffers; " + freeText;
    }

    static String gib(long bytes) {
        if (bytes < (1L << 30)) return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        return String.format(java.util.Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }

    /** Allocates {@code bytes} of device memory (at least 1); {@code what} names it in errors. */
    public DeviceBuffer alloc(long bytes, String what) {
        onDeviceThread();
        CUdeviceptr p = new CUdeviceptr();
        int r = JCudaDriver.cuMemAlloc(p, Math.max(bytes, 1));
        if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            throw new CudaException("out of GPU memory allocating " + gib(bytes) + " for " + what + " on cuda:" + ordinal
                    + " (" + name + "): " + memorySummary());
        }
        check(r, "cuMemAlloc for " + what);
        DeviceBuffer b = new DeviceBuffer(p, bytes, what);
        live.put(b, Boolean.TRUE);
        allocatedBytes += bytes;
        return b;
    }

    public void free(DeviceBuffer b) {
        if (b == null || live.remove(b) == null) return;
        onDeviceThread();
        JCudaDriver.cuMemFree(b.ptr);
        allocatedBytes -= b.bytes;
    }

    /** Copies {@code bytes} from host memory (a Java array or direct buffer pointer) to {@code dst + offset}. */
    public void upload(DeviceBuffer dst, long offset, Pointer src, long bytes) {
        onDeviceThread();
        check(JCudaDriver.cuMemcpyHtoD(dst.at(offset), src, bytes), "copy to " + dst.what);
    }

    /** Copies {@code bytes} of {@code src + offset} to host memory (waits for the stream's work first). */
    public void download(Pointer dst, DeviceBuffer src, long offset, long bytes) {
        onDeviceThread();
        synchronize("before reading " + src.what);
        check(JCudaDriver.cuMemcpyDtoH(dst, src.at(offset), bytes), "copy from " + src.what);
    }

    public void upload(DeviceBuffer dst, int[] src, int count) {
        upload(dst, 0, Pointer.to(src), (long) count * Integer.BYTES);
    }

    public void upload(DeviceBuffer dst, float[] src, int count) {
        upload(dst, 0, Pointer.to(src), (long) count * Float.BYTES);
    }

    public void zero(DeviceBuffer b) {
        onDeviceThread();
        check(JCudaDriver.cuMemsetD8Async(b.ptr, (byte) 0, b.bytes, stream), "clearing " + b.what);
    }

    /** A kernel of the engine's module by its (extern "C") name. */
    public CUfunction function(String kernel) {
        onDeviceThread();
        return functions.computeIfAbsent(kernel, k -> {
            CUfunction f = new CUfunction();
            check(JCudaDriver.cuModuleGetFunction(f, module, k), "cuModuleGetFunction(" + k + ")");
            return f;
        });
    }

    /**
     * Launches {@code kernel} on the device's stream. Arguments: {@link DeviceBuffer} or {@link CUdeviceptr}
     * (a pointer; {@code null} passes a null pointer), {@link Integer}, {@link Long}, {@link Float}.
     */
    public void launch(String kernel, int gx, int gy, int gz, int block, int sharedBytes, Object... args) {
        CUfunction f = function(kernel);
        if (gx <= 0 || gy <= 0 || gz <= 0) return; // nothing to do (an empty step part)
        lastKernel = kernel;
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) params[i] = argument(args[i], kernel, i);
        if (sharedBytes > raisedSharedLimit.getOrDefault(kernel, 48 * 1024)) {
            check(JCudaDriver.cuFuncSetAttribute(f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                    sharedBytes), "allowing " + kernel + " " + sharedBytes + " bytes of shared memory (the GPU allows "
                    + maxSharedPerBlock + ")");
            raisedSharedLimit.put(kernel, sharedBytes);
        }
        Object mark = timer.beforeLaunch();
        check(JCudaDriver.cuLaunchKernel(f, gx, gy, gz, block, 1, 1, sharedBytes, stream, Pointer.to(params), null),
                "launching kernel " + kernel);
        timer.afterLaunch(mark, kernel);
        if (DEBUG_SYNC) synchronize("kernel " + kernel);
    }

    private final KernelTimer timer = new KernelTimer(this);

    /** Per-kernel timing and event timing of this device's stream (benchmarks). */
    public KernelTimer timer() {
        onDeviceThread();
        return timer;
    }

    /** Per kernel, the dynamic shared memory it has been allowed beyond the default 48 KiB. */
    private final Map<String, Integer> raisedSharedLimit = new HashMap<>();

    // ---- CUDA graphs ---------------------------------------------------------------------------------------

    /** Captures the launches {@code work} makes on the stream into a graph, instead of running them. */
    public CUgraphExec capture(Runnable work, String what) {
        onDeviceThread();
        check(JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "begin capturing " + what);
        CUgraph graph = new CUgraph();
        try {
            work.run();
        } finally {
            check(JCudaDriver.cuStreamEndCapture(stream, graph), "end capturing " + what);
        }
        CUgraphExec exec = new CUgraphExec();
        check(JCudaDriver.cuGraphInstantiate(exec, graph, 0), "instantiating the graph of " + what);
        JCudaDriver.cuGraphDestroy(graph);
        return exec;
    }

    /** Replays a captured graph on the stream. */
    public void replay(CUgraphExec exec, String what) {
        onDeviceThread();
        lastKernel = "graph of " + what;
        check(JCudaDriver.cuGraphLaunch(exec, stream), "replaying the graph of " + what);
        if (DEBUG_SYNC) synchronize("graph " + what);
    }

    public void destroy(CUgraphExec exec) {
        if (exec != null) JCudaDriver.cuGraphExecDestroy(exec);
    }

    /** Set {@code -Dsparkllm.cuda.syncEachKernel=true} to find which kernel an asynchronous error comes from. */
    private static final boolean DEBUG_SYNC = Boolean.getBoolean("sparkllm.cuda.syncEachKernel");

    private static Pointer argument(Object a, String kernel, int i) {
        if (a == null) return Pointer.to(new CUdeviceptr());
        if (a instanceof DeviceBuffer b) return Pointer.to(b.ptr);
        if (a instanceof CUdeviceptr p) return Pointer.to(p);
        if (a instanceof Integer n) return Pointer.to(new int[]{n});
        if (a instanceof Long n) return Pointer.to(new long[]{n});
        if (a instanceof Float x) return Pointer.to(new float[]{x});
        throw new IllegalArgumentException("kernel " + kernel + " argument " + i + ": unsupported type " + a.getClass());
    }

    /**
     * Waits for the stream; an asynchronous kernel error surfaces here, named with {@code after} and the last
     * kernel launched (kernels run in order, so the failing one is that or an earlier one of the step).
     */
    public void synchronize(String after) {
        onDeviceThread();
        int r = JCudaDriver.cuStreamSynchronize(stream);
        if (r != CUresult.CUDA_SUCCESS) {
            check(r, "GPU work (" + after + "; last kernel launched: " + lastKernel + "; run with"
                    + " -Dsparkllm.cuda.syncEachKernel=true to stop at the failing kernel)");
        }
    }

    private String lastKernel = "none";

    public CUstream stream() {
        return stream;
    }

    /** Device memory free now, in bytes. */
    public long freeBytes() {
        onDeviceThread();
        long[] free = new long[1], total = new long[1];
        check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return free[0];
    }

    public long totalBytes() { return totalBytes; }

    public long allocatedBytes() { return allocatedBytes; }

    public int ordinal() { return ordinal; }

    public String name() { return name; }

    public int smCount() { return smCount; }

    /** Shared memory one block may use when its kernel opts in (99 KiB on sm_86/89, 163 on sm_80, 227 on sm_90). */
    public int maxSharedPerBlock() { return maxSharedPerBlock; }

    public String computeCapability() { return ccMajor + "." + ccMinor; }

    /** Frees every buffer and releases the context, on the device thread, then stops the thread. */
    @Override
    public void close() {
        try {
            call(() -> {
                List<DeviceBuffer> all = new ArrayList<>(live.keySet());
                for (DeviceBuffer b : all) JCudaDriver.cuMemFree(b.ptr);
                live.clear();
                allocatedBytes = 0;
                if (stream != null) JCudaDriver.cuStreamDestroy(stream);
                if (module != null) JCudaDriver.cuModuleUnload(module);
                if (device != null && context != null) {
                    // After a sticky error the process's primary context is unusable for everyone: reset it, so an
                    // engine opened later in this JVM (the next task on this executor) starts on a fresh one.
                    if (broken) JCudaDriver.cuDevicePrimaryCtxReset(device);
                    else JCudaDriver.cuDevicePrimaryCtxRelease(device);
                }
                return null;
            });
        } catch (RuntimeException ignored) {
            // closing after a sticky error: the context is gone with the process anyway
        } finally {
            thread.shutdown();
        }
    }
}
