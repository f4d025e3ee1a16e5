package dev.sparkllm.engine.checkpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random header corruption: every mutated file either opens (and then every tensor reads) or fails with a
 * {@link CheckpointException}; never another exception, an out-of-memory, or a hang. Fixed seed, bounded
 * iterations; the timeout only guards against hangs.
 */
class SafetensorsFuzzTest {

    private static final int ITERATIONS = 3000;
    private static final String JSON_BYTES = "{}[]\":,0123456789-+.eE \\ntrufalsF16BI32U8_";

    @TempDir
    Path tmp;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void mutatedHeadersFailCleanly() throws IOException {
        Path original = tmp.resolve("original.safetensors");
        new SafetensorsWriter().metadata("format", "pt")
                .addFloats("model.embed_tokens.weight", DType.F16, new long[] {4, 8}, new float[32])
                .addInts("layer.qweight", new long[] {2, 8}, new int[16])
                .addFloats("layer.scales", DType.BF16, new long[] {1, 8}, new float[8])
                .addFloats("norm", DType.F32, new long[] {8}, new float[8])
                .write(original);
        byte[] bytes = Files.readAllBytes(original);
        int headerLength = (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] header = new byte[headerLength];
        System.arraycopy(bytes, 8, header, 0, headerLength);
        byte[] data = new byte[bytes.length - 8 - headerLength];
        System.arraycopy(bytes, 8 + headerLength, data, 0, data.length);

        Random random = new Random(20261129L);
        int opened = 0;
        int rejected = 0;
        Path file = tmp.resolve("mutant.safetensors");
        for (int iteration = 0; iteration < ITERATIONS; iteration++) {
            byte[] mutant = mutate(header, random);
            long declaredLength = mutant.length;
            int lengthMode = random.nextInt(20);
            if (lengthMode == 0) declaredLength = random.nextLong();
            else if (lengthMode == 1) declaredLength = mutant.length + random.nextInt(64) - 32;
            int dataLength = random.nextInt(10) == 0 ? random.nextInt(data.length + 1) : data.length;
            ByteBuffer b = ByteBuffer.allocate(8 + mutant.length + dataLength).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(declaredLength).put(mutant).put(data, 0, dataLength);
            Files.write(file, b.array());
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                for (TensorInfo t : f.tensors().values()) {
                    readAll(f, t);
                }
                opened++;
            } catch (CheckpointException expected) {
                assertTrue(expected.getMessage().contains(file.toString()), "message does not name the file: " + expected.getMessage());
                rejected++;
            } catch (Throwable other) {
                fail("iteration " + iteration + ": " + other + " for header " + new String(mutant, StandardCharsets.UTF_8)
                        + " (declared length " + declaredLength + ")", other);
            }
        }
        System.out.printf("fuzz: %d mutants opened, %d rejected with CheckpointException%n", opened, rejected);
        assertTrue(rejected > ITERATIONS / 2, "too few mutants were rejected (" + rejected + "); is the mutator working?");
    }

    private static void readAll(SafetensorsFile f, TensorInfo t) {
        MappedTensor m = f.map(t.name());
        try {
            if (t.dtype().isFloatingPoint()) m.toFloatArray();
            else if (t.dtype() == DType.I32 || t.dtype() == DType.U32) m.toIntArray();
            else if (t.dtype().byteSize() == 2) m.toShortArray();
        } catch (CheckpointException e) {
            // a rejected conversion is a clean outcome too
        }
    }

    /** One to three random edits: replace, insert or delete bytes, or rewrite a number. */
    private static byte[] mutate(byte[] header, Random random) {
        StringBuilder s = new StringBuilder(new String(header, StandardCharsets.UTF_8));
        int edits = 1 + random.nextInt(3);
        for (int e = 0; e < edits && s.length() > 0; e++) {
            int at = random.nextInt(s.length());
            switch (random.nextInt(5)) {
                case 0 -> s.setCharAt(at, JSON_BYTES.charAt(random.nextInt(JSON_BYTES.length())));
                case 1 -> s.insert(at, JSON_BYTES.charAt(random.nextInt(JSON_BYTES.length())));
                case 2 -> s.deleteCharAt(at);
                case 3 -> s.setCharAt(at, (char) random.nextInt(256));
                default -> {
                    // Replace a run of digits with a random, possibly huge or negative, number.
                    int start = at;
                    while (start < s.length() && !Character.isDigit(s.charAt(start))) start++;
                    int end = start;
                    while (end < s.length() && Character.isDigit(s.charAt(end))) end++;
                    if (start < s.length()) {
                        String[] choices = {Long.toString(random.nextLong()), Integer.toString(random.nextInt(64)),
                                "1e40", "9223372036854775808", "-1", "0", "2.5"};
                        s.replace(start, end, choices[random.nextInt(choices.length)]);
                    }
                }
            }
        }
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }
}
