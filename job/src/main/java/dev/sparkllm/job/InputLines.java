package dev.sparkllm.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;

/**
 * Finds the line of an input file that stops the job, so the message names file and line. Only runs on the
 * failure path: Spark does not carry line numbers, so the driver reads the one file again, line by line.
 */
final class InputLines {

    private static final ObjectMapper JSON = new ObjectMapper();

    private InputLines() {
    }

    /** "FILE line N (why)" for a row whose id cannot be read; {@code why} is "bytes" or "json". */
    static String describe(FileSystem fs, String fileUri, String why, String format) {
        String reason = why.equals("json") ? "it is not valid JSON" : "its bytes are not valid UTF-8";
        if (format.equals("parquet")) return "a row of " + name(fileUri) + " (a string whose bytes are not valid UTF-8)";
        Predicate<byte[]> bad = why.equals("json") ? InputLines::notJson : b -> !utf8(b);
        long line;
        try {
            line = first(fs, new Path(java.net.URI.create(fileUri)), bad);
        } catch (IOException | IllegalArgumentException e) {
            line = -1;
        }
        return name(fileUri) + (line > 0 ? " line " + line : "") + " (" + reason + ")";
    }

    /** The file's path without the scheme, as a user typed it. */
    static String name(String fileUri) {
        try {
            return java.net.URI.create(fileUri).getPath();
        } catch (IllegalArgumentException e) {
            return fileUri;
        }
    }

    /** The first line (counting from 1) that {@code bad} accepts, or -1. */
    static long first(FileSystem fs, Path file, Predicate<byte[]> bad) throws IOException {
        CompressionCodec codec = new CompressionCodecFactory(fs.getConf()).getCodec(file);
        try (InputStream raw = fs.open(file);
             InputStream in = new BufferedInputStream(codec == null ? raw : codec.createInputStream(raw))) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            long n = 0;
            int b;
            while (true) {
                b = in.read();
                if (b == '\n' || b < 0) {
                    if (b < 0 && line.size() == 0) return -1;
                    n++;
                    byte[] bytes = line.toByteArray();
                    int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                    if (bad.test(java.util.Arrays.copyOf(bytes, len))) return n;
                    if (b < 0) return -1;
                    line.reset();
                } else {
                    line.write(b);
                }
            }
        }
    }

    static boolean utf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    private static boolean notJson(byte[] bytes) {
        if (new String(bytes, StandardCharsets.UTF_8).isBlank()) return false;
        try {
            JSON.readTree(bytes);
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
