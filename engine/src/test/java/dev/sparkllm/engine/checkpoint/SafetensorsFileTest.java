package dev.sparkllm.engine.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading, writing and validating safetensors files, including corrupt ones and ones larger than 4 GiB. */
class SafetensorsFileTest {

    @TempDir
    Path tmp;

    @Test
    void writerOutputReadsBack() throws IOException {
        float[] halves = {0f, 1f, -2.5f, 0.125f, 65504f, -0.0009765625f}; // all exactly representable in F16 and BF16
        float[] floats = {1.1f, -3.3e-8f, Float.MAX_VALUE, 7f};
        int[] ints = {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 42, 7};
        Path file = tmp.resolve("t.safetensors");
        new SafetensorsWriter().metadata("format", "pt")
                .addFloats("h", DType.F16, new long[] {2, 3}, halves)
                .addFloats("b", DType.BF16, new long[] {6}, new float[] {0f, 1f, -2.5f, 0.125f, 65536f, -0.0009765625f})
                .addFloats("f", DType.F32, new long[] {4}, floats)
                .addFloats("d", DType.F64, new long[] {1, 4}, floats)
                .addInts("i", new long[] {3, 2}, ints)
                .add("empty", DType.F32, new long[] {0, 5}, new byte[0])
                .write(file);
        // The layout the format defines: little-endian length, JSON padded to 8 bytes, data after it.
        byte[] raw = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8);
        assertEquals(raw.length, 8 + headerLength + 12 + 12 + 16 + 32 + 24);
        assertEquals(0x3C00, ByteBuffer.wrap(raw, (int) (8 + headerLength + 2), 2).order(ByteOrder.LITTLE_ENDIAN).getShort());

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(List.of("h", "b", "f", "d", "i", "empty"), List.copyOf(f.tensors().keySet()));
            TensorInfo h = f.info("h");
            assertEquals(DType.F16, h.dtype());
            assertArrayEquals(new long[] {2, 3}, h.shape());
            assertArrayEquals(halves, f.map("h").toFloatArray());
            assertArrayEquals(new float[] {0f, 1f, -2.5f, 0.125f, 65536f, -0.0009765625f}, f.map("b").toFloatArray());
            assertArrayEquals(floats, f.map("f").toFloatArray());
            assertArrayEquals(floats, f.map("d").toFloatArray());
            assertArrayEquals(ints, f.map("i").toIntArray());
            assertEquals(0, f.map("empty").toFloatArray().length);
            CheckpointException wrongType = assertThrows(CheckpointException.class, () -> f.map("i").toFloatArray());
            assertTrue(wrongType.getMessage().contains("'i' is I32"), wrongType.getMessage());
            CheckpointException missing = assertThrows(CheckpointException.class, () -> f.info("nope"));
            assertTrue(missing.getMessage().contains("tensor 'nope' not found"), missing.getMessage());
        }
    }

    /** A sparse file of 4.5 GiB: only the header and the bytes of the tensors we check are written. */
    @Test
    void tensorsPastFourGibibytesReadCorrectly() throws IOException {
        long fillerBytes = (9L << 29); // 4.5 GiB
        String header = "{\"filler\":{\"dtype\":\"U8\",\"shape\":[" + fillerBytes + "],\"data_offsets\":[0," + fillerBytes + "]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[" + fillerBytes + "," + (fillerBytes + 16) + "]},"
                + "\"b\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[" + (fillerBytes + 16) + "," + (fillerBytes + 28) + "]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        long dataStart = 8 + json.length;
        Path file = tmp.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(dataStart + fillerBytes + 28);
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
            raf.write(json);
            raf.seek(dataStart + fillerBytes);
            ByteBuffer data = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
            data.putFloat(1.5f).putFloat(-2f).putFloat(3.25f).putFloat(1e-3f).putInt(-7).putInt(123456789).putInt(5);
            raf.write(data.array());
            // Marks on both sides of the first chunk boundary inside the filler.
            raf.seek(dataStart + MappedTensor.CHUNK_BYTES - 1);
            raf.write(new byte[] {11, 22});
            raf.seek(dataStart + fillerBytes - 1);
            raf.write(33);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f, 1e-3f}, f.map("a").toFloatArray());
            assertArrayEquals(new int[] {-7, 123456789, 5}, f.map("b").toIntArray());
            MappedTensor filler = f.map("filler");
            assertEquals(5, filler.chunkCount());
            assertEquals(MappedTensor.CHUNK_BYTES, filler.chunk(0).remaining());
            assertEquals(fillerBytes - 4 * MappedTensor.CHUNK_BYTES, filler.chunk(4).remaining());
            assertEquals(11, filler.chunk(0).get((int) MappedTensor.CHUNK_BYTES - 1));
            assertEquals(22, filler.chunk(1).get(0));
            assertEquals(33, filler.chunk(4).get((int) (fillerBytes - 4 * MappedTensor.CHUNK_BYTES - 1)));
            CheckpointException tooBig = assertThrows(CheckpointException.class, filler::toShortArray);
            assertTrue(tooBig.getMessage().contains("'filler' is U8"), tooBig.getMessage());

            // positional reads (the GPU loader's streaming path): across the first chunk boundary, at the end, past 4 GiB
            ByteBuffer two = ByteBuffer.allocateDirect(2);
            f.read("filler", MappedTensor.CHUNK_BYTES - 1, two);
            assertEquals(11, two.get(0));
            assertEquals(22, two.get(1));
            ByteBuffer last = ByteBuffer.allocate(1);
            f.read("filler", fillerBytes - 1, last);
            assertEquals(33, last.get(0));
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            f.read("b", 4, b);
            assertEquals(123456789, b.getInt(0));
            assertEquals(5, b.getInt(4));
            IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
                    () -> f.read("b", 8, ByteBuffer.allocate(8)));
            assertTrue(outside.getMessage().contains("outside its 12 bytes"), outside.getMessage());
        }
    }

    @Test
    void missingFile() {
        assertFails(tmp.resolve("absent.safetensors"), "safetensors file not found");
    }

    @Test
    void fileShorterThanTheLengthField() throws IOException {
        assertFails(write(new byte[] {1, 2, 3}), "truncated safetensors file");
    }

    @Test
    void headerLongerThanTheFile() throws IOException {
        assertFails(withLength(1000, "{}"), "is longer than the file");
        assertFails(withLength(Long.MAX_VALUE, "{}"), "is longer than the file");
        assertFails(withLength(-5, "{}"), "is longer than the file");
    }

    @Test
    void headerOverTheSizeCap() throws IOException {
        Path file = tmp.resolve("huge-header.safetensors");
        long claimed = SafetensorsHeader.MAX_HEADER_BYTES + 1;
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(8 + claimed + 10); // sparse
            raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(claimed).array());
        }
        assertFails(file, "exceeds the " + SafetensorsHeader.MAX_HEADER_BYTES + "-byte limit");
    }

    @Test
    void malformedJson() throws IOException {
        assertFails(file("{\"a\": {\"dtype\": \"F32\", "), "not well-formed JSON");
        assertFails(file("[1, 2]"), "not a JSON object");
        assertFails(file("{} trailing"), "not well-formed JSON");
        assertFails(file("{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}"), "not well-formed JSON");
        assertFails(file(tensor("a", "F32", "[1]", 0, 4) + tensor("a", "F32", "[1]", 4, 8), 8), "not well-formed JSON");
    }

    @Test
    void unknownDtype() throws IOException {
        assertFails(file(tensor("w", "F12", "[2]", 0, 4), 4), "tensor 'w' has unknown dtype 'F12'");
        assertFails(file("\"w\":{\"shape\":[2],\"data_offsets\":[0,4]}", 4), "tensor 'w' has no dtype");
    }

    @Test
    void offsetsOutsideTheData() throws IOException {
        assertFails(file(tensor("w", "F32", "[4]", 0, 16), 12), "lie outside the data region of 12 bytes");
        assertFails(file(tensor("w", "F32", "[1]", 8, 4), 12), "end before begin");
        assertFails(file(tensor("w", "F32", "[1]", -4, 0), 12), "is not a non-negative integer");
        assertFails(file(tensor("w", "F32", "[1]", 0, 1e30), 12), "is not a non-negative integer");
    }

    @Test
    void overlappingTensors() throws IOException {
        assertFails(file(tensor("a", "F32", "[2]", 0, 8) + tensor("b", "F32", "[2]", 4, 12), 12), "overlap");
    }

    @Test
    void shapeDisagreesWithOffsets() throws IOException {
        assertFails(file(tensor("w", "F16", "[3, 2]", 0, 8), 8), "needs 12 bytes but data_offsets span 8");
        assertFails(file(tensor("w", "F16", "[-3]", 0, 8), 8), "is not a non-negative integer");
        assertFails(file(tensor("w", "F16", "[4294967296, 4294967296]", 0, 8), 8), "overflows 64 bits");
        assertFails(file("\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}", 4), "data_offsets has 1 entries, expected 2");
    }

    @Test
    void badMetadata() throws IOException {
        assertFails(file("{\"__metadata__\":{\"format\":1}}"), "__metadata__ value for 'format' is not a string");
    }

    private void assertFails(Path file, String expected) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file).close());
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' lacks '" + expected + "'");
        assertTrue(e.getMessage().contains(file.toString()), "message '" + e.getMessage() + "' does not name the file");
    }

    /** A header entry (without braces) followed by a comma, for {@link #file(String, int)}. */
    private static String tensor(String name, String dtype, String shape, double begin, double end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":["
                + fmt(begin) + "," + fmt(end) + "]},";
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    /** A file with the given header entries (trailing comma allowed) and {@code dataBytes} zero bytes of data. */
    private Path file(String entries, int dataBytes) throws IOException {
        String json = "{" + (entries.endsWith(",") ? entries.substring(0, entries.length() - 1) : entries) + "}";
        return withLength(-1, json, dataBytes);
    }

    private Path file(String json) throws IOException {
        return withLength(-1, json, 0);
    }

    private Path withLength(long length, String json) throws IOException {
        return withLength(length, json, 0);
    }

    private int counter;

    private Path withLength(long length, String json, int dataBytes) throws IOException {
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + j.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(length == -1 ? j.length : length).put(j);
        return write(b.array());
    }

    private Path write(byte[] bytes) throws IOException {
        Path p = tmp.resolve("case" + (counter++) + ".safetensors");
        Files.write(p, bytes);
        return p;
    }
}
