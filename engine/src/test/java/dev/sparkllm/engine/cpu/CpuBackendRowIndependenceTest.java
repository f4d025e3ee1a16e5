package dev.sparkllm.engine.cpu;

import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepInput.Logits;
import dev.sparkllm.engine.backend.StepInput.SequenceChunk;
import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.model.LlamaConfig.RopeConfig;
import dev.sparkllm.engine.model.LlamaWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Row independence, bit for bit: a sequence's logits must not depend on the other chunks in the step, the
 * batch size, how its prompt was chunked, where its KV blocks are, or how many threads ran the step.
 */
class CpuBackendRowIndependenceTest {

    private static final int PROMPT = 37;
    private static final int DECODE = 6;
    private static final int BLOCK_SIZE = 4;
    private static final int BLOCKS = 1024;
    private static final int WHOLE = Integer.MAX_VALUE;

    static Stream<Arguments> batchesAndChunks() {
        List<Arguments> cases = new ArrayList<>();
        for (String rope : List.of("plain", "dynamic")) {
            for (int batch : new int[] {1, 7, 32}) {
                for (int chunk : new int[] {1, 5, 16, WHOLE}) cases.add(Arguments.of(rope, batch, chunk));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "rope={0} batch={1} chunk={2}")
    @MethodSource("batchesAndChunks")
    void sequenceInABatchEqualsSequenceAlone(String ropeName, int batch, int chunk) {
        LlamaConfig config = config(ropeName);
        LlamaWeights weights = RandomLlama.weights(config, 7);
        int[] tokens = CpuBackendReferenceTest.randomTokens(new Random(1), PROMPT + DECODE, config.vocabSize());
        List<float[]> alone = alone(weights, tokens, TestSequence.identityBlocks(blocksFor(tokens.length)), 2);

        Random random = new Random(batch * 31L + chunk);
        Deque<Integer> free = shuffledBlocks(random);
        try (CpuBackend backend = new CpuBackend(weights, BLOCK_SIZE, BLOCKS, 2)) {
            TestSequence target = new TestSequence(0, tokens, PROMPT, chunk, take(free, tokens.length), Logits.ALL);
            List<TestSequence> others = new ArrayList<>();
            long nextId = 1;
            while (!target.done()) {
                // keep the batch full with other sequences of random lengths, chunkings and logits modes
                while (others.size() < batch - 1) others.add(randomOther(nextId++, random, free, config.vocabSize()));
                List<TestSequence> running = new ArrayList<>(others);
                running.add(target);
                Collections.shuffle(running, random); // the target's place in the batch changes step to step
                List<SequenceChunk> chunks = new ArrayList<>();
                for (TestSequence s : running) chunks.add(s.nextChunk());
                List<float[]> out = backend.execute(new StepInput(chunks)).logits();
                for (int i = 0; i < running.size(); i++) running.get(i).accept(chunks.get(i), out.get(i), config.vocabSize());
                for (TestSequence s : List.copyOf(others)) {
                    if (s.done()) {
                        others.remove(s);
                        for (int b : s.blockTable) free.addLast(b);
                    }
                }
            }
            assertBitIdentical(alone, target.logits, "batch " + batch + ", chunk " + chunk);
        }
    }

    @Test
    void tokenByTokenDecodeEqualsPrefillOfAllPositions() {
        LlamaWeights weights = RandomLlama.weights(config("plain"), 8);
        int[] tokens = CpuBackendReferenceTest.randomTokens(new Random(2), 29, weights.config().vocabSize());
        int[] blocks = TestSequence.identityBlocks(blocksFor(tokens.length));
        List<float[]> prefill;
        List<float[]> decode;
        try (CpuBackend backend = new CpuBackend(weights, BLOCK_SIZE, BLOCKS, 2)) {
            prefill = TestSequence.runAlone(backend, new TestSequence(1, tokens, tokens.length, WHOLE, blocks, Logits.ALL));
        }
        try (CpuBackend backend = new CpuBackend(weights, BLOCK_SIZE, BLOCKS, 2)) {
            decode = TestSequence.runAlone(backend, new TestSequence(1, tokens, 1, 1, blocks, Logits.LAST));
        }
        assertBitIdentical(prefill, decode, "prefill ALL vs token-by-token decode");
    }

    @Test
    void scrambledBlockTableEqualsIdentity() {
        LlamaWeights weights = RandomLlama.weights(config("plain"), 9);
        int[] tokens = CpuBackendReferenceTest.randomTokens(new Random(3), PROMPT + DECODE, weights.config().vocabSize());
        int n = blocksFor(tokens.length);
        List<float[]> identity = alone(weights, tokens, TestSequence.identityBlocks(n), 2);
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < BLOCKS; i++) ids.add(i);
        Collections.shuffle(ids, new Random(4));
        int[] scrambled = ids.subList(0, n).stream().mapToInt(Integer::intValue).toArray();
        List<float[]> paged = alone(weights, tokens, scrambled, 2);
        assertBitIdentical(identity, paged, "identity vs scrambled block table");
    }

    @Test
    void threadCountDoesNotChangeLogits() {
        LlamaWeights weights = RandomLlama.weights(RandomLlama.kjvTinyShape(), 10);
        int[] tokens = CpuBackendReferenceTest.randomTokens(new Random(5), 12, weights.config().vocabSize());
        int[] blocks = TestSequence.identityBlocks(blocksFor(tokens.length));
        List<float[]> one = alone(weights, tokens, blocks, 1);
        for (int threads : new int[] {2, 3}) {
            assertBitIdentical(one, alone(weights, tokens, blocks, threads), threads + " threads vs 1");
        }
    }

    private static LlamaConfig config(String rope) {
        // dynamic: 16 original positions, so most of the prompt is rotated with a grown base
        RopeConfig r = rope.equals("dynamic")
                ? new RopeConfig(10000, RopeConfig.Scaling.DYNAMIC, 2.0, 16) : RopeConfig.plain(10000);
        return RandomLlama.smallGqa(r, 512);
    }

    private static List<float[]> alone(LlamaWeights weights, int[] tokens, int[] blocks, int threads) {
        try (CpuBackend backend = new CpuBackend(weights, BLOCK_SIZE, BLOCKS, threads)) {
            // fill the target's blocks with another sequence first: stale entries must never be read
            int[] junk = CpuBackendReferenceTest.randomTokens(new Random(6), blocks.length * BLOCK_SIZE,
                    weights.config().vocabSize());
            TestSequence.runAlone(backend, new TestSequence(99, junk, junk.length, 64, blocks, Logits.NONE));
            int prompt = Math.min(PROMPT, tokens.length);
            return TestSequence.runAlone(backend, new TestSequence(1, tokens, prompt, WHOLE, blocks, Logits.ALL));
        }
    }

    private static TestSequence randomOther(long id, Random random, Deque<Integer> free, int vocab) {
        int prompt = 1 + random.nextInt(40);
        int decode = random.nextInt(8);
        int[] tokens = CpuBackendReferenceTest.randomTokens(random, prompt + decode, vocab);
        int chunk = new int[] {1, 3, 8, 64}[random.nextInt(4)];
        Logits mode = Logits.values()[random.nextInt(3)];
        return new TestSequence(id, tokens, prompt, chunk, take(free, tokens.length), mode);
    }

    private static Deque<Integer> shuffledBlocks(Random random) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < BLOCKS; i++) ids.add(i);
        Collections.shuffle(ids, random);
        return new ArrayDeque<>(ids);
    }

    private static int[] take(Deque<Integer> free, int positions) {
        int[] b = new int[blocksFor(positions)];
        for (int i = 0; i < b.length; i++) b[i] = free.removeFirst();
        return b;
    }

    private static int blocksFor(int positions) {
        return (positions + BLOCK_SIZE - 1) / BLOCK_SIZE;
    }

    private static void assertBitIdentical(List<float[]> expected, List<float[]> actual, String what) {
        assertEquals(expected.size(), actual.size(), what + ": positions");
        for (int p = 0; p < expected.size(); p++) {
            assertNotNull(actual.get(p), what + ": no logits at position " + p);
            float[] e = expected.get(p);
            float[] a = actual.get(p);
            for (int i = 0; i < e.length; i++) {
                if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(a[i])) {
                    fail(what + ": position " + p + " logit " + i + " differs: " + e[i] + " vs " + a[i]);
                }
            }
        }
    }
}
