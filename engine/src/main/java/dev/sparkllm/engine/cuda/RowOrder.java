package dev.sparkllm.engine.cuda;

import java.util.Arrays;

/**
 * The order in which a GPTQ layer's input rows are stored on the GPU: sorted by group (act-order checkpoints
 * scramble them), each group padded to whole 16-row steps so that no tensor-core step straddles two groups,
 * and the total padded to whole 128-row chunks (the product's unit of work).
 *
 * @param perm      {@code [kSteps·16]}: the input column each sorted row reads, -1 for padding; null when the
 *                  order is the checkpoint's own (rows past the input are then padding)
 * @param stepGroup {@code [kSteps]}: the group of each 16-row step
 * @param kSteps    16-row steps, a multiple of 8
 */
record RowOrder(int[] perm, int[] stepGroup, int kSteps) {

    static RowOrder of(int[] gIdx, int in, int groupSize, int groups) {
        int[] groupOf = new int[in];
        for (int i = 0; i < in; i++) groupOf[i] = gIdx != null ? gIdx[i] : (groupSize == -1 ? 0 : i / groupSize);
        int[] count = new int[groups];
        for (int g : groupOf) count[g]++;
        int[] start = new int[groups + 1];
        for (int g = 0; g < groups; g++) start[g + 1] = start[g] + roundUp(count[g], 16);
        int kSteps = roundUp(start[groups], 128) / 16;

        int[] stepGroup = new int[kSteps];
        for (int g = 0, s = 0; s < kSteps; s++) {
            while (g < groups - 1 && s * 16 >= start[g + 1]) g++;
            stepGroup[s] = g;
        }
        int[] perm = new int[kSteps * 16];
        Arrays.fill(perm, -1);
        int[] next = Arrays.copyOf(start, groups);
        boolean identity = true;
        for (int i = 0; i < in; i++) {
            int slot = next[groupOf[i]]++;
            perm[slot] = i;
            identity &= slot == i;
        }
        return new RowOrder(identity ? null : perm, stepGroup, kSteps);
    }

    static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }
}
