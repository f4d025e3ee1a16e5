package dev.sparkllm.engine.backend.sim;

import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepInput.Logits;
import dev.sparkllm.engine.backend.StepInput.SequenceChunk;
import dev.sparkllm.engine.model.LlamaConfig;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SimulatedGpuBackendTest {

    static final LlamaConfig CONFIG = new LlamaConfig(500, 8, 32, 1, 1, 1, 8, 2048, 1e-5f,
            LlamaConfig.RopeConfig.plain(10000), false, 1, new int[]{2});

    static SimulatedGpuBackend backend(double eosRate) {
        return new SimulatedGpuBackend(CONFIG, 4, 64, Roofline.instant(), eosRate);
    }

    static int[] tokens(int n, int seed) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 3 + Math.floorMod(seed * 31 + i * 17, 400);
        return t;
    }

    static int[] blocks(int... ids) { return ids; }

    static float[] last(SimulatedGpuBackend b, SequenceChunk... chunks) {
        return b.execute(new StepInput(List.of(chunks))).logits().get(0);
    }

    @Test
    void logitsDoNotDependOnTheRestOfTheBatch() {
        SequenceChunk a = new SequenceChunk(1, tokens(10, 1), 0, blocks(0, 1, 2), Logits.LAST);
        float[] alone = last(backend(0.1), a);
        SequenceChunk b = new SequenceChunk(2, tokens(7, 2), 0, blocks(3, 4), Logits.LAST);
        SequenceChunk c = new SequenceChunk(3, tokens(1, 3), 0, blocks(5), Logits.LAST);
        SimulatedGpuBackend batched = backend(0.1);
        List<float[]> out = batched.execute(new StepInput(List.of(b, a, c))).logits();
        assertArrayEquals(alone, out.get(1));
    }

    @Test
    void logitsDoNotDependOnChunkingOrPhysicalBlocks() {
        int[] t = tokens(11, 4);
        float[] whole = last(backend(0.1), new SequenceChunk(1, t, 0, blocks(0, 1, 2), Logits.LAST));
        SimulatedGpuBackend chunked = backend(0.1);
        int[] table = blocks(9, 3, 17);
        assertNull(last(chunked, new SequenceChunk(1, Arrays.copyOfRange(t, 0, 3), 0, blocks(9), Logits.NONE)));
        last(chunked, new SequenceChunk(1, Arrays.copyOfRange(t, 3, 9), 3, table, Logits.NONE));
        assertArrayEquals(whole, last(chunked, new SequenceChunk(1, Arrays.copyOfRange(t, 9, 11), 9, table, Logits.LAST)));
    }

    @Test
    void logitsDependOnTheKvTheBlockTablePointsTo() {
        SimulatedGpuBackend b = backend(0.1);
        int[] t1 = tokens(8, 5);
        int[] t2 = tokens(8, 6);
        b.execute(new StepInput(List.of(
                new SequenceChunk(1, t1, 0, blocks(0, 1), Logits.NONE),
                new SequenceChunk(2, t2, 0, blocks(2, 3), Logits.NONE))));
        int[] next = {42};
        float[] right = last(b, new SequenceChunk(1, next, 8, blocks(0, 1, 4), Logits.LAST));
        float[] wrong = last(b, new SequenceChunk(1, next, 8, blocks(0, 3, 5), Logits.LAST));
        assertFalse(Arrays.equals(right, wrong), "a wrong block table must change the logits");
    }

    @Test
    void allLogitsRowsEqualTheLastLogitsOfEachPrefix() {
        int[] t = tokens(6, 7);
        float[] all = last(backend(0.2), new SequenceChunk(1, t, 0, blocks(0, 1), Logits.ALL));
        int v = CONFIG.vocabSize();
        assertEquals(6 * v, all.length);
        for (int i = 1; i <= 6; i++) {
            float[] prefix = last(backend(0.2), new SequenceChunk(1, Arrays.copyOf(t, i), 0, blocks(0, 1), Logits.LAST));
            assertArrayEquals(prefix, Arrays.copyOfRange(all, (i - 1) * v, i * v));
        }
    }

    @Test
    void eosDominatesAtTheRequestedRate() {
        for (double rate : new double[]{0, 0.25, 1}) {
            SimulatedGpuBackend b = backend(rate);
            int eos = 0;
            int n = 4000;
            for (int i = 0; i < n; i++) {
                float[] l = last(b, new SequenceChunk(i, new int[]{3 + i % 400, 3 + i / 400}, 0, blocks(0), Logits.LAST));
                int top = 0;
                for (int k = 1; k < l.length; k++) if (l[k] > l[top]) top = k;
                if (top == 2) eos++;
            }
            double sigma = Math.sqrt(n * rate * (1 - rate));
            assertTrue(Math.abs(eos - n * rate) <= 4 * sigma + 1e-9, "rate " + rate + ": " + eos + " EOS of " + n);
        }
    }

    @Test
    void shortBlockTableIsRejected() {
        SimulatedGpuBackend b = backend(0);
        assertThrows(IllegalArgumentException.class,
                () -> b.execute(new StepInput(List.of(new SequenceChunk(1, tokens(5, 1), 0, blocks(0), Logits.LAST)))));
    }

    @Test
    void rooflinePredictsTheLargerOfMemoryAndComputeTime() {
        Roofline h200 = Roofline.llama2_70bGptq4bitOnH200();
        // One decode at position 999: 36.1 GB of weights plus 1001 KV positions of 320 KiB at 4.5 TB/s.
        double memory = (36.1e9 + 1001 * 327_680.0) / 4.5e12;
        assertEquals(memory, h200.stepSeconds(1, 1000), 1e-12);
        assertTrue(memory > 0.008 && memory < 0.0081);
        // 256 decodes: 256 x 138 GFLOP at 790 TFLOP/s (44.7 ms) is more than the memory time.
        assertEquals(256 * 138e9 / 790e12, h200.stepSeconds(256, 256 * 600), 1e-12);
        assertEquals(0, Roofline.instant().stepSeconds(10_000, 10_000_000), 1e-9);
    }

    @Test
    void kvPoolSizedFromDeviceMemory() {
        Roofline h200 = Roofline.llama2_70bGptq4bitOnH200();
        int blocks = SimulatedGpuBackend.kvBlocksFitting(h200, 141e9, 0.1, 16);
        assertEquals((int) ((141e9 * 0.9 - 36.1e9) / (327_680.0 * 16)), blocks);
    }
}
