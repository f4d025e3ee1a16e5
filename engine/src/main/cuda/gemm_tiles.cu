// Linear layers for large batches and prefill: y (=|+=) x · W with 64-row × 256-column tiles per block, the whole K
// range in one block, and the activations and weights streamed through shared memory by cp.async three units
// ahead. It gives the same sums as the split-K kernels (gemm.cu) bit for bit: each split's steps are summed
// from zero in step order, and the block adds the split sums in split order, as gemm_reduce does, so a row's
// result is the same whichever kernel the batch size picked (batch invariance).
//
// Launch contract (gemm_{q4,q3,f16}_tiles; the Java side is GpuLinear):
//   grid (ceil(nBlocks/4), ceil(M/64)), block 256 threads (8 warps: 4 column blocks × 2 halves of 32 columns),
//   dynamic shared memory TILE_STAGES · TileUnit<KIND>::BYTES.
//   xs      fp16 [M, ldxs] in sorted row order, kSteps·16 columns, zero where a sorted row is padding (gemm_gather
//           writes it from the natural order; a layer without a permutation or padding passes x itself);
//           ldxs a multiple of 8 (16-byte copies)
//   w, zs, stepGroup, nBlocks, kSteps, splits: as in gemm.cu
//   y       fp32 [M, ldy]: stored (accumulate = 0) or added to (accumulate = 1, the residual connection)
// Each warp owns all 64 rows × 32 columns (half a column block): 4 × 4 tensor-core tiles, a running split sum and
// the split sums' total. Whole-row warps dequantise each weight once per block (two 32-row warps per column block
// dequantised every weight twice), which is what bounds this kernel: the dequantisation competes with the
// tensor-core instructions for issue slots.
#include "dequant.cuh"

#define TILE_ROWS 64
#define TILE_STAGES 3

// One pipeline stage: STEPS_ steps of the 64 rows' activations, the four column blocks' weights and scales.
template <int KIND, int STEPS_ = (KIND == W_F16 ? 2 : 8)> struct TileUnit {
    static constexpr int STEPS = STEPS_;                                      // steps per pipeline unit
    static constexpr int ROW_HALVES = STEPS * 16 + 8;                        // halves per staged row (bank spread)
    static constexpr int A_BYTES = TILE_ROWS * ROW_HALVES * 2;
    static constexpr int B_UINT4 = KIND == W_Q3 ? STEPS / 4 * 4 * 3 * 32   // quads × blocks × planes × lanes
                                 : KIND == W_Q4 ? STEPS * 4 * 32 : STEPS * 4 * 32 * 4;
    static constexpr int Z_UINT4 = KIND == W_F16 ? 0 : STEPS * 4 * 16;     // per step and block: 8 gid × 2 uint4
    static constexpr int BYTES = (A_BYTES + B_UINT4 * 16 + Z_UINT4 * 16 + STEPS * 4 + 127) / 128 * 128;  // + groups
};

__device__ __forceinline__ void ldmatrix_x4(uint32_t a[4], const __half* p) {
    const uint32_t addr = (uint32_t)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(a[0]), "=r"(a[1]), "=r"(a[2]), "=r"(a[3]) : "r"(addr));
}

// Issues the copies of pipeline unit `unit` (steps unit·STEPS ..) into `stage`: the 64 rows' activations, the four
// column blocks' weights and, quantized, each step's group scales and group number. THREADS threads (t = 0 ..
// THREADS-1) share the copies.
template <int KIND, typename U = TileUnit<KIND>, int THREADS = 256>
__device__ __forceinline__ void issue_unit(char* stage, int unit, const __half* __restrict__ xs, int ldxs,
                                           const uint4* __restrict__ w, const __half2* __restrict__ zs,
                                           const int* __restrict__ stepGroup, int m0, int M, int nb0, int nBlocks,
                                           int t = threadIdx.x) {
    const int step0 = unit * U::STEPS;
    __half* A = reinterpret_cast<__half*>(stage);
    constexpr int PIECES = U::STEPS * 2;  // 16-byte pieces per row
    for (int i = t; i < TILE_ROWS * PIECES; i += THREADS) {
        const int r = i / PIECES, p = i % PIECES, m = m0 + r;
        const bool valid = m < M;
        cp_async16(A + r * U::ROW_HALVES + p * 8, xs + (size_t)(valid ? m : 0) * ldxs + step0 * 16 + p * 8, valid);
    }
    uint4* B = reinterpret_cast<uint4*>(stage + U::A_BYTES);
    if (KIND == W_Q3) {
        // [quad][block][plane][lane], from w[((quad·nBlocks + nb)·3 + plane)·32 + lane]
        for (int i = t; i < U::B_UINT4; i += THREADS) {
            const int lane = i & 31, plane = (i >> 5) % 3, blk = (i / 96) % 4, quad = i / 384, nb = nb0 + blk;
            const bool valid = nb < nBlocks;
            cp_async16(B + i, w + (((size_t)(step0 / 4 + quad) * nBlocks + (valid ? nb : 0)) * 3 + plane) * 32 + lane, valid);
        }
    } else {
        constexpr int PER = KIND == W_Q4 ? 32 : 128;  // uint4 per step and block
        for (int i = t; i < U::B_UINT4; i += THREADS) {
            const int e = i % PER, blk = (i / PER) % 4, s = i / (PER * 4), nb = nb0 + blk;
            const bool valid = nb < nBlocks;
            cp_async16(B + i, w + ((size_t)(step0 + s) * nBlocks + (valid ? nb : 0)) * PER + e, valid);
        }
    }
    if (KIND != W_F16) {
        uint4* Z = B + U::B_UINT4;                 // [step][block][gid·2 + half]
        int* G = reinterpret_cast<int*>(Z + U::Z_UINT4);
        for (int i = t; i < U::Z_UINT4; i += THREADS) {
            const int e = i % 16, blk = (i / 16) % 4, s = i / 64, nb = nb0 + blk;
            const bool valid = nb < nBlocks;
            const int g = __ldg(stepGroup + step0 + s);
            cp_async16(Z + i, reinterpret_cast<const uint4*>(zs + ((size_t)g * nBlocks + (valid ? nb : 0)) * 64) + e, valid);
        }
        if (t < U::STEPS) G[t] = __ldg(stepGroup + step0 + t);
    }
}

template <int KIND>
__device__ __forceinline__ void gemm_tiles_body(const __half* __restrict__ xs, int ldxs, const uint4* __restrict__ w,
                                                const __half2* __restrict__ zs, const int* __restrict__ stepGroup,
                                                float* __restrict__ y, int ldy, int accumulate, int M, int N, int nBlocks,
                                                int kSteps, int splits) {
    using U = TileUnit<KIND>;
    extern __shared__ __align__(16) char tile_smem[];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int gid = lane >> 2, tig = lane & 3;
    const int wn = warp >> 1, half = warp & 1;  // column block of the four, and which 32 of its 64 columns
    const int nb0 = blockIdx.x * 4, nb = nb0 + wn;
    const bool active = nb < nBlocks;
    const int m0 = blockIdx.y * TILE_ROWS;
    const int units = kSteps / U::STEPS, unitsPerChunk = 8 / U::STEPS, chunks = kSteps / 8;

    float acc[4][4][4], tot[4][4][4];
#pragma unroll
    for (int mt = 0; mt < 4; mt++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[mt][j][e] = tot[mt][j][e] = 0.f;

#pragma unroll
    for (int p = 0; p < TILE_STAGES - 1; p++) {
        if (p < units) issue_unit<KIND>(tile_smem + p * U::BYTES, p, xs, ldxs, w, zs, stepGroup, m0, M, nb0, nBlocks);
        cp_async_commit();
    }
    int split = 0;
    int splitEnd = (int)((long long)chunks / splits);  // first chunk of split 1 (chunks·1/splits)
    int group = -1;
    uint32_t z2[4], s2[4];

    for (int u = 0; u < units; u++) {
        cp_async_wait<TILE_STAGES - 2>();
        __syncthreads();  // unit u landed for everyone; everyone is done with unit u-1, whose stage is refilled next
        const int next = u + TILE_STAGES - 1;
        if (next < units)
            issue_unit<KIND>(tile_smem + (next % TILE_STAGES) * U::BYTES, next, xs, ldxs, w, zs, stepGroup, m0, M, nb0, nBlocks);
        cp_async_commit();

        const char* stage = tile_smem + (u % TILE_STAGES) * U::BYTES;
        const __half* A = reinterpret_cast<const __half*>(stage);
        const uint4* B = reinterpret_cast<const uint4*>(stage + U::A_BYTES);
        const uint4* Z = B + U::B_UINT4;
        const int* G = reinterpret_cast<const int*>(Z + U::Z_UINT4);
        if (active) {
#pragma unroll
            for (int s = 0; s < U::STEPS; s++) {
                uint32_t b[4][2];
                if (KIND != W_F16) {
                    const int g = G[s];
                    if (g != group) {
                        group = g;
                        unpack_zero_scale_half(Z[(s * 4 + wn) * 16 + gid * 2 + half], z2, s2);
                    }
                    if (KIND == W_Q4) {
                        dequant_q4_half(reinterpret_cast<const uint2*>(B + (s * 4 + wn) * 32 + lane)[half], z2, s2, b);
                    } else {
                        // the lane's three plane uint4 of the quad: words 0..7 the low plane (two per step: tiles
                        // 0..3, 4..7), words 8..11 the high plane (one per step)
                        const uint4* q = B + ((s / 4) * 4 + wn) * 96 + lane;
                        const int lw = (s % 4) * 2 + half;
                        const uint32_t lo = reinterpret_cast<const uint32_t*>(q + (lw >> 2) * 32)[lw & 3];
                        const uint32_t hi = reinterpret_cast<const uint32_t*>(q + 64)[s % 4];
                        if (half == 0) dequant_q3_half<0>(lo, hi, z2, s2, b);
                        else dequant_q3_half<1>(lo, hi, z2, s2, b);
                    }
                } else {
                    const uint4* f = B + ((s * 4 + wn) * 32 + lane) * 4 + 2 * half;  // tiles 4h .. 4h+3
                    const uint4 f0 = f[0], f1 = f[1];
                    b[0][0] = f0.x; b[0][1] = f0.y; b[1][0] = f0.z; b[1][1] = f0.w;
                    b[2][0] = f1.x; b[2][1] = f1.y; b[3][0] = f1.z; b[3][1] = f1.w;
                }
#pragma unroll
                for (int mt = 0; mt < 4; mt++) {
                    uint32_t a[4];
                    ldmatrix_x4(a, A + (mt * 16 + (lane & 15)) * U::ROW_HALVES + s * 16 + (lane >> 4) * 8);
#pragma unroll
                    for (int j = 0; j < 4; j++) mma_16816(acc[mt][j], a, b[j]);
                }
            }
        }
        // the end of a split: add its sum to the total, in split order, and start the next from zero
        if ((u + 1) % unitsPerChunk == 0 && (u + 1) / unitsPerChunk == splitEnd) {
#pragma unroll
            for (int mt = 0; mt < 4; mt++)
#pragma unroll
                for (int j = 0; j < 4; j++)
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        tot[mt][j][e] += acc[mt][j][e];
                        acc[mt][j][e] = 0.f;
                    }
            split++;
            splitEnd = (int)((long long)chunks * (split + 1) / splits);
        }
    }
    cp_async_wait<0>();
    if (!active) return;
#pragma unroll
    for (int mt = 0; mt < 4; mt++)
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int n = nb * 64 + (4 * half + j) * 8 + 2 * tig;
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int m = m0 + mt * 16 + gid + h * 8;
                if (m >= M) continue;
                float* o = y + (size_t)m * ldy + n;
                if (n < N) o[0] = accumulate ? o[0] + tot[mt][j][2 * h] : tot[mt][j][2 * h];
                if (n + 1 < N) o[1] = accumulate ? o[1] + tot[mt][j][2 * h + 1] : tot[mt][j][2 * h + 1];
            }
        }
}

// One tiled kernel: BODY (gemm_tiles_body, or gemm_tiles_ksplit_body below) for one weight kind.
#define GEMM_TILES(name, BODY, KIND)                                                                             \
    SPARKLLM_KERNEL void __launch_bounds__(256, 1) name(                                                        \
        const __half* xs, int ldxs, const uint4* w, const __half2* zs, const int* stepGroup, float* y, int ldy, \
        int accumulate, int M, int N, int nBlocks, int kSteps, int splits) {                                    \
        BODY<KIND>(xs, ldxs, w, zs, stepGroup, y, ldy, accumulate, M, N, nBlocks, kSteps, splits);             \
    }
GEMM_TILES(gemm_q4_tiles, gemm_tiles_body, W_Q4)
GEMM_TILES(gemm_q3_tiles, gemm_tiles_body, W_Q3)
GEMM_TILES(gemm_f16_tiles, gemm_tiles_body, W_F16)

// ---- ksplit: whole-block warps in two split-K groups (the default where 195 KB of shared memory fit) -------------
// The same 64 × 256 tile and the same sums, arranged so that each warp multiplies more per fragment it loads: a
// warp owns a whole 64-column block (4 × 8 tensor-core tiles, twice the kernel above's per activation fragment),
// and the block's 8 warps are two groups of 4 that run alternate split-K ranges at once (group 0 ranges 0, 2, 4 …,
// group 1 ranges 1, 3 …), each through its own cp.async pipeline of 4-step units. A range's sum starts from zero
// and adds its steps in order, as everywhere; the range sums are added to a total in shared memory in range
// order (after each pair of ranges group 0 adds, then group 1), the additions the kernel above makes in
// registers. Blocks run down the rows first (grid x = row tiles). On an H100 it took the 70B step's tiled
// products from 176.5 to 133.3 ms at 256 rows and prefill from 145 to 175 TFLOP/s (BENCHMARKS.md); the kernel
// above stays for GPUs with less shared memory per block (sm_80: 163 KB; sm_86/89: 99 KB).
//
// Launch contract: as gemm_{q4,q3,f16}_tiles, but grid (ceil(M/64), ceil(nBlocks/4)) and dynamic shared memory
// KSPLIT_TOTAL_BYTES + 2 · KSPLIT_STAGES · TileUnit<KIND, KsplitSteps<KIND>>::BYTES.
#define KSPLIT_STAGES 3
#define KSPLIT_TOTAL_BYTES (4 * 128 * 32 * 4)  // [column block][fragment element][lane] fp32: the 64 × 256 total

template <int KIND> constexpr int KsplitSteps = KIND == W_F16 ? 2 : 4;

__device__ __forceinline__ void group_barrier(int group) {
    asm volatile("bar.sync %0, 128;\n" ::"r"(1 + group) : "memory");  // barrier 0 is __syncthreads'
}

template <int KIND>
__device__ __forceinline__ void gemm_tiles_ksplit_body(const __half* __restrict__ xs, int ldxs, const uint4* __restrict__ w,
                                                       const __half2* __restrict__ zs, const int* __restrict__ stepGroup,
                                                       float* __restrict__ y, int ldy, int accumulate, int M, int N,
                                                       int nBlocks, int kSteps, int splits) {
    using U = TileUnit<KIND, KsplitSteps<KIND>>;
    extern __shared__ __align__(16) char tile_smem[];
    float* total = reinterpret_cast<float*>(tile_smem);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int gid = lane >> 2, tig = lane & 3;
    const int group = warp >> 2, wn = warp & 3, gt = threadIdx.x & 127;
    char* stages = tile_smem + KSPLIT_TOTAL_BYTES + group * KSPLIT_STAGES * U::BYTES;
    const int nb0 = blockIdx.y * 4, nb = nb0 + wn;
    const bool active = nb < nBlocks;
    const int m0 = blockIdx.x * TILE_ROWS;
    const int chunks = kSteps / 8, unitsPerChunk = 8 / U::STEPS;
    float* mine = total + wn * 128 * 32 + lane;  // this lane's 128 fragment elements, 32 floats apart

    for (int i = threadIdx.x; i < 4 * 128 * 32; i += 256) total[i] = 0.f;

    // The group's units, ranges group, group + 2, … in order, as one pipeline: the issue cursor (range ir, unit iu)
    // runs KSPLIT_STAGES - 1 units ahead of the one being multiplied.
    int ir = group, iu = (int)((long long)chunks * ir / splits) * unitsPerChunk, issued = 0;
    auto issueNext = [&]() {
        if (ir < splits) {
            issue_unit<KIND, U, 128>(stages + (issued % KSPLIT_STAGES) * U::BYTES, iu, xs, ldxs, w, zs, stepGroup, m0, M,
                                     nb0, nBlocks, gt);
            if (++iu == (int)((long long)chunks * (ir + 1) / splits) * unitsPerChunk) {
                ir += 2;
                iu = (int)((long long)chunks * ir / splits) * unitsPerChunk;
            }
        }
        cp_async_commit();
        issued++;
    };
#pragma unroll
    for (int p = 0; p < KSPLIT_STAGES - 1; p++) issueNext();

    int consumed = 0, scaleGroup = -1;
    uint32_t z2[8], s2[8];
    for (int pair = 0; pair < (splits + 1) / 2; pair++) {
        const int r = 2 * pair + group;
        float acc[4][8][4];
#pragma unroll
        for (int mt = 0; mt < 4; mt++)
#pragma unroll
            for (int j = 0; j < 8; j++)
#pragma unroll
                for (int e = 0; e < 4; e++) acc[mt][j][e] = 0.f;
        if (r < splits) {
            const int u1 = (int)((long long)chunks * (r + 1) / splits) * unitsPerChunk;
            for (int u = (int)((long long)chunks * r / splits) * unitsPerChunk; u < u1; u++) {
                cp_async_wait<KSPLIT_STAGES - 2>();
                group_barrier(group);  // unit u landed for the group; the group is done with the stage refilled next
                issueNext();
                const char* stage = stages + (consumed++ % KSPLIT_STAGES) * U::BYTES;
                const __half* A = reinterpret_cast<const __half*>(stage);
                const uint4* B = reinterpret_cast<const uint4*>(stage + U::A_BYTES);
                const uint4* Z = B + U::B_UINT4;
                const int* G = reinterpret_cast<const int*>(Z + U::Z_UINT4);
                if (!active) continue;
#pragma unroll
                for (int s = 0; s < U::STEPS; s++) {
                    uint32_t b[8][2];
                    if (KIND != W_F16) {
                        const int g = G[s];
                        if (g != scaleGroup) {
                            scaleGroup = g;
                            unpack_zero_scale(Z[(s * 4 + wn) * 16 + gid * 2], Z[(s * 4 + wn) * 16 + gid * 2 + 1], z2, s2);
                        }
                        if (KIND == W_Q4) {
                            dequant_q4(B[(s * 4 + wn) * 32 + lane], z2, s2, b);
                        } else {
                            const uint4* q = B + ((s / 4) * 4 + wn) * 96 + lane;  // the quad's three planes
                            dequant_q3(q[0], q[32], q[64], s % 4, z2, s2, b);
                        }
                    } else {
                        fragments_f16(B + ((s * 4 + wn) * 32 + lane) * 4, b);
                    }
#pragma unroll
                    for (int mt = 0; mt < 4; mt++) {
                        uint32_t a[4];
                        ldmatrix_x4(a, A + (mt * 16 + (lane & 15)) * U::ROW_HALVES + s * 16 + (lane >> 4) * 8);
#pragma unroll
                        for (int j = 0; j < 8; j++) mma_16816(acc[mt][j], a, b[j]);
                    }
                }
            }
        }
        // Range 2·pair is added to the total before range 2·pair + 1, and both after the previous pair's.
        __syncthreads();
        if (group == 0 && r < splits && active) {
#pragma unroll
            for (int i = 0; i < 128; i++) mine[i * 32] += acc[i >> 5][(i >> 2) & 7][i & 3];
        }
        __syncthreads();
        if (group == 1 && r < splits && active) {
#pragma unroll
            for (int i = 0; i < 128; i++) mine[i * 32] += acc[i >> 5][(i >> 2) & 7][i & 3];
        }
    }
    cp_async_wait<0>();
    __syncthreads();
    if (!active) return;
    // group g stores row tiles 2g and 2g + 1 of the warp's column block
#pragma unroll
    for (int h2 = 0; h2 < 2; h2++) {
        const int mt = 2 * group + h2;
#pragma unroll
        for (int j = 0; j < 8; j++) {
            const int n = nb * 64 + j * 8 + 2 * tig;
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int m = m0 + mt * 16 + gid + h * 8;
                if (m >= M) continue;
                const float t0 = mine[((mt * 8 + j) * 4 + 2 * h) * 32], t1 = mine[((mt * 8 + j) * 4 + 2 * h + 1) * 32];
                float* o = y + (size_t)m * ldy + n;
                if (n < N) o[0] = accumulate ? o[0] + t0 : t0;
                if (n + 1 < N) o[1] = accumulate ? o[1] + t1 : t1;
            }
        }
    }
}

GEMM_TILES(gemm_q4_tiles_ksplit, gemm_tiles_ksplit_body, W_Q4)
GEMM_TILES(gemm_q3_tiles_ksplit, gemm_tiles_ksplit_body, W_Q3)
GEMM_TILES(gemm_f16_tiles_ksplit, gemm_tiles_ksplit_body, W_F16)

// xs[m][k] = x[m][perm[k]] (0 where perm[k] < 0), or x[m][k] (0 for k ≥ K) without a permutation: the tiled
// kernels' activations in sorted row order. Each thread writes 8 columns (one 16-byte store); Kp is a multiple of
// 128. grid (ceil(Kp / 2048), M), block 256.
SPARKLLM_KERNEL void gemm_gather(const __half* __restrict__ x, int ldx, const int* __restrict__ perm, int K,
                                 __half* __restrict__ xs, int Kp) {
    const int k0 = (blockIdx.x * 256 + threadIdx.x) * 8, m = blockIdx.y;
    if (k0 >= Kp) return;
    const __half* row = x + (size_t)m * ldx;
    int src[8];
    if (perm) {
        const int4 a = __ldg(reinterpret_cast<const int4*>(perm + k0)), b = __ldg(reinterpret_cast<const int4*>(perm + k0 + 4));
        src[0] = a.x; src[1] = a.y; src[2] = a.z; src[3] = a.w; src[4] = b.x; src[5] = b.y; src[6] = b.z; src[7] = b.w;
    } else {
#pragma unroll
        for (int j = 0; j < 8; j++) src[j] = k0 + j;
    }
    __align__(16) __half v[8];
#pragma unroll
    for (int j = 0; j < 8; j++) v[j] = (src[j] >= 0 && src[j] < K) ? row[src[j]] : __float2half(0.f);
    *reinterpret_cast<uint4*>(xs + (size_t)m * Kp + k0) = *reinterpret_cast<const uint4*>(v);
}
