package dev.sparkllm.engine.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * A safetensors file: an 8-byte little-endian header length, a JSON header, then the tensor data. The header
 * is validated on open (see {@link SafetensorsHeader}); tensor data is never read into the heap wholesale but
 * memory-mapped one tensor at a time with 64-bit offsets ({@link #map(String)}), so files of tens of
 * gigabytes open instantly.
 */
public final class SafetensorsFile implements AutoCloseable {

    private final Path path;
    private final FileChannel channel;
    private final long dataOffset;   // bytes: 8 + header length
    private final byte[] headerBytes; // the raw JSON header, for fingerprints
    private final SafetensorsHeader header;

    private SafetensorsFile(Path path, FileChannel channel, long dataOffset, byte[] headerBytes, SafetensorsHeader header) {
        this.path = path;
        this.channel = channel;
        this.dataOffset = dataOffset;
        this.headerBytes = headerBytes;
        this.header = header;
    }

    /** Opens and validates {@code path}. */
    public static SafetensorsFile open(Path path) {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(path + ": safetensors file not found");
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot open safetensors file: " + e, e);
        }
        try {
            long fileSize = channel.size();
            if (fileSize < 8) {
                throw new CheckpointException(path + ": truncated safetensors file (" + fileSize
                        + " bytes, shorter than the 8-byte header length)");
            }
            ByteBuffer lengthBytes = readFully(channel, 0, 8, path).order(ByteOrder.LITTLE_ENDIAN);
            long headerLength = lengthBytes.getLong(0);
            if (headerLength < 0 || headerLength > fileSize - 8) {
                throw new CheckpointException(path + ": safetensors header length " + Long.toUnsignedString(headerLength)
                        + " is longer than the file (" + fileSize + " bytes): truncated or not a safetensors file");
            }
            if (headerLength > SafetensorsHeader.MAX_HEADER_BYTES) {
                throw new CheckpointException(path + ": safetensors header length " + headerLength
                        + " exceeds the " + SafetensorsHeader.MAX_HEADER_BYTES + "-byte limit; the file is corrupt");
            }
            byte[] json = new byte[(int) headerLength];
            readFully(channel, 8, (int) headerLength, path).get(json);
            long dataOffset = 8 + headerLength;
            SafetensorsHeader header = SafetensorsHeader.parse(json, fileSize - dataOffset, path);
            return new SafetensorsFile(path, channel, dataOffset, json, header);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new CheckpointException(path + ": cannot read safetensors header: " + e, e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** Tensor entries by name, in header order. */
    public Map<String, TensorInfo> tensors() {
        return header.tensors();
    }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** The raw header JSON bytes. */
    public byte[] headerBytes() {
        return headerBytes.clone();
    }

    /** True when the file has a tensor called {@code name}. */
    public boolean contains(String name) {
        return header.tensors().containsKey(name);
    }

    /** The entry for {@code name}; fails naming the file when absent. */
    public TensorInfo info(String name) {
        TensorInfo info = header.tensors().get(name);
        if (info == null) {
            throw new CheckpointException(path + ": tensor '" + name + "' not found");
        }
        return info;
    }

    /** Maps the data of tensor {@code name} read-only (in chunks when it is larger than one mapping may be). */
    public MappedTensor map(String name) {
        TensorInfo info = info(name);
        try {
            return MappedTensor.map(channel, dataOffset + info.dataStart(), info, path);
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot map tensor '" + name + "': " + e, e);
        }
    }

    /**
     * Reads tensor {@code name}'s bytes from {@code offset} (relative to the tensor's start) into {@code dst}
     * until {@code dst} is full: a plain positional read, for streaming a tensor through a small buffer without
     * mapping the file (mapped pages count against a container's memory).
     */
    public void read(String name, long offset, ByteBuffer dst) {
        TensorInfo info = info(name);
        if (offset < 0 || offset + dst.remaining() > info.byteSize()) {
            throw new IllegalArgumentException("tensor '" + name + "': bytes " + offset + ".." + (offset + dst.remaining())
                    + " are outside its " + info.byteSize() + " bytes");
        }
        long position = dataOffset + info.dataStart() + offset;
        try {
            while (dst.hasRemaining()) {
                int n = channel.read(dst, position);
                if (n < 0) throw new CheckpointException(path + ": truncated safetensors file (ended inside tensor '" + name + "')");
                position += n;
            }
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot read tensor '" + name + "': " + e, e);
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length, Path path) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) {
                throw new CheckpointException(path + ": truncated safetensors file (ended inside the header)");
            }
        }
        return buffer.flip();
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing useful to do: the file was only read
        }
    }
}
