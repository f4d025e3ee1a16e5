package dev.sparkllm.engine.tokenizer;

import dev.sparkllm.engine.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** One tokenizer is shared by every Spark task of an executor: concurrent encodes must agree with serial ones. */
class ConcurrentEncodingTest {

    @Test
    void concurrentEncodesMatchSerialOnes() throws Exception {
        List<String> corpus = NodeOracle.corpus();
        List<int[]> serial = new ArrayList<>();
        Tokenizer reference = TokenizerLoader.load(TestModels.bundledModel());
        for (String text : corpus) serial.add(reference.encode(text, true));

        Tokenizer shared = TokenizerLoader.load(TestModels.bundledModel());   // fresh, so its word cache fills concurrently
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<int[]>>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int shift = t;
                results.add(pool.submit(() -> {
                    List<int[]> out = new ArrayList<>();
                    for (int round = 0; round < 20; round++) {
                        for (int i = 0; i < corpus.size(); i++) {
                            int k = (i + shift * 7 + round) % corpus.size();
                            out.add(shared.encode(corpus.get(k), true));
                            assertArrayEquals(serial.get(k), out.get(out.size() - 1), "text " + k);
                        }
                    }
                    return out;
                }));
            }
            for (Future<List<int[]>> f : results) f.get();
        } finally {
            pool.shutdownNow();
        }
    }
}
