package dev.sparkllm.engine.cuda;

import dev.sparkllm.engine.backend.StepChecks;
import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepInput.SequenceChunk;

import java.util.List;

/**
 * A step's rows as the kernels read them, built on the host: chunk after chunk, token after token. Per row the
 * token, its position, its KV-cache slot and where its sequence's block table starts in {@link #blockTables};
 * and the rows whose logits are wanted, in chunk order. Arrays are reused from step to step.
 */
final class StepLayout {

    int rows;
    int logitRows;
    int maxPosition;     // largest position of any row
    int blockTableInts;  // ints used in blockTables
    int[] tokens = new int[0];
    int[] positions = new int[0];
    int[] slots = new int[0];
    int[] tableStart = new int[0];
    int[] blockTables = new int[0];
    int[] logitRowSource = new int[0];

    /**
     * Pads a decode step (one row per chunk, each wanting its logits) to {@code bucket} rows: each padding row
     * decodes token 0 at position 0 into {@code scratchSlot}, reading the block table at {@code scratchTable}.
     */
    void padDecode(int bucket, int scratchSlot, int scratchTable) {
        ensure(bucket);
        for (int r = rows; r < bucket; r++) {
            tokens[r] = 0;
            positions[r] = 0;
            slots[r] = scratchSlot;
            tableStart[r] = scratchTable;
            logitRowSource[r] = r;
        }
        rows = bucket;
        logitRows = bucket;
    }

    private void ensure(int n) {
        if (tokens.length < n) {
            tokens = java.util.Arrays.copyOf(tokens, n);
            positions = java.util.Arrays.copyOf(positions, n);
            slots = java.util.Arrays.copyOf(slots, n);
            tableStart = java.util.Arrays.copyOf(tableStart, n);
        }
        if (logitRowSource.length < n) logitRowSource = java.util.Arrays.copyOf(logitRowSource, n);
    }

    void build(List<SequenceChunk> chunks, int blockSize) {
        int total = 0, tableInts = 0, wanted = 0;
        for (SequenceChunk c : chunks) {
            total += c.tokenIds().length;
            tableInts += (c.endPosition() + blockSize - 1) / blockSize;
            wanted += StepChecks.logitRowCount(c);
        }
        rows = total;
        logitRows = wanted;
        blockTableInts = tableInts;
        ensure(total);
        if (blockTables.length < tableInts) blockTables = new int[tableInts];

        int row = 0, table = 0, logit = 0;
        maxPosition = 0;
        for (SequenceChunk c : chunks) {
            int blocks = (c.endPosition() + blockSize - 1) / blockSize;
            System.arraycopy(c.blockTable(), 0, blockTables, table, blocks);
            int n = c.tokenIds().length;
            for (int t = 0; t < n; t++, row++) {
                int pos = c.startPosition() + t;
                tokens[row] = c.tokenIds()[t];
                positions[row] = pos;
                slots[row] = c.blockTable()[pos / blockSize] * blockSize + pos % blockSize;
                tableStart[row] = table;
                boolean want = c.logits() == StepInput.Logits.ALL || (c.logits() == StepInput.Logits.LAST && t == n - 1);
                if (want) logitRowSource[logit++] = row;
                maxPosition = Math.max(maxPosition, pos);
            }
            table += blocks;
        }
    }
}
