package dev.sparkllm.engine.tokenizer;

import dev.sparkllm.engine.testing.TestModels;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Tokenizer speed, outside the test suite: encode, decode and incremental decode of about 100 KB of varied text.
 * Run: {@code mvn -q -o -pl engine test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=dev.sparkllm.engine.tokenizer.TokenizerBenchmark [-Dexec.args=<model dir>]}
 * (default: the Llama-2 tokenizer the Node oracle wrote under engine/target, else the bundled kjv-tiny).
 */
public final class TokenizerBenchmark {

    private TokenizerBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path llama2 = TestModels.repoDir().resolve("engine/target/tokenizer-oracle/llama2");
        Path dir = args.length > 0 ? Path.of(args[0]) : Files.isDirectory(llama2) ? llama2 : TestModels.bundledModel();
        long loadStart = System.nanoTime();
        Tokenizer tokenizer = TokenizerLoader.load(dir);
        double loadMs = (System.nanoTime() - loadStart) / 1e6;

        List<String> corpus = NodeOracle.corpus();
        Random random = new Random(1);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 100_000) sb.append(corpus.get(random.nextInt(corpus.size()))).append(random.nextBoolean() ? "\n" : " ");
        String text = sb.toString();
        int bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;

        int[] ids = null;
        double[] encodeMs = new double[7];
        double[] decodeMs = new double[7];
        double[] streamMs = new double[7];
        double[] loadsMs = new double[7];
        for (int round = 0; round < encodeMs.length + 3; round++) {   // the first 3 rounds warm up the JIT
            long t0 = System.nanoTime();
            // A fresh tokenizer per round, so the word cache does not turn the run into lookups.
            Tokenizer fresh = round == 0 ? tokenizer : TokenizerLoader.load(dir);
            long t1 = System.nanoTime();
            ids = fresh.encode(text, true);
            long t2 = System.nanoTime();
            fresh.decode(ids, true);
            long t3 = System.nanoTime();
            IncrementalDecoder d = fresh.newDecoder();
            for (int id : ids) d.append(id);
            d.finish();
            long t4 = System.nanoTime();
            if (round >= 3) {
                encodeMs[round - 3] = (t2 - t1) / 1e6;
                loadsMs[round - 3] = (t1 - t0) / 1e6;
                decodeMs[round - 3] = (t3 - t2) / 1e6;
                streamMs[round - 3] = (t4 - t3) / 1e6;
            }
        }
        System.out.printf("tokenizer %s (first load %.0f ms, warm load median %.0f ms)%n", dir, loadMs, median(loadsMs));
        System.out.printf("text: %d chars, %d UTF-8 bytes, %d tokens%n", text.length(), bytes, ids.length);
        System.out.printf("encode             median %.1f ms (%.1f MB/s)%n", median(encodeMs), bytes / 1e3 / median(encodeMs));
        System.out.printf("decode             median %.1f ms%n", median(decodeMs));
        System.out.printf("incremental decode median %.1f ms (%.2f us/token)%n", median(streamMs), median(streamMs) * 1e3 / ids.length);
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
