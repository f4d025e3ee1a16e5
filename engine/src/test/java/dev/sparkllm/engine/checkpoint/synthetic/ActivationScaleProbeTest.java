package dev.sparkllm.engine.checkpoint.synthetic;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The synthetic weights at real widths keep a forward pass tame: the residual stream grows like the square root
 * of depth (random layers add in quadrature) and logits look like a language model's. Two layers of 7B widths
 * here; {@code ActivationScaleProbe 70b 4 128 true 80} by hand shows all 80 layers of 70B.
 */
class ActivationScaleProbeTest {

    @ParameterizedTest(name = "{0}-bit")
    @CsvSource({"4", "3"})
    void twoLayersOfSevenBStayWellInsideFp16(int bits) {
        CheckpointSpec spec = new CheckpointSpec(LlamaShape.LLAMA2_7B.withLayers(2), bits, 128, true, "model", 0);
        ActivationScaleProbe.Scales s = new ActivationScaleProbe(spec).run(false);
        double[] rms = s.residualRms();
        assertTrue(rms[0] > 0.5 && rms[0] < 5, "first layer's residual rms " + rms[0]);
        assertTrue(rms[1] > rms[0] && rms[1] < 1.6 * rms[0], "growth like sqrt(depth): " + rms[0] + " then " + rms[1]);
        assertTrue(s.maxResidual() < 50 && s.maxIntermediate() < 50, s.toString());
        assertTrue(s.logitRms() > 0.3 && s.logitRms() < 5 && s.maxLogit() < 30, s.toString());
    }
}
