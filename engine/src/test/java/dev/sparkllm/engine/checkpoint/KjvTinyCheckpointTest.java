package dev.sparkllm.engine.checkpoint;

import dev.sparkllm.engine.gptq.GptqLinear;
import dev.sparkllm.engine.model.Linear;
import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.model.LlamaWeights;
import dev.sparkllm.engine.testing.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The nine kjv-tiny directories open and load, and every GPTQ variant's dequantised weights stay close to the
 * fp16 checkpoint's. The reference is the fp16 checkpoint itself (an independent file), not our own output.
 */
class KjvTinyCheckpointTest {

    /**
     * Relative Frobenius error bounds ||W_gptq - W_fp16|| / ||W_fp16|| per matrix. Observed worst: 0.16 (4-bit),
     * 0.40 (3-bit, one group). Zero-points read off by one would shift every weight by a whole step and give
     * about 0.4 (4-bit) or 0.8 (3-bit).
     */
    private static final double MAX_REL_ERROR_4BIT = 0.18;
    private static final double MAX_REL_ERROR_3BIT = 0.45;

    private static LlamaWeights fp16;

    @BeforeAll
    static void loadReference() {
        try (ModelDirectory m = ModelDirectory.open(TestModels.kjvTiny("fp16"))) {
            fp16 = m.loadWeights();
        }
    }

    static List<String> allVariants() {
        return TestModels.KJV_TINY_VARIANTS;
    }

    static List<String> gptqVariants() {
        return TestModels.KJV_TINY_VARIANTS.stream().filter(v -> !v.equals("fp16")).toList();
    }

    @ParameterizedTest
    @MethodSource("allVariants")
    void opensAndLoads(String variant) {
        Path dir = TestModels.kjvTiny(variant);
        try (ModelDirectory m = ModelDirectory.open(dir)) {
            LlamaConfig c = m.config();
            assertEquals(1024, c.vocabSize());
            assertEquals(384, c.hiddenSize());
            assertEquals(1024, c.intermediateSize());
            assertEquals(4, c.numLayers());
            assertEquals(3, c.numHeads());
            assertEquals(1, c.numKvHeads());
            assertEquals(128, c.headDim());
            assertEquals(10000.0, c.rope().theta());
            assertEquals(LlamaConfig.RopeConfig.Scaling.NONE, c.rope().scaling());
            assertEquals(1e-5f, c.rmsNormEps());
            assertFalse(c.tieWordEmbeddings());
            assertArrayEquals(new int[] {2}, c.eosTokenIds());
            assertEquals(0.95, m.generationConfig().topP());
            assertEquals(variant.equals("fp16"), m.quantization().isEmpty());
            assertEquals(variant.equals("fp16") ? 2 : 1, m.weightFiles().size());

            LlamaWeights w = m.loadWeights();
            assertEquals(4, w.layers().size());
            for (LlamaWeights.Layer layer : w.layers()) {
                for (Linear l : linears(layer)) {
                    assertEquals(!variant.equals("fp16"), l instanceof GptqLinear, l.toString());
                }
            }
            assertInstanceOf(DenseLinear.class, w.lmHead());
        }
    }

    @ParameterizedTest
    @MethodSource("gptqVariants")
    void dequantisedWeightsAreCloseToFp16(String variant) {
        try (ModelDirectory m = ModelDirectory.open(TestModels.kjvTiny(variant))) {
            int bits = m.quantization().orElseThrow().bits();
            double bound = bits == 4 ? MAX_REL_ERROR_4BIT : MAX_REL_ERROR_3BIT;
            LlamaWeights q = m.loadWeights();
            double worst = 0;
            for (int l = 0; l < fp16.layers().size(); l++) {
                List<Linear> ref = linears(fp16.layers().get(l));
                List<Linear> got = linears(q.layers().get(l));
                for (int k = 0; k < ref.size(); k++) {
                    double err = relativeFrobenius(got.get(k).dequantize(), ref.get(k).dequantize());
                    worst = Math.max(worst, err);
                    assertTrue(err < bound, variant + " layer " + l + " matrix " + k + ": relative error " + err + " >= " + bound);
                }
            }
            System.out.printf("%s: worst relative Frobenius error %.4f (bound %.2f)%n", variant, worst, bound);
            // Dense parts are copied, not quantised.
            assertArrayEquals(fp16.finalNorm(), q.finalNorm());
            assertArrayEquals(fp16.lmHead().dequantize(), q.lmHead().dequantize());
        }
    }

    @Test
    void bundledModelMatchesSharedCopy() {
        try (ModelDirectory bundled = ModelDirectory.open(TestModels.bundledModel());
             ModelDirectory shared = ModelDirectory.open(TestModels.kjvTiny("gptq-4bit-128g-actorder_True"))) {
            assertEquals(shared.fingerprint(), bundled.fingerprint());
        }
    }

    @Test
    void fingerprintsDifferBetweenVariants() {
        List<String> prints = new ArrayList<>();
        for (String v : TestModels.KJV_TINY_VARIANTS) {
            try (ModelDirectory m = ModelDirectory.open(TestModels.kjvTiny(v))) {
                assertEquals(16, m.fingerprint().length());
                assertFalse(prints.contains(m.fingerprint()), v);
                prints.add(m.fingerprint());
            }
        }
        try (ModelDirectory again = ModelDirectory.open(TestModels.kjvTiny("main"))) {
            assertEquals(prints.get(1), again.fingerprint());
            assertNotEquals(prints.get(0), again.fingerprint());
        }
    }

    static List<Linear> linears(LlamaWeights.Layer layer) {
        return List.of(layer.wq(), layer.wk(), layer.wv(), layer.wo(), layer.gate(), layer.up(), layer.down());
    }

    static double relativeFrobenius(float[] got, float[] ref) {
        assertEquals(ref.length, got.length);
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = (double) got[i] - ref[i];
            diff += d * d;
            norm += (double) ref[i] * ref[i];
        }
        return Math.sqrt(diff / norm);
    }
}
