package dev.sparkllm.engine.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/** A block of device memory. Freed by its {@link CudaDevice} (which tracks every allocation), never by finalizers. */
public final class DeviceBuffer {

    final CUdeviceptr ptr;
    final long bytes;
    final String what;

    DeviceBuffer(CUdeviceptr ptr, long bytes, String what) {
        this.ptr = ptr;
        this.bytes = bytes;
        this.what = what;
    }

    /** The device address, for kernel arguments. */
    public CUdeviceptr ptr() {
        return ptr;
    }

    /** The address {@code offsetBytes} into the buffer. */
    public CUdeviceptr at(long offsetBytes) {
        if (offsetBytes < 0 || offsetBytes > bytes) {
            throw new IndexOutOfBoundsException("offset " + offsetBytes + " outside " + what + " of " + bytes + " bytes");
        }
        return ptr.withByteOffset(offsetBytes);
    }

    public long bytes() {
        return bytes;
    }

    /** What the buffer holds, for messages. */
    public String what() {
        return what;
    }

    Pointer pointer() {
        return ptr;
    }
}
