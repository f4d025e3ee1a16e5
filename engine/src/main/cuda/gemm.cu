// Linear layers on tensor cores, split-K: y = x · W over weights repacked at load (repack.cu), GPTQ 4-bit or
// 3-bit with dequantisation in registers (dequant.cuh), or dense fp16. A row's result never depends on the batch
// (the engine's batch-invariance rule): every kernel here and in gemm_tiles.cu sums the same split-K ranges in the
// same step order, so any of them may serve any batch.
//
// Launch contract (gemm_{q4,q3,f16}_{small,small_early,mt2,mt4}; the Java side is GpuLinear):
//   grid  (ceil(nBlocks/4), splits, ceil(M / (16·MT))), block 128 threads (4 warps). small: M ≤ 16, dynamic shared
//         memory M·(kRange + 8)·2 bytes, kRange = 128·ceil(chunks/splits); mt2/mt4: none.
//   x       fp16 [M, ldx], natural input order; columns read through `perm` when it is not null
//   perm    int [kSteps·16]: the input column of each sorted row (rows sorted by GPTQ group), -1 for padding
//   w       packed weights: q4 [kSteps][nBlocks][32 lanes] uint4; q3 [kSteps/4][nBlocks][3][32 lanes] uint4 (two
//           bit planes per 4 steps, so no value straddles a word); f16 [kSteps][nBlocks][32 lanes][4] uint4
//   zs      q4/q3: [groups][nBlocks][8][8] half2 (1024 + zero, scale) for column nb·64 + j·8 + c at [..][c][j]
//   stepGroup q4/q3: [kSteps] the group of each 16-row step (groups never straddle a step)
//   partial fp32 [splits][M][N]: this split's sum over its steps, reduced by gemm_reduce in split order (adding
//           the splits in each tile's last block instead was measured slower on the H100, round 2)
// Split-K: the kSteps/8 chunks of 8 steps are cut into `splits` contiguous ranges; `splits` depends on the
// layer's shape only (GpuLinear), never on M. Each warp owns 64 output columns (nBlocks = ceil(N/64)).
#include "dequant.cuh"

#define A_STRIDE 136  // halves per staged activation row: 128 + 8 so the fragment loads hit 32 distinct banks
#define SMALL_STAGE 8 // activations each thread of a small kernel stages per round

// ---- decode (M ≤ 16): stream the weights ------------------------------------------------------------------
// At batch 1..16 a product is a read of the weights; everything else must hide behind it. The block stages its
// split's activations once (M rows, gathered through perm), then each warp streams its column block in units of
// four uint4 per lane (4 steps; 3 for 3-bit, 1 for fp16), the next unit's weights and first group's scales in
// flight while the current unit is multiplied. Rows past M are zeros in registers, not in shared memory.

template <int KIND> struct SmallUnit {
    static constexpr int STEPS = KIND == W_F16 ? 1 : 4;  // steps per unit (a 3-bit unit is one quad)
    static constexpr int WORDS = KIND == W_Q3 ? 3 : 4;   // uint4 per lane per unit
};

template <int KIND>
__device__ __forceinline__ void load_unit(uint4* dst, const uint4* __restrict__ w, int unit, int nb, int nBlocks, int lane) {
    if (KIND == W_Q4) {
#pragma unroll
        for (int s = 0; s < 4; s++) dst[s] = __ldg(&w[((size_t)(unit * 4 + s) * nBlocks + nb) * 32 + lane]);
    } else if (KIND == W_Q3) {
#pragma unroll
        for (int i = 0; i < 3; i++) dst[i] = __ldg(&w[(((size_t)unit * nBlocks + nb) * 3 + i) * 32 + lane]);
    } else {
#pragma unroll
        for (int u = 0; u < 4; u++) dst[u] = __ldg(&w[(((size_t)unit * nBlocks + nb) * 32 + lane) * 4 + u]);
    }
}

// The scales of the first group of a unit of 4 steps (its later steps' groups are then in L1: same cache line).
__device__ __forceinline__ int load_unit_scales(uint4 z[2], const int* __restrict__ stepGroup, const __half2* __restrict__ zs,
                                                int unit, int nb, int nBlocks, int gid) {
    const int g = __ldg(stepGroup + unit * 4);
    const uint4* p = reinterpret_cast<const uint4*>(zs + (((size_t)g * nBlocks + nb) * 8 + gid) * 8);
    z[0] = __ldg(p);
    z[1] = __ldg(p + 1);
    return g;
}

// The small kernels' activations: rows 0..M-1 of x, columns gathered through perm for the sorted rows c0·128 ..
// c0·128 + kr - 1, into Ax [M][kr + 8]. SMALL_STAGE elements a thread at a time, their perm and x loads in flight
// together rather than one dependent pair after another (a gate/up split stages 4,096 sorted columns).
__device__ __forceinline__ void stage_small_rows(__half* Ax, const __half* __restrict__ x, int ldx,
                                                 const int* __restrict__ perm, int M, int K, int c0, int kr) {
    const int stride = kr + 8;
    for (int i0 = threadIdx.x; i0 < M * kr; i0 += SMALL_STAGE * blockDim.x) {
        int src[SMALL_STAGE];
#pragma unroll
        for (int j = 0; j < SMALL_STAGE; j++) {
            const int i = i0 + j * blockDim.x, r = i / kr, k = c0 * 128 + (i - r * kr);
            src[j] = i < M * kr ? (perm ? perm[k] : k) : -1;
        }
        __half v[SMALL_STAGE];
#pragma unroll
        for (int j = 0; j < SMALL_STAGE; j++) {
            const int i = i0 + j * blockDim.x, r = i / kr;
            v[j] = (src[j] >= 0 && src[j] < K) ? x[(size_t)r * ldx + src[j]] : __float2half(0.f);
        }
#pragma unroll
        for (int j = 0; j < SMALL_STAGE; j++) {
            const int i = i0 + j * blockDim.x, r = i / kr;
            if (i < M * kr) Ax[r * stride + (i - r * kr)] = v[j];
        }
    }
}

// The A fragments of one 16-row step at staged column kk (lane's rows gid and gid + 8; rows past M are zeros).
__device__ __forceinline__ void small_a_fragments(uint32_t a[4], const __half* Ax, int stride, int kk, int gid,
                                                  bool row0, bool row8) {
    a[0] = row0 ? *reinterpret_cast<const uint32_t*>(&Ax[gid * stride + kk]) : 0u;
    a[2] = row0 ? *reinterpret_cast<const uint32_t*>(&Ax[gid * stride + kk + 8]) : 0u;
    a[1] = row8 ? *reinterpret_cast<const uint32_t*>(&Ax[(gid + 8) * stride + kk]) : 0u;
    a[3] = row8 ? *reinterpret_cast<const uint32_t*>(&Ax[(gid + 8) * stride + kk + 8]) : 0u;
}

// WARPS column blocks a thread block (4, or 8 for the *_small_wide kernels: one staging of the activations serves
// twice the columns).
template <int KIND, bool EARLY, int WARPS = 4>
__device__ __forceinline__ void gemm_small_body(const __half* __restrict__ x, int ldx, const int* __restrict__ perm,
                                                const uint4* __restrict__ w, const __half2* __restrict__ zs,
                                                const int* __restrict__ stepGroup, float* __restrict__ partial,
                                                int M, int N, int K, int nBlocks, int kSteps, int splits) {
    extern __shared__ __align__(16) __half Ax[];  // [M][kRange + 8]
    constexpr int SPL = SmallUnit<KIND>::STEPS, UW = SmallUnit<KIND>::WORDS;
    constexpr bool QUANT = KIND != W_F16;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int gid = lane >> 2, tig = lane & 3;
    const int nb = blockIdx.x * WARPS + warp;
    const bool active = nb < nBlocks;
    const int split = blockIdx.y;
    const int chunks = kSteps / 8;
    const int c0 = (int)((long long)chunks * split / splits), c1 = (int)((long long)chunks * (split + 1) / splits);
    const int kr = (c1 - c0) * 128, stride = kr + 8;

    // EARLY: the first unit's weights and scales do not depend on the activations: in flight before the staging.
    const int u0 = c0 * 8 / SPL, u1 = c1 * 8 / SPL;
    uint4 cur[UW], nxt[UW];
    uint4 zc[2], zn[2];
    int gc = 0, gn = 0;  // the first group of the current and the next unit
    if (EARLY && active) {
        load_unit<KIND>(cur, w, u0, nb, nBlocks, lane);
        if (QUANT) gc = load_unit_scales(zc, stepGroup, zs, u0, nb, nBlocks, gid);
    }

    if (!EARLY) {
        for (int i = threadIdx.x; i < M * kr; i += blockDim.x) {
            const int r = i / kr, kk = i - r * kr, k = c0 * 128 + kk;
            const int src = perm ? perm[k] : k;
            Ax[r * stride + kk] = (src >= 0 && src < K) ? x[(size_t)r * ldx + src] : __float2half(0.f);
        }
    }
    if (EARLY) stage_small_rows(Ax, x, ldx, perm, M, K, c0, kr);
    __syncthreads();
    if (!active) return;
    if (!EARLY) {
        load_unit<KIND>(cur, w, u0, nb, nBlocks, lane);
        if (QUANT) gc = load_unit_scales(zc, stepGroup, zs, u0, nb, nBlocks, gid);
    }

    float acc[8][4];
#pragma unroll
    for (int j = 0; j < 8; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) acc[j][e] = 0.f;

    int group = -1;
    uint32_t z2[8], s2[8];
    const bool row0 = gid < M, row8 = gid + 8 < M;

    for (int u = u0; u < u1; u++) {
        if (u + 1 < u1) {
            load_unit<KIND>(nxt, w, u + 1, nb, nBlocks, lane);
            if (QUANT) gn = load_unit_scales(zn, stepGroup, zs, u + 1, nb, nBlocks, gid);
        }
#pragma unroll
        for (int s = 0; s < SPL; s++) {
            uint32_t b[8][2];
            if (QUANT) {
                const int g = __ldg(stepGroup + u * SPL + s);
                if (g != group) {
                    group = g;
                    uint4 lo = zc[0], hi = zc[1];
                    if (g != gc) {  // a second group inside the unit (groups of 32 or 64 rows)
                        const uint4* p = reinterpret_cast<const uint4*>(zs + (((size_t)g * nBlocks + nb) * 8 + gid) * 8);
                        lo = __ldg(p);
                        hi = __ldg(p + 1);
                    }
                    unpack_zero_scale(lo, hi, z2, s2);
                }
                if (KIND == W_Q4) dequant_q4(cur[s], z2, s2, b);
                else dequant_q3(cur[0], cur[1], cur[2], s, z2, s2, b);
            } else {
                fragments_f16(cur, b);
            }
            const int kk = ((u - u0) * SPL + s) * 16 + 2 * tig;
            uint32_t a[4];
            small_a_fragments(a, Ax, stride, kk, gid, row0, row8);
#pragma unroll
            for (int j = 0; j < 8; j++) mma_16816(acc[j], a, b[j]);
        }
#pragma unroll
        for (int i = 0; i < UW; i++) cur[i] = nxt[i];
        if (QUANT) {
            gc = gn;
            zc[0] = zn[0];
            zc[1] = zn[1];
        }
    }
    float* out = partial + (size_t)split * M * N;
#pragma unroll
    for (int j = 0; j < 8; j++) {
        const int n = nb * 64 + j * 8 + 2 * tig;
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int m = gid + h * 8;
            if (m >= M) continue;
            if (n < N) out[(size_t)m * N + n] = acc[j][2 * h];
            if (n + 1 < N) out[(size_t)m * N + n + 1] = acc[j][2 * h + 1];
        }
    }
}

#define GEMM_SMALL(name, KIND, EARLY)                                                                             \
    SPARKLLM_KERNEL void __launch_bounds__(128, 4) name(                                                         \
        const __half* x, int ldx, const int* perm, const uint4* w, const __half2* zs, const int* stepGroup,      \
        float* partial, int M, int N, int K, int nBlocks, int kSteps, int splits) {                              \
        gemm_small_body<KIND, EARLY>(x, ldx, perm, w, zs, stepGroup, partial, M, N, K, nBlocks, kSteps, splits); \
    }
GEMM_SMALL(gemm_q4_small, W_Q4, false)
GEMM_SMALL(gemm_q3_small, W_Q3, false)
GEMM_SMALL(gemm_f16_small, W_F16, false)
// *_small_early, the default (GpuLinear.small): the same products and values, the first unit's weights in
// flight before the activations are staged (on an H100, 18.96 against 20.14 ms of a 70B step's decode products).
GEMM_SMALL(gemm_q4_small_early, W_Q4, true)
GEMM_SMALL(gemm_q3_small_early, W_Q3, true)
GEMM_SMALL(gemm_f16_small_early, W_F16, true)

// *_small_wide (opt-in, -Dsparkllm.cuda.small=wide, not yet run in the engine): *_small_early with 8-warp blocks,
// two an SM; grid (ceil(nBlocks/8), splits). The same values (each warp's sums are unchanged). bin/gemv-bench timed
// its 4-bit body at 17.17 ms for 80 layers' decode products against 17.64 for the 4-warp one (H100, 133c0f3).
#define GEMM_SMALL_WIDE(name, KIND)                                                                                  \
    SPARKLLM_KERNEL void __launch_bounds__(256, 2) name(                                                            \
        const __half* x, int ldx, const int* perm, const uint4* w, const __half2* zs, const int* stepGroup,         \
        float* partial, int M, int N, int K, int nBlocks, int kSteps, int splits) {                                 \
        gemm_small_body<KIND, true, 8>(x, ldx, perm, w, zs, stepGroup, partial, M, N, K, nBlocks, kSteps, splits);  \
    }
GEMM_SMALL_WIDE(gemm_q4_small_wide, W_Q4)
GEMM_SMALL_WIDE(gemm_q3_small_wide, W_Q3)
GEMM_SMALL_WIDE(gemm_f16_small_wide, W_F16)

// ---- batches of 17..64 rows: 16·MT rows per warp, activations staged per chunk ------------------------------
template <int MT, int KIND>
__device__ __forceinline__ void gemm_body(const __half* __restrict__ x, int ldx, const int* __restrict__ perm,
                                          const uint4* __restrict__ w, const __half2* __restrict__ zs,
                                          const int* __restrict__ stepGroup, float* __restrict__ partial,
                                          int M, int N, int K, int nBlocks, int kSteps, int splits) {
    __shared__ __align__(16) __half As[MT * 16][A_STRIDE];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int gid = lane >> 2, tig = lane & 3;
    const int nb = blockIdx.x * 4 + warp;
    const bool active = nb < nBlocks;
    const int split = blockIdx.y;
    const int m0 = blockIdx.z * MT * 16;
    const int chunks = kSteps / 8;
    const int c0 = (int)((long long)chunks * split / splits), c1 = (int)((long long)chunks * (split + 1) / splits);

    float acc[MT][8][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int j = 0; j < 8; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) acc[mt][j][e] = 0.f;

    int group = -1;
    uint32_t z2[8], s2[8];  // per column tile: (1024+zero) and scale, each as a half2 pair

    for (int c = c0; c < c1; c++) {
        const int step0 = c * 8;
        // Weights of the chunk's 8 steps into registers first, so their latency overlaps the staging below.
        constexpr int U = KIND == W_F16 ? 32 : KIND == W_Q4 ? 8 : 6;  // uint4 per lane per chunk
        uint4 wr[U];
        if (active) {
            if (KIND == W_Q3) {
#pragma unroll
                for (int u = 0; u < 6; u++)  // two quads of steps, three plane vectors each, lanes adjacent
                    wr[u] = __ldg(&w[(((size_t)(c * 2 + u / 3) * nBlocks + nb) * 3 + u % 3) * 32 + lane]);
            } else {
#pragma unroll
                for (int s = 0; s < 8; s++)
#pragma unroll
                    for (int u = 0; u < U / 8; u++)
                        wr[s * (U / 8) + u] = __ldg(&w[(((size_t)(step0 + s) * nBlocks + nb) * 32 + lane) * (U / 8) + u]);
            }
        }
        // Stage the activations of rows m0.. and the chunk's 128 sorted columns, gathered through perm.
        __syncthreads();
        for (int i = threadIdx.x; i < MT * 16 * 128; i += 128) {
            int r = i >> 7, kk = i & 127, m = m0 + r;
            int k = step0 * 16 + kk;
            int src = perm ? perm[k] : k;
            __half v = __float2half(0.f);
            if (m < M && src >= 0 && src < K) v = x[(size_t)m * ldx + src];
            As[r][kk] = v;
        }
        __syncthreads();
        if (!active) continue;

#pragma unroll
        for (int s = 0; s < 8; s++) {
            uint32_t b[8][2];
            if (KIND != W_F16) {
                const int g = stepGroup[step0 + s];
                if (g != group) {
                    group = g;
                    const uint4* p = reinterpret_cast<const uint4*>(zs + (((size_t)g * nBlocks + nb) * 8 + gid) * 8);
                    unpack_zero_scale(__ldg(p), __ldg(p + 1), z2, s2);
                }
                if (KIND == W_Q4) dequant_q4(wr[s], z2, s2, b);
                else dequant_q3(wr[(s / 4) * 3], wr[(s / 4) * 3 + 1], wr[(s / 4) * 3 + 2], s % 4, z2, s2, b);
            } else {
                fragments_f16(&wr[s * 4], b);
            }
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                const __half* row0 = &As[mt * 16 + gid][s * 16 + 2 * tig];
                const __half* row8 = &As[mt * 16 + gid + 8][s * 16 + 2 * tig];
                uint32_t a[4];
                a[0] = *reinterpret_cast<const uint32_t*>(row0);
                a[1] = *reinterpret_cast<const uint32_t*>(row8);
                a[2] = *reinterpret_cast<const uint32_t*>(row0 + 8);
                a[3] = *reinterpret_cast<const uint32_t*>(row8 + 8);
#pragma unroll
                for (int j = 0; j < 8; j++) mma_16816(acc[mt][j], a, b[j]);
            }
        }
    }
    if (!active) return;
    float* out = partial + (size_t)split * M * N;
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int j = 0; j < 8; j++) {
            int n = nb * 64 + j * 8 + 2 * tig;
#pragma unroll
            for (int h = 0; h < 2; h++) {
                int m = m0 + mt * 16 + gid + h * 8;
                if (m >= M) continue;
                if (n < N) out[(size_t)m * N + n] = acc[mt][j][2 * h];
                if (n + 1 < N) out[(size_t)m * N + n + 1] = acc[mt][j][2 * h + 1];
            }
        }
}

#define GEMM_VARIANT(name, MT, KIND)                                                                            \
    SPARKLLM_KERNEL void __launch_bounds__(128) name(                                                          \
        const __half* x, int ldx, const int* perm, const uint4* w, const __half2* zs, const int* stepGroup,    \
        float* partial, int M, int N, int K, int nBlocks, int kSteps, int splits) {                            \
        gemm_body<MT, KIND>(x, ldx, perm, w, zs, stepGroup, partial, M, N, K, nBlocks, kSteps, splits);       \
    }
GEMM_VARIANT(gemm_q4_mt2, 2, W_Q4)
GEMM_VARIANT(gemm_q4_mt4, 4, W_Q4)
GEMM_VARIANT(gemm_q3_mt2, 2, W_Q3)
GEMM_VARIANT(gemm_q3_mt4, 4, W_Q3)
GEMM_VARIANT(gemm_f16_mt2, 2, W_F16)
GEMM_VARIANT(gemm_f16_mt4, 4, W_F16)

// y[m·ldy + n] = Σ_s partial[s][m][n], summed in split order (never atomics), then stored (accumulate = 0) or
// added to y (accumulate = 1: the residual connection). ldy lets a layer write a column range of a wider output.
// grid ceil(M·N / 256), block 256.
SPARKLLM_KERNEL void gemm_reduce(const float* __restrict__ partial, int splits, int M, int N, float* __restrict__ y,
                                 int ldy, int accumulate) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x, total = (size_t)M * N;
    if (i >= total) return;
    float s = 0.f;
    for (int p = 0; p < splits; p++) s += partial[(size_t)p * total + i];
    size_t o = (i / N) * (size_t)ldy + i % N;
    y[o] = accumulate ? y[o] + s : s;
}
