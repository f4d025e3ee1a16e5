package dev.sparkllm.engine.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * The protobuf wire format, just enough to read a SentencePiece {@code ModelProto}: varints, 32-bit floats,
 * length-delimited fields, and skipping what we do not read.
 */
final class ProtoReader {

    private final byte[] buf;
    private int pos;
    private final int end;

    ProtoReader(byte[] buf) {
        this(buf, 0, buf.length);
    }

    private ProtoReader(byte[] buf, int pos, int end) {
        this.buf = buf;
        this.pos = pos;
        this.end = end;
    }

    boolean hasMore() {
        return pos < end;
    }

    /** The next tag (field number << 3 | wire type). */
    int tag() {
        return (int) varint();
    }

    long varint() {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte b = next();
            v |= (long) (b & 0x7F) << shift;
            if (b >= 0) return v;
        }
        throw malformed("varint longer than 10 bytes");
    }

    float float32() {
        int bits = (next() & 0xFF) | (next() & 0xFF) << 8 | (next() & 0xFF) << 16 | (next() & 0xFF) << 24;
        return Float.intBitsToFloat(bits);
    }

    /** A length-delimited field as a reader over its bytes. */
    ProtoReader message() {
        int len = length();
        ProtoReader r = new ProtoReader(buf, pos, pos + len);
        pos += len;
        return r;
    }

    String string() {
        int len = length();
        String s = new String(buf, pos, len, StandardCharsets.UTF_8);
        pos += len;
        return s;
    }

    byte[] bytes() {
        int len = length();
        byte[] out = java.util.Arrays.copyOfRange(buf, pos, pos + len);
        pos += len;
        return out;
    }

    /** Skips the value of a field with the given tag. */
    void skip(int tag) {
        switch (tag & 7) {
            case 0: varint(); break;
            case 1: advance(8); break;
            case 2: advance(length()); break;
            case 5: advance(4); break;
            default: throw malformed("unsupported wire type " + (tag & 7));
        }
    }

    private int length() {
        long len = varint();
        if (len < 0 || len > end - pos) throw malformed("field length " + len + " runs past the end");
        return (int) len;
    }

    private void advance(int n) {
        if (n > end - pos) throw malformed("field runs past the end");
        pos += n;
    }

    private byte next() {
        if (pos >= end) throw malformed("truncated");
        return buf[pos++];
    }

    private IllegalArgumentException malformed(String what) {
        return new IllegalArgumentException("malformed protobuf at byte " + pos + ": " + what);
    }
}
