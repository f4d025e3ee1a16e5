package dev.sparkllm.engine.cpu;

import dev.sparkllm.engine.backend.StepInput.Logits;
import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.model.LlamaConfig.RopeConfig;
import dev.sparkllm.engine.model.LlamaWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CpuBackend against the naive double-precision {@link ReferenceLlama}, within 1e-4 relative on logits. */
class CpuBackendReferenceTest {

    private static final double TOLERANCE = 1e-4;

    @Test
    void kjvTinyShapeMatchesReference() {
        LlamaConfig config = RandomLlama.kjvTinyShape();
        assertMatchesReference(config, 11, 20, 4, 7, 2);
    }

    @ParameterizedTest(name = "kvHeads={0}")
    @ValueSource(ints = {1, 2, 4})
    void groupedQueryHeadsMatchReference(int kvHeads) {
        LlamaConfig config = RandomLlama.config(256, 64, 160, 2, 4, kvHeads, 16, 512, RopeConfig.plain(10000));
        assertMatchesReference(config, 12 + kvHeads, 23, 6, 5, 2);
    }

    @Test
    void linearRopeScalingMatchesReference() {
        RopeConfig rope = new RopeConfig(10000, RopeConfig.Scaling.LINEAR, 2.5, 0);
        LlamaConfig config = RandomLlama.smallGqa(rope, 16);
        assertMatchesReference(config, 21, 30, 5, 7, 3);
    }

    @Test
    void dynamicRopeScalingMatchesReference() {
        // 16 original positions: prompt and decoded positions run past them, where the base grows each position
        RopeConfig rope = new RopeConfig(10000, RopeConfig.Scaling.DYNAMIC, 2.0, 16);
        LlamaConfig config = RandomLlama.smallGqa(rope, 64);
        assertMatchesReference(config, 22, 30, 6, 11, 3);
    }

    @Test
    void ropeScalingChangesLogitsWhereItShould() {
        // guards the scaling tests against a scaling that silently does nothing
        int[] tokens = randomTokens(new Random(5), 24, 256);
        List<float[]> plain = logits(RopeConfig.plain(10000), 16, tokens);
        List<float[]> linear = logits(new RopeConfig(10000, RopeConfig.Scaling.LINEAR, 2.0, 0), 16, tokens);
        List<float[]> dynamic = logits(new RopeConfig(10000, RopeConfig.Scaling.DYNAMIC, 2.0, 16), 16, tokens);
        assertTrue(maxAbsDiff(plain.get(0), linear.get(0)) == 0, "position 0 has angle 0 under any scaling");
        assertTrue(maxAbsDiff(plain.get(5), linear.get(5)) > 1e-3, "linear scaling must change position 5");
        for (int p = 0; p < 16; p++) {
            assertEquals(0, maxAbsDiff(plain.get(p), dynamic.get(p)), "dynamic scaling must not act within 16 positions, p=" + p);
        }
        assertTrue(maxAbsDiff(plain.get(20), dynamic.get(20)) > 1e-3, "dynamic scaling must act past 16 positions");
    }

    private static List<float[]> logits(RopeConfig rope, int maxPositions, int[] tokens) {
        LlamaWeights weights = RandomLlama.weights(RandomLlama.smallGqa(rope, maxPositions), 99);
        try (CpuBackend backend = new CpuBackend(weights, 8, 8, 1)) {
            return TestSequence.runAlone(backend, new TestSequence(1, tokens, tokens.length, tokens.length,
                    TestSequence.identityBlocks(8), Logits.ALL));
        }
    }

    /**
     * Prefills {@code prompt} random tokens in chunks of {@code chunk}, then decodes {@code decode} more, and
     * compares the logits of every position with the reference's.
     */
    private static void assertMatchesReference(LlamaConfig config, long seed, int prompt, int blockSize,
                                               int chunk, int decode) {
        LlamaWeights weights = RandomLlama.weights(config, seed);
        int[] tokens = randomTokens(new Random(seed), prompt + decode, config.vocabSize());
        int blocks = (tokens.length + blockSize - 1) / blockSize;
        List<float[]> actual;
        try (CpuBackend backend = new CpuBackend(weights, blockSize, blocks + 3, 2)) {
            actual = TestSequence.runAlone(backend,
                    new TestSequence(1, tokens, prompt, chunk, TestSequence.identityBlocks(blocks), Logits.ALL));
        }
        double[][] expected = new ReferenceLlama(weights).logitsAtEachPosition(tokens);
        for (int p = 0; p < tokens.length; p++) {
            double scale = 0;
            double diff = 0;
            for (int i = 0; i < config.vocabSize(); i++) {
                scale = Math.max(scale, Math.abs(expected[p][i]));
                diff = Math.max(diff, Math.abs(expected[p][i] - actual.get(p)[i]));
            }
            assertTrue(scale > 0.1, "reference logits are degenerate at position " + p);
            assertTrue(diff <= TOLERANCE * scale, "position " + p + ": max |cpu - reference| = " + diff
                    + " exceeds " + TOLERANCE + " x max |reference| = " + scale);
        }
    }

    static int[] randomTokens(Random random, int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = random.nextInt(vocab);
        return t;
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }
}
