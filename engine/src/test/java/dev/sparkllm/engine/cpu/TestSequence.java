package dev.sparkllm.engine.cpu;

import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepInput.Logits;
import dev.sparkllm.engine.backend.StepInput.SequenceChunk;

import java.util.ArrayList;
import java.util.List;

/**
 * A sequence as a test scheduler sees it: all its tokens known up front (prompt then "decoded" tokens), fed
 * to the backend in chunks of {@code chunkSize} for the prompt and one token per step after it, asking for
 * the logits of every position so they can be compared position by position.
 */
final class TestSequence {

    final long id;
    final int[] tokens;
    final int promptLength;
    final int chunkSize;
    final int[] blockTable;
    final Logits prefillLogits;
    int computed;
    final List<float[]> logits = new ArrayList<>(); // per position, [vocab]; null where NONE was asked

    TestSequence(long id, int[] tokens, int promptLength, int chunkSize, int[] blockTable, Logits prefillLogits) {
        this.id = id;
        this.tokens = tokens;
        this.promptLength = promptLength;
        this.chunkSize = chunkSize;
        this.blockTable = blockTable;
        this.prefillLogits = prefillLogits;
    }

    boolean done() {
        return computed == tokens.length;
    }

    /** The next chunk: up to chunkSize prompt tokens, or one token once the prompt is in the cache. */
    SequenceChunk nextChunk() {
        int n = computed < promptLength ? Math.min(chunkSize, promptLength - computed) : 1;
        int[] chunk = java.util.Arrays.copyOfRange(tokens, computed, computed + n);
        Logits mode = computed < promptLength ? prefillLogits : Logits.LAST;
        return new SequenceChunk(id, chunk, computed, blockTable, mode);
    }

    /** Records the logits the backend returned for {@code chunk}. */
    void accept(SequenceChunk chunk, float[] out, int vocab) {
        int n = chunk.tokenIds().length;
        switch (chunk.logits()) {
            case NONE -> { for (int i = 0; i < n; i++) logits.add(null); }
            case LAST -> {
                for (int i = 0; i < n - 1; i++) logits.add(null);
                logits.add(out);
            }
            case ALL -> {
                for (int i = 0; i < n; i++) logits.add(java.util.Arrays.copyOfRange(out, i * vocab, (i + 1) * vocab));
            }
        }
        computed += n;
    }

    /** Runs the sequence alone until done; returns its logits per position. */
    static List<float[]> runAlone(CpuBackend backend, TestSequence s) {
        while (!s.done()) {
            SequenceChunk chunk = s.nextChunk();
            float[] out = backend.execute(new StepInput(List.of(chunk))).logits().get(0);
            s.accept(chunk, out, backend.config().vocabSize());
        }
        return s.logits;
    }

    static int[] identityBlocks(int n) {
        int[] b = new int[n];
        for (int i = 0; i < n; i++) b[i] = i;
        return b;
    }
}
