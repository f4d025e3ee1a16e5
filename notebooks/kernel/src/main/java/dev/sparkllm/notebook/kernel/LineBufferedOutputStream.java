package dev.sparkllm.notebook.kernel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Passes bytes on a line at a time (or on an explicit flush). The Jupyter stream under it publishes one message
 * per write, and {@code printf} writes a line in many small pieces; without this a formatted line arrives as a
 * dozen stream messages. A cell that streams text calls {@code System.out.flush()} to send a partial line.
 */
final class LineBufferedOutputStream extends OutputStream {

    /** A line longer than this is passed on in pieces of this size. */
    static final int MAX_BUFFERED_BYTES = 8192;

    private final OutputStream out;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    LineBufferedOutputStream(OutputStream out) {
        this.out = out;
    }

    @Override
    public synchronized void write(int b) throws IOException {
        line.write(b);
        if (b == '\n' || line.size() >= MAX_BUFFERED_BYTES) flush();
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        int start = off;
        for (int i = off; i < off + len; i++) {
            if (b[i] == '\n') {
                line.write(b, start, i + 1 - start);
                start = i + 1;
                flush();
            }
        }
        line.write(b, start, off + len - start);
        if (line.size() >= MAX_BUFFERED_BYTES) flush();
    }

    @Override
    public synchronized void flush() throws IOException {
        if (line.size() > 0) {
            out.write(line.toByteArray());
            line.reset();
        }
        out.flush();
    }

    @Override
    public void close() throws IOException {
        flush();
    }
}
