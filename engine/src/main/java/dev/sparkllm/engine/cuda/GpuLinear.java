package dev.sparkllm.engine.cuda;

import jcuda.driver.CUdeviceptr;

import java.util.List;

/**
 * A linear layer resident on the GPU, {@code y = x · Wᵀ}, in the layout {@code gemm.cu} reads: GPTQ weights as
 * 4-bit tiles or 3-bit bit planes (no value straddles a word) with per-group (1024 + zero, scale) pairs, or
 * dense weights as fp16 tiles. Several checkpoint projections that read the same input through the same row order (q, k and v; gate
 * and up) are one layer side by side, so one product serves them all.
 *
 * <p>Rows: input rows sorted by GPTQ group (an act-order checkpoint scrambles them), each group padded to a
 * whole 16-row step, the total to whole 128-row chunks; {@code perm} maps each sorted row to the input column
 * the kernel gathers from the activations (so the activation permutation costs no extra pass), and
 * {@code stepGroup} names each step's group.
 *
 * <p>Split-K: the row chunks are cut into {@link #splits} ranges whose sums are added in a fixed order; the count
 * depends on the layer's shape only, never on the batch. Up to 127 rows the split-K kernels ({@code gemm.cu})
 * run the ranges in parallel blocks and {@code gemm_reduce} adds their partial sums; from
 * {@link #TILES_FROM_ROWS} rows the tiled kernels ({@code gemm_tiles.cu}) run all ranges in one block per tile and
 * add the range sums in the same order. Either way a row's result is the same in every batch (batch invariance).
 */
public final class GpuLinear {

    /** Rows per kernel launch: bounds the split-K workspace ({@code splits × MAX_ROWS × outFeatures} floats). */
    public static final int MAX_ROWS = 256;
    /** Thread blocks a split-K product aims for without a second wave: four 128-thread blocks per SM of a 132-SM H100/H200. */
    private static final int TARGET_BLOCKS = 528;
    /**
     * Which kernels serve products of up to 16 rows, all with the same values: {@code *_small_early} (the first
     * weights in flight before the activations are staged, the staging 8 elements a thread at a time; on an H100 the
     * 70B step's decode products took 18.96 ms where {@code *_small} took 20.14), {@code *_small} ({@code plain}),
     * or, under trial, {@code *_small_wide} (early with 8-warp blocks: one staging serves twice the columns).
     * {@code -Dsparkllm.cuda.small=early|plain|wide}, default early; read at each launch.
     */
    static volatile String small = CudaBackend.choice("sparkllm.cuda.small", "early", "plain", "wide");
    /**
     * Rows from which a launch uses the tiled kernels (gemm_tiles.cu: 64 × 256 tiles, no split-K workspace) instead
     * of split-K; both give the same sums, so this is a speed choice only. {@code -Dsparkllm.cuda.tilesFromRows}.
     */
    static final int TILES_FROM_ROWS = Integer.getInteger("sparkllm.cuda.tilesFromRows", 128);
    /**
     * Which tiled kernels run: {@code ksplit} (warps of 64 × 64 outputs in two groups that take alternate split-K
     * ranges at once, the range sums added in order in shared memory; 133 against 177 ms of a 70B step at 256 rows
     * on an H100) where the GPU gives a block its 195 KB of shared memory, else {@code plain}: the same values.
     * {@code -Dsparkllm.cuda.tiles=ksplit|plain}, default ksplit; read at each launch.
     */
    static volatile String tiles = CudaBackend.choice("sparkllm.cuda.tiles", "ksplit", "plain");
    private static final int TILE_STAGES = 3;
    /** gemm_tiles.cu's KSPLIT_STAGES (per group) and KSPLIT_TOTAL_BYTES (the tile's fp32 total). */
    private static final int KSPLIT_STAGES = 3, KSPLIT_TOTAL_BYTES = 64 * 256 * 4;
    /** The decode kernel's staged activations at most: four 128-thread blocks per SM must fit beside each other. */
    private static final int SMALL_SHARED_MAX = 48 * 1024;

    /** How the weights are stored on the GPU: the kernel family that reads them. */
    enum Kind {
        F16("gemm_f16_", 64), Q4("gemm_q4_", 16), Q3("gemm_q3_", 12);

        final String kernel;
        final int bytesPerLaneStep; // weight bytes per lane and 16-row step of a 64-column block

        Kind(String kernel, int bytesPerLaneStep) {
            this.kernel = kernel;
            this.bytesPerLaneStep = bytesPerLaneStep;
        }

        /** gemm_tiles.cu's TileUnit::BYTES: one pipeline stage (activations, weights, scales, groups). */
        int tileStageBytes() {
            return tileStageBytes(this == F16 ? 2 : 8);
        }

        /** The same for the ksplit kernels' units (KsplitSteps). */
        int ksplitStageBytes() {
            return tileStageBytes(this == F16 ? 2 : 4);
        }

        private int tileStageBytes(int steps) {
            int a = 64 * (steps * 16 + 8) * 2;
            int b = this == Q3 ? steps / 4 * 4 * 3 * 32 : this == Q4 ? steps * 4 * 32 : steps * 4 * 32 * 4;
            int z = this == F16 ? 0 : steps * 4 * 16;
            return (a + 16 * (b + z) + steps * 4 + 127) / 128 * 128;
        }

        /** Device bytes of the weights of {@code kSteps} steps and {@code nBlocks} 64-column blocks. */
        long weightBytes(int kSteps, int nBlocks) {
            return (long) kSteps * nBlocks * 32 * bytesPerLaneStep;
        }
    }

    final Kind kind;
    final int inFeatures;
    final int outFeatures;
    final int kSteps;        // sorted, padded rows / 16; a multiple of 8
    final int nBlocks;       // ceil(outFeatures / 64)
    final int splits;
    final DeviceBuffer weights;
    final DeviceBuffer zeroScales;  // quantized only
    final DeviceBuffer stepGroup;   // quantized only
    final DeviceBuffer perm;        // null: row k reads input column k
    final List<String> parts;       // checkpoint names, for messages

    GpuLinear(Kind kind, int inFeatures, int outFeatures, int kSteps, DeviceBuffer weights, DeviceBuffer zeroScales,
              DeviceBuffer stepGroup, DeviceBuffer perm, List<String> parts) {
        this.kind = kind;
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.kSteps = kSteps;
        this.nBlocks = (outFeatures + 63) / 64;
        this.splits = splitsFor(nBlocks, kSteps);
        this.weights = weights;
        this.zeroScales = zeroScales;
        this.stepGroup = stepGroup;
        this.perm = perm;
        this.parts = List.copyOf(parts);
    }

    /** Split-K ranges for a layer: a function of its shape alone (see the class comment). */
    static int splitsFor(int nBlocks, int kSteps) {
        int blocksAcross = (nBlocks + 3) / 4;
        int wanted = TARGET_BLOCKS / blocksAcross;  // rounded down: a second, nearly empty wave costs a whole one
        return Math.max(1, Math.min(wanted, kSteps / 8));
    }

    public int inFeatures() { return inFeatures; }

    public int outFeatures() { return outFeatures; }

    /** Floats of workspace this layer needs for {@link #MAX_ROWS} rows: split-K partial sums, or the tiled kernels' sorted activations. */
    long workspaceFloats() {
        return Math.max((long) splits * MAX_ROWS * outFeatures, (long) MAX_ROWS * kSteps * 16 / 2);
    }

    /** Device bytes of this layer's tensors. */
    long bytes() {
        long b = weights.bytes();
        if (zeroScales != null) b += zeroScales.bytes() + stepGroup.bytes();
        if (perm != null) b += perm.bytes();
        return b;
    }

    /**
     * {@code y[m] (=|+=) x[m] · Wᵀ} for {@code rows} rows.
     *
     * @param x          fp16 activations, row-major with row stride {@code ldx} (at least {@code inFeatures})
     * @param y          fp32 output, row {@code m} at {@code y + (m·ldy + column) floats}
     * @param accumulate add to {@code y} (a residual connection) instead of overwriting it
     * @param workspace  at least {@link #workspaceFloats()} floats
     */
    void forward(CudaDevice d, DeviceBuffer x, int ldx, int rows, DeviceBuffer workspace, DeviceBuffer y, int ldy, int column,
                 boolean accumulate) {
        forward(d, x, ldx, rows, workspace, y, ldy, column, accumulate, false);
    }

    /**
     * As {@link #forward(CudaDevice, DeviceBuffer, int, int, DeviceBuffer, DeviceBuffer, int, int, boolean)}, but
     * with {@code deferReduce} a product that runs as one split-K launch skips {@code gemm_reduce} and leaves its
     * partial sums in the workspace, {@code [splits][rows][outFeatures]} floats from its start, for the next kernel
     * to add itself (common.cuh's split_sum, the same additions in the same order: the same values). Deferring
     * needs the result to be the whole of {@code y}'s rows (column 0, {@code ldy == outFeatures}), not added to it.
     *
     * @return the number of splits left in the workspace, or 0 when {@code y} holds the result
     */
    int forward(CudaDevice d, DeviceBuffer x, int ldx, int rows, DeviceBuffer workspace, DeviceBuffer y, int ldy, int column,
                boolean accumulate, boolean deferReduce) {
        if (deferReduce && (accumulate || column != 0 || ldy != outFeatures)) {
            throw new IllegalArgumentException("a deferred reduction must write whole rows of y, not add to them");
        }
        int ksplitShared = KSPLIT_TOTAL_BYTES + 2 * KSPLIT_STAGES * kind.ksplitStageBytes();
        boolean ksplit = tiles.equals("ksplit") && ksplitShared <= d.maxSharedPerBlock();
        int tileShared = ksplit ? ksplitShared : TILE_STAGES * kind.tileStageBytes();
        int across = (nBlocks + 3) / 4;  // 4 column blocks (one per warp) per thread block
        for (int m0 = 0; m0 < rows; m0 += MAX_ROWS) {
            int m = Math.min(MAX_ROWS, rows - m0);
            CUdeviceptr xm = x.at((long) m0 * ldx * 2);
            CUdeviceptr ym = y.at(((long) m0 * ldy + column) * 4);
            if (m >= TILES_FROM_ROWS && tileShared <= d.maxSharedPerBlock()) {
                Object xs = xm;
                int ldxs = ldx;
                if (perm != null || inFeatures != kSteps * 16 || ldx % 8 != 0) {
                    xs = workspace;
                    ldxs = kSteps * 16;
                    d.launch("gemm_gather", (ldxs + 2047) / 2048, m, 1, 256, 0, xm, ldx, perm, inFeatures, xs, ldxs);
                }
                if (ksplit) {  // row tiles first (grid x)
                    d.launch(kind.kernel + "tiles_ksplit", (m + 63) / 64, across, 1, 256, tileShared, xs, ldxs, weights,
                            zeroScales, stepGroup, ym, ldy, accumulate ? 1 : 0, m, outFeatures, nBlocks, kSteps, splits);
                } else {
                    d.launch(kind.kernel + "tiles", across, (m + 63) / 64, 1, 256, tileShared, xs, ldxs, weights,
                            zeroScales, stepGroup, ym, ldy, accumulate ? 1 : 0, m, outFeatures, nBlocks, kSteps, splits);
                }
                continue;
            }
            int kRange = 128 * ((kSteps / 8 + splits - 1) / splits);  // the longest split's sorted rows
            int smallShared = m * (kRange + 8) * 2;
            if (m <= 16 && smallShared <= SMALL_SHARED_MAX) {
                String choice = small;
                boolean wide = choice.equals("wide");
                d.launch(kind.kernel + (wide ? "small_wide" : choice.equals("early") ? "small_early" : "small"),
                        wide ? (nBlocks + 7) / 8 : across, splits, 1, wide ? 256 : 128, smallShared, xm, ldx, perm, weights,
                        zeroScales, stepGroup, workspace, m, outFeatures, inFeatures, nBlocks, kSteps, splits);
            } else {
                int mt = m <= 32 ? 2 : 4;
                d.launch(kind.kernel + "mt" + mt, across, splits, (m + 16 * mt - 1) / (16 * mt), 128, 0, xm, ldx, perm,
                        weights, zeroScales, stepGroup, workspace, m, outFeatures, inFeatures, nBlocks, kSteps, splits);
            }
            if (deferReduce && m == rows) return splits;  // one launch: its partial sums are the whole result
            long total = (long) m * outFeatures;
            d.launch("gemm_reduce", (int) ((total + 255) / 256), 1, 1, 256, 0, workspace, splits, m, outFeatures, ym, ldy,
                    accumulate ? 1 : 0);
        }
        return 0;
    }
}
