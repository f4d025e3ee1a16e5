package dev.sparkllm.engine.cpu;

import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepInput.Logits;
import dev.sparkllm.engine.backend.StepInput.SequenceChunk;
import dev.sparkllm.engine.model.LlamaConfig.RopeConfig;
import dev.sparkllm.engine.model.LlamaWeights;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What CpuBackend refuses, what it returns for each logits mode, and what it says about itself. */
class CpuBackendValidationTest {

    private final LlamaWeights weights = RandomLlama.weights(RandomLlama.smallGqa(RopeConfig.plain(10000), 64), 3);

    @Test
    void rejectsTokensOutsideTheVocabulary() {
        try (CpuBackend backend = new CpuBackend(weights, 4, 8, 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.execute(
                    new StepInput(List.of(new SequenceChunk(5, new int[] {1, 256}, 0, new int[] {0}, Logits.LAST)))));
            assertTrue(e.getMessage().contains("sequence 5") && e.getMessage().contains("256"), e.getMessage());
        }
    }

    @Test
    void rejectsBlockTablesThatDoNotCoverTheChunk() {
        try (CpuBackend backend = new CpuBackend(weights, 4, 8, 1)) {
            IllegalArgumentException shortTable = assertThrows(IllegalArgumentException.class, () -> backend.execute(
                    new StepInput(List.of(new SequenceChunk(6, new int[] {1, 2, 3}, 3, new int[] {0}, Logits.LAST)))));
            assertTrue(shortTable.getMessage().contains("need 2 blocks"), shortTable.getMessage());
            IllegalArgumentException outside = assertThrows(IllegalArgumentException.class, () -> backend.execute(
                    new StepInput(List.of(new SequenceChunk(7, new int[] {1}, 0, new int[] {8}, Logits.LAST)))));
            assertTrue(outside.getMessage().contains("block 8"), outside.getMessage());
        }
    }

    @Test
    void rejectsACacheTooLargeForJavaArrays() {
        assertThrows(IllegalArgumentException.class, () -> new CpuBackend(weights, 1 << 16, 1 << 16, 1));
    }

    @Test
    void returnsTheLogitsEachChunkAskedFor() {
        try (CpuBackend backend = new CpuBackend(weights, 4, 16, 2)) {
            int vocab = weights.config().vocabSize();
            List<float[]> out = backend.execute(new StepInput(List.of(
                    new SequenceChunk(1, new int[] {1, 2, 3}, 0, new int[] {0}, Logits.NONE),
                    new SequenceChunk(2, new int[] {4, 5, 6}, 0, new int[] {1}, Logits.LAST),
                    new SequenceChunk(3, new int[] {7, 8, 9}, 0, new int[] {2}, Logits.ALL)))).logits();
            assertEquals(3, out.size());
            assertNull(out.get(0));
            assertEquals(vocab, out.get(1).length);
            assertEquals(3 * vocab, out.get(2).length);
            assertEquals(4, backend.kvBlockSize());
            assertEquals(16, backend.kvBlockCount());
            assertEquals("cpu (2 threads)", backend.describe());
            // 2 layers x (K and V) x 16 blocks x 4 positions x kvDim 32 floats x 4 bytes
            assertEquals(2L * 2 * 16 * 4 * 32 * 4, backend.kvCacheBytes());
            assertEquals(backend.kvCacheBytes(), 16 * CpuBackend.kvBytesPerBlock(weights.config(), 4));
        }
    }
}
