package dev.sparkllm.notebook.kernel;

import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LineBufferedOutputStreamTest {

    /** Records each write the way Jupyter's stream publishes each write as one message. */
    static final class Messages extends OutputStream {
        final List<String> sent = new ArrayList<>();

        @Override
        public void write(int b) {
            sent.add(String.valueOf((char) b));
        }

        @Override
        public void write(byte[] b, int off, int len) {
            sent.add(new String(b, off, len, StandardCharsets.UTF_8));
        }
    }

    @Test
    void aFormattedLineIsOneMessage() {
        Messages jupyter = new Messages();
        PrintStream out = new PrintStream(new LineBufferedOutputStream(jupyter), false, StandardCharsets.UTF_8);
        out.printf("%5d  %s%n", 707, "▁I");
        out.printf("%s on %s: %d layers%n", "kjv", "cpu", 4);
        assertEquals(List.of("  707  ▁I\n", "kjv on cpu: 4 layers\n"), jupyter.sent);
    }

    @Test
    void flushSendsAPartialLineForStreaming() {
        Messages jupyter = new Messages();
        PrintStream out = new PrintStream(new LineBufferedOutputStream(jupyter), false, StandardCharsets.UTF_8);
        out.print("In the ");
        assertEquals(List.of(), jupyter.sent);
        out.flush();
        out.print("beginning\nGod");
        out.flush();
        assertEquals(List.of("In the ", "beginning\n", "God"), jupyter.sent);
    }

    @Test
    void severalLinesInOneWriteStayWholeAndInOrder() {
        Messages jupyter = new Messages();
        PrintStream out = new PrintStream(new LineBufferedOutputStream(jupyter), false, StandardCharsets.UTF_8);
        out.print("a\nbb\nccc");
        out.flush();
        assertEquals("a\nbb\nccc", String.join("", jupyter.sent));
        assertEquals(List.of("a\n", "bb\n", "ccc"), jupyter.sent);
    }

    @Test
    void aVeryLongLineIsPassedOnInBoundedPieces() {
        Messages jupyter = new Messages();
        PrintStream out = new PrintStream(new LineBufferedOutputStream(jupyter), false, StandardCharsets.UTF_8);
        String longLine = "x".repeat(3 * LineBufferedOutputStream.MAX_BUFFERED_BYTES);
        out.print(longLine);
        out.flush();
        assertEquals(longLine, String.join("", jupyter.sent));
        for (String m : jupyter.sent) assertEquals(true, m.length() <= 2 * LineBufferedOutputStream.MAX_BUFFERED_BYTES, "bounded");
    }
}
