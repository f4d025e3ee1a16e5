package dev.sparkllm.engine.cuda;

import dev.sparkllm.engine.Engines;
import dev.sparkllm.engine.api.GenerationEngine;
import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.backend.ModelBackend;
import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.checkpoint.TinyLlamaCheckpoint;
import dev.sparkllm.engine.core.Engine;
import dev.sparkllm.engine.core.EngineOptions;
import dev.sparkllm.engine.core.TestRequests;
import dev.sparkllm.engine.testing.TestModels;
import dev.sparkllm.engine.tokenizer.TokenizerLoader;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CUDA backend inside the engine: batch invariance under load and preemption, a Llama-2-70B-wide layer, faults. */
@Tag("gpu")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GpuEngineTest {

    /** 64 requests alone, then in batches of 7, 64 and 256 and with a KV cache small enough to force preemption. */
    @Test
    void tokensAreIndependentOfBatchAndPreemption() throws Exception {
        Gpu.assumeGpu();
        Path dir = TestModels.bundledModel();
        List<GenerationRequest> requests = TestRequests.mixed(64, 1024, 80, 48, 42);
        ModelDirectory model = ModelDirectory.open(dir);
        List<GenerationResult> alone;
        EngineOptions one = EngineOptions.defaults().withMaxBatchSequences(1).withPrefixCaching(false);
        try (Engine e = new Engine(Engines.openBackend(model, "cuda", Map.of(), 2048, 1024, 1), TokenizerLoader.load(dir), one)) {
            alone = TestRequests.oneByOne(e, requests);
        }
        long distinct = alone.stream().map(r -> java.util.Arrays.toString(r.tokenIds())).distinct().count();
        assertTrue(distinct > 48, "outputs barely differ: " + distinct);
        for (int batch : new int[]{7, 64, 256}) {
            EngineOptions options = new EngineOptions(batch, 2048, batch == 7 ? 16 : 512, 1024, true, 0);
            try (Engine e = new Engine(Engines.openBackend(model, "cuda", Map.of(), 2048, 1024, batch), TokenizerLoader.load(dir), options)) {
                assertNull(TestRequests.firstDifference(alone, e.generate(requests)), "batch " + batch);
            }
        }
        // 1 MiB of KV cache is 32 blocks of 16 positions (2 KiB a position): far fewer than 64 requests need at once,
        // so sequences are preempted and recomputed. A 256-token context (prompts ≤ 80, ≤ 48 new) fits it.
        EngineOptions options = new EngineOptions(64, 512, 7, 1024, true, 256);
        ModelBackend small = Engines.openBackend(model, "cuda", Map.of("kv_cache_mb", "1"), 512, 256, 64);
        try (Engine e = new Engine(small, TokenizerLoader.load(dir), options)) {
            assertNull(TestRequests.firstDifference(alone, e.generate(requests)), "under preemption");
            System.out.printf("preemption run: %d KV blocks, %d preemptions%n", small.kvBlockCount(), e.preemptions());
            assertTrue(e.preemptions() > 0, "the small KV cache was meant to force preemption");
        }
        model.close();
    }

    /**
     * One transformer block at Llama-2-70B's width (hidden 8192, 64 heads, 8 KV heads, FFN 28672; 4-bit g128
     * act-order) through both backends: prefill chunks of 17 and 300 tokens (attention over two 256-position
     * chunks), then a decode step. Logits within 1 % relative error (fp16 products and KV cache), same argmax.
     */
    @Test
    void llama70bWideLayerMatchesCpu(@TempDir Path tmp) throws Exception {
        Gpu.assumeGpu();
        TinyLlamaCheckpoint ckpt = new TinyLlamaCheckpoint();
        ckpt.vocab = 512;
        ckpt.hidden = 8192;
        ckpt.intermediate = 28672;
        ckpt.layers = 1;
        ckpt.heads = 64;
        ckpt.kvHeads = 8;
        ckpt.bits = 4;
        ckpt.groupSize = 128;
        ckpt.actOrder = true;
        ckpt.configEdits = c -> c.put("max_position_embeddings", 1024);
        Path dir = ckpt.write(tmp.resolve("wide"));
        ckpt.expected.clear();
        try (ModelDirectory model = ModelDirectory.open(dir);
             ModelBackend cpu = Engines.openBackend(model, "cpu", Map.of(), 512, 1024, 4);
             ModelBackend gpu = Engines.openBackend(model, "cuda", Map.of(), 512, 1024, 4)) {
            Random r = new Random(9);
            int[] a = TestRequests.randomTokens(r, 17, 512), b = TestRequests.randomTokens(r, 300, 512);
            int[] tableA = {0, 1}, tableB = new int[20];
            for (int i = 0; i < tableB.length; i++) tableB[i] = 2 + i;
            StepInput prefill = new StepInput(List.of(
                    new StepInput.SequenceChunk(1, a, 0, tableA, StepInput.Logits.ALL),
                    new StepInput.SequenceChunk(2, b, 0, tableB, StepInput.Logits.LAST)));
            StepInput decode = new StepInput(List.of(
                    new StepInput.SequenceChunk(1, new int[]{5}, 17, tableA, StepInput.Logits.LAST),
                    new StepInput.SequenceChunk(2, new int[]{7}, 300, tableB, StepInput.Logits.LAST)));
            for (StepInput step : List.of(prefill, decode)) {
                List<float[]> x = cpu.execute(step).logits(), y = gpu.execute(step).logits();
                for (int c = 0; c < x.size(); c++) {
                    double err = Gpu.relativeError(y.get(c), x.get(c), x.get(c).length);
                    System.out.printf("70B-wide layer, chunk %d: relative error %.2e%n", c, err);
                    assertTrue(err < 0.01, "relative error " + err);
                    int rows = x.get(c).length / 512, same = 0;
                    for (int row = 0; row < rows; row++) {
                        float[] cpuRow = java.util.Arrays.copyOfRange(x.get(c), row * 512, row * 512 + 512);
                        float[] gpuRow = java.util.Arrays.copyOfRange(y.get(c), row * 512, row * 512 + 512);
                        int cpuTop = KjvTinyGpuTest.argmax(cpuRow, 0, 512), gpuTop = KjvTinyGpuTest.argmax(gpuRow, 0, 512);
                        if (cpuTop == gpuTop) {
                            same++;
                            continue;
                        }
                        // a different top token only where the CPU's two candidates are closer than the products' error
                        double worst = 0;
                        for (int v = 0; v < 512; v++) worst = Math.max(worst, Math.abs(cpuRow[v] - gpuRow[v]));
                        assertTrue(cpuRow[cpuTop] - cpuRow[gpuTop] <= 2 * worst, "argmax of chunk " + c + " row " + row + ": CPU "
                                + cpuTop + " (" + cpuRow[cpuTop] + "), GPU " + gpuTop + " (CPU logit " + cpuRow[gpuTop] + "), error " + worst);
                    }
                    System.out.printf("70B-wide layer, chunk %d: argmax equal in %d of %d rows%n", c, same, rows);
                    assertTrue(same >= rows * 0.9, same + " of " + rows + " rows with the CPU's argmax");
                }
            }
        }
    }

    /**
     * A kernel fault fails the engine with a message naming the error; no request ends as a silent error row; and
     * an engine opened afterwards in the same JVM works (the poisoned context is reset). Runs last.
     */
    @Test
    @Order(Integer.MAX_VALUE)
    void injectedFaultFailsTheEngineCleanly() throws Exception {
        Gpu.assumeGpu();
        Path dir = TestModels.bundledModel();
        try (GenerationEngine engine = Engines.open(dir, "cuda", Map.of())) {
            GenerationRequest r = new GenerationRequest("x", new int[]{1, 40, 50}, dev.sparkllm.engine.sampling.SamplingParams.greedy(8));
            assertEquals(8, engine.generate(List.of(r)).get(0).tokenIds().length);
            CudaBackend.injectFaultOnNextStep();
            Exception e = assertThrows(Exception.class, () -> engine.generate(List.of(r)));
            String message = String.valueOf(e.getMessage()) + " " + (e.getCause() != null ? e.getCause().getMessage() : "");
            System.out.println("injected fault: " + message);
            assertTrue(message.contains("CUDA_ERROR_ILLEGAL_ADDRESS") || message.contains("illegal"), message);
            assertThrows(IllegalStateException.class, () -> engine.submit(r, null), "a failed engine takes no more requests");
        }
        // The driver may keep the faulted context for the life of the process: a later engine either works or says
        // to restart the process (Spark's executor), never computes on the broken context.
        try (GenerationEngine engine = Engines.open(dir, "cuda", Map.of())) {
            GenerationRequest r = new GenerationRequest("y", new int[]{1, 40, 50}, dev.sparkllm.engine.sampling.SamplingParams.greedy(8));
            assertEquals(8, engine.generate(List.of(r)).get(0).tokenIds().length, "an engine opened after the fault");
            System.out.println("after the fault: a new engine in the same process works");
        } catch (CudaException reopen) {
            System.out.println("after the fault: " + reopen.getMessage());
            assertTrue(reopen.getMessage().contains("restart the process"), reopen.getMessage());
        }
    }
}
