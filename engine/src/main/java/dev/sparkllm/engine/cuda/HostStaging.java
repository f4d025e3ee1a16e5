package dev.sparkllm.engine.cuda;

import dev.sparkllm.engine.checkpoint.ModelDirectory;

import java.nio.ByteBuffer;

import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;

/**
 * Streams checkpoint tensors onto the GPU through two page-locked host buffers: while the driver copies one
 * buffer to the device (asynchronously, on the device's stream), the next piece of the file is read into the
 * other with a positional read. The file is never mapped, so the process's resident memory stays at the two
 * buffers whatever the checkpoint's size (mapped pages would count against a YARN or Kubernetes container), and
 * disk reads overlap the PCIe copies. Used on the device thread only.
 */
final class HostStaging implements AutoCloseable {

    /** Bytes per buffer: large enough that each copy runs near PCIe speed, small beside any host's memory. */
    static final int BUFFER_BYTES = 64 << 20;

    private final CudaDevice d;
    private final Pointer[] host = new Pointer[2];
    private final ByteBuffer[] view = new ByteBuffer[2];
    private final CUevent[] copied = new CUevent[2];
    private int next;
    private long bytes;

    HostStaging(CudaDevice d) {
        d.onDeviceThread();
        this.d = d;
        try {
            allocate();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void allocate() {
        for (int i = 0; i < 2; i++) {
            host[i] = new Pointer();
            d.check(JCudaDriver.cuMemHostAlloc(host[i], BUFFER_BYTES, 0), "cuMemHostAlloc of a " + BUFFER_BYTES / (1 << 20)
                    + " MiB staging buffer");
            view[i] = host[i].getByteBuffer(0, BUFFER_BYTES);
            copied[i] = new CUevent();
            d.check(JCudaDriver.cuEventCreate(copied[i], CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        }
    }

    /**
     * Copies tensor {@code name}'s bytes as stored into {@code dst} from byte 0. The copies are queued on the
     * device's stream, so kernels launched afterwards on it see the data; the host may return before they finish.
     */
    void upload(ModelDirectory dir, String name, DeviceBuffer dst) {
        long size = dir.tensor(name).byteSize();
        if (size > dst.bytes()) {
            throw new IllegalArgumentException("tensor '" + name + "' (" + size + " bytes) does not fit " + dst.what());
        }
        for (long offset = 0; offset < size; ) {
            int n = (int) Math.min(BUFFER_BYTES, size - offset);
            int i = next;
            next ^= 1;
            // the copy that last read this buffer must be done before the file overwrites it
            d.check(JCudaDriver.cuEventSynchronize(copied[i]), "waiting for a staging copy");
            ByteBuffer b = view[i].clear().limit(n);
            dir.readTensor(name, offset, b);
            d.check(JCudaDriver.cuMemcpyHtoDAsync(dst.at(offset), host[i], n, d.stream()), "copy to " + dst.what());
            d.check(JCudaDriver.cuEventRecord(copied[i], d.stream()), "cuEventRecord");
            offset += n;
        }
        bytes += size;
    }

    /** Bytes streamed so far. */
    long bytes() {
        return bytes;
    }

    /** Waits for the last copies, then frees the buffers. */
    @Override
    public void close() {
        for (int i = 0; i < 2; i++) {
            if (copied[i] != null) {
                JCudaDriver.cuEventSynchronize(copied[i]);
                JCudaDriver.cuEventDestroy(copied[i]);
            }
            if (host[i] != null) JCudaDriver.cuMemFreeHost(host[i]);
        }
    }
}
