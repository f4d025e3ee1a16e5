// Linear layers on tensor cores: y = x · W over weights repacked at load (repack.cu), GPTQ 4-bit (3-bit
// checkpoints widened to 4) with dequantisation in registers, or dense fp16. One kernel family for every
// batch size, so a row's result never depends on the batch (the engine's batch-invariance rule).
//
// Launch contract (gemm_q4_mt{1,2,4} / gemm_f16_mt{1,2,4}; the Java side is GpuLinear):
//   grid  (ceil(nBlocks/4), splits, ceil(M / (16·MT))), block 128 threads (4 warps), no dynamic shared memory.
//   x       fp16 [M, ldx], natural input order; columns read through `perm` when it is not null
//   perm    int [kSteps·16]: the input column of each sorted row (rows sorted by GPTQ group), -1 for padding
//   w       packed weights: q4 [kSteps][nBlocks][32 lanes] uint4; f16 [kSteps][nBlocks][32 lanes][4] uint4
//   zs      q4: [groups][nBlocks][8][8] half2 (1024 + zero, scale) for column nb·64 + j·8 + c at [..][c][j]
//   stepGroup q4: [kSteps] the group of each 16-row step (groups never straddle a step)
//   partial fp32 [splits][M][N]: this split's sum over its steps, reduced by gemm_reduce in split order
// Split-K: the kSteps/8 chunks of 8 steps are cut into `splits` contiguous ranges; `splits` depends on the
// layer's shape only (GpuLinear), never on M. Each warp owns 64 output columns (nBlocks = ceil(N/64)).
#include "common.cuh"

#define A_STRIDE 136  // halves per staged activation row: 128 + 8 so the fragment loads hit 32 distinct banks

template <int MT, bool QUANT>
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
        constexpr int U = QUANT ? 1 : 4;  // uint4 per lane per step
        uint4 wr[8 * U];
        if (active) {
#pragma unroll
            for (int s = 0; s < 8; s++)
#pragma unroll
                for (int u = 0; u < U; u++)
                    wr[s * U + u] = __ldg(&w[(((size_t)(step0 + s) * nBlocks + nb) * 32 + lane) * U + u]);
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
            if (QUANT) {
                int g = stepGroup[step0 + s];
                if (g != group) {
                    group = g;
                    const uint4* p = reinterpret_cast<const uint4*>(zs + (((size_t)g * nBlocks + nb) * 8 + gid) * 8);
                    uint4 lo = __ldg(p), hi = __ldg(p + 1);
                    uint32_t pr[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
#pragma unroll
                    for (int j = 0; j < 8; j++) {
                        __half2 h = as_half2(pr[j]);
                        z2[j] = as_u32(__half2half2(__low2half(h)));
                        s2[j] = as_u32(__half2half2(__high2half(h)));
                    }
                }
                uint32_t words[4] = {wr[s].x, wr[s].y, wr[s].z, wr[s].w};
#pragma unroll
                for (int j = 0; j < 8; j++) {
                    uint32_t word = words[j >> 1] >> ((j & 1) * 8);
                    __half2 lo = as_half2(lop3_and_or(word, 0x000f000fu, 0x64006400u));
                    __half2 hi = as_half2(lop3_and_or(word >> 4, 0x000f000fu, 0x64006400u));
                    b[j][0] = as_u32(__hmul2(__hsub2(lo, as_half2(z2[j])), as_half2(s2[j])));
                    b[j][1] = as_u32(__hmul2(__hsub2(hi, as_half2(z2[j])), as_half2(s2[j])));
                }
            } else {
#pragma unroll
                for (int u = 0; u < 4; u++) {
                    uint4 v = wr[s * 4 + u];
                    b[2 * u][0] = v.x; b[2 * u][1] = v.y; b[2 * u + 1][0] = v.z; b[2 * u + 1][1] = v.w;
                }
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

#define GEMM_VARIANT(name, MT, QUANT)                                                                           \
    SPARKLLM_KERNEL void __launch_bounds__(128) name(                                                          \
        const __half* x, int ldx, const int* perm, const uint4* w, const __half2* zs, const int* stepGroup,    \
        float* partial, int M, int N, int K, int nBlocks, int kSteps, int splits) {                            \
        gemm_body<MT, QUANT>(x, ldx, perm, w, zs, stepGroup, partial, M, N, K, nBlocks, kSteps, splits);      \
    }
GEMM_VARIANT(gemm_q4_mt1, 1, true)
GEMM_VARIANT(gemm_q4_mt2, 2, true)
GEMM_VARIANT(gemm_q4_mt4, 4, true)
GEMM_VARIANT(gemm_f16_mt1, 1, false)
GEMM_VARIANT(gemm_f16_mt2, 2, false)
GEMM_VARIANT(gemm_f16_mt4, 4, false)

// y[m·ldy + n] = Σ_s partial[s][m][n], summed in split order (never atomics), then stored (accumulate = 0) or
// added to y (accumulate = 1: the residual connection). ldy lets a layer write a column range of a wider
// output (q, k, v that could not share one product). grid ceil(M·N / 256), block 256.
SPARKLLM_KERNEL void gemm_reduce(const float* __restrict__ partial, int splits, int M, int N, float* __restrict__ y,
                                 int ldy, int accumulate) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x, total = (size_t)M * N;
    if (i >= total) return;
    float s = 0.f;
    for (int p = 0; p < splits; p++) s += partial[(size_t)p * total + i];
    size_t o = (i / N) * (size_t)ldy + i % N;
    y[o] = accumulate ? y[o] + s : s;
}
