package dev.sparkllm.engine.checkpoint.synthetic;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes a {@link SafetensorsLayout} to disk without holding more than a few chunks in memory: the header first
 * (every offset is known from the shapes), then each tensor in file order, chunk by chunk. Worker threads fill
 * chunks into direct buffers while this thread writes finished ones, in order, through a {@link FileChannel};
 * at most {@code threads + 2} buffers of about 4 MB exist at a time, whatever the file's size.
 */
final class SafetensorsStreamWriter {

    /** Told about progress after each chunk written. */
    interface Progress {
        void written(long bytes, long totalBytes, long elapsedNanos);
    }

    private record Job(SafetensorsLayout.Planned tensor, int chunk) {
    }

    private SafetensorsStreamWriter() {
    }

    /** Writes {@code layout} to {@code file} (replacing it), flushes it to the disk, and returns the nanoseconds taken. */
    static long write(Path file, SafetensorsLayout layout, int threads, Progress progress) throws IOException {
        long start = System.nanoTime();
        int maxChunk = 0;
        for (SafetensorsLayout.Planned p : layout.planned()) {
            for (int c = 0; c < p.fill().chunks(); c++) maxChunk = Math.max(maxChunk, p.fill().chunkBytes(c));
        }
        int window = threads + 2;
        Deque<ByteBuffer> free = new ArrayDeque<>();
        for (int i = 0; i < window; i++) free.add(ByteBuffer.allocateDirect(Math.max(maxChunk, 8)).order(ByteOrder.LITTLE_ENDIAN));
        ExecutorService workers = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "checkpoint-fill");
            t.setDaemon(true);
            return t;
        });
        Deque<Pending> pending = new ArrayDeque<>();
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(out, ByteBuffer.wrap(layout.headerBytes()));
            Sink sink = new Sink(out, layout.headerBytes().length, layout.fileSize(), start, progress);
            for (SafetensorsLayout.Planned tensor : layout.planned()) {
                for (int c = 0; c < tensor.fill().chunks(); c++) {
                    if (pending.size() == window) free.add(sink.write(pending.removeFirst()));
                    ByteBuffer buffer = free.removeFirst();
                    Job job = new Job(tensor, c);
                    pending.add(new Pending(job, workers.submit(() -> fill(job, buffer))));
                }
            }
            while (!pending.isEmpty()) free.add(sink.write(pending.removeFirst()));
            if (out.position() != layout.fileSize()) {
                throw new IllegalStateException(file + ": wrote " + out.position() + " bytes, the layout has " + layout.fileSize());
            }
            out.force(false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing " + file, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) throw r;
            if (cause instanceof Error err) throw err;
            throw new IOException(cause);
        } finally {
            workers.shutdownNow();
        }
        return System.nanoTime() - start;
    }

    private record Pending(Job job, Future<ByteBuffer> filled) {
    }

    /** Writes filled chunks in order, checking that every tensor ends where the header says it does. */
    private static final class Sink {
        private final FileChannel out;
        private final long dataStart;
        private final long total;
        private final long start;
        private final Progress progress;

        Sink(FileChannel out, long dataStart, long total, long start, Progress progress) {
            this.out = out;
            this.dataStart = dataStart;
            this.total = total;
            this.start = start;
            this.progress = progress;
        }

        /** Writes the chunk and returns its buffer for reuse. */
        ByteBuffer write(Pending p) throws IOException, InterruptedException, ExecutionException {
            ByteBuffer buffer = p.filled().get();
            writeFully(out, buffer);
            SafetensorsLayout.Planned tensor = p.job().tensor();
            if (p.job().chunk() == tensor.fill().chunks() - 1 && out.position() != dataStart + tensor.info().dataEnd()) {
                throw new IllegalStateException("tensor " + tensor.info().name() + " ended at byte " + out.position()
                        + ", its header entry says " + (dataStart + tensor.info().dataEnd()));
            }
            progress.written(out.position(), total, System.nanoTime() - start);
            return buffer;
        }
    }

    private static ByteBuffer fill(Job job, ByteBuffer buffer) {
        buffer.clear();
        job.tensor().fill().fill(job.chunk(), buffer);
        int expected = job.tensor().fill().chunkBytes(job.chunk());
        if (buffer.position() != expected) {
            throw new IllegalStateException(job.tensor().info().name() + " chunk " + job.chunk() + " filled "
                    + buffer.position() + " bytes, expected " + expected);
        }
        return buffer.flip();
    }

    private static void writeFully(FileChannel out, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) out.write(b);
    }
}
