// Linear layers on tensor cores: y = x · W over weights repacked at load (repack.cu), GPTQ 4-bit or 3-bit
// with dequantisation in registers, or dense fp16. One kernel family for every
// batch size, so a row's result never depends on the batch (the engine's batch-invariance rule).
//
// Launch contract (gemm_{q4,q3,f16}_mt{1,2,4}; the Java side is GpuLinear):
//   grid  (ceil(nBlocks/4), splits, ceil(M / (16·MT))), block 128 threads (4 warps), no dynamic shared memory.
//   x       fp16 [M, ldx], natural input order; columns read through `perm` when it is not null
//   perm    int [kSteps·16]: the input column of each sorted row (rows sorted by GPTQ group), -1 for padding
//   w       packed weights: q4 [kSteps][nBlocks][32 lanes] uint4; q3 [kSteps/4][nBlocks][3][32 lanes] uint4 (two
//           bit planes per 4 steps, so no value straddles a word); f16 [kSteps][nBlocks][32 lanes][4] uint4
//   zs      q4/q3: [groups][nBlocks][8][8] half2 (1024 + zero, scale) for column nb·64 + j·8 + c at [..][c][j]
//   stepGroup q4/q3: [kSteps] the group of each 16-row step (groups never straddle a step)
//   partial fp32 [splits][M][N]: this split's sum over its steps, reduced by gemm_reduce in split order
// Split-K: the kSteps/8 chunks of 8 steps are cut into `splits` contiguous ranges; `splits` depends on the
// layer's shape only (GpuLinear), never on M. Each warp owns 64 output columns (nBlocks = ceil(N/64)).
#include "common.cuh"

#define A_STRIDE 136  // halves per staged activation row: 128 + 8 so the fragment loads hit 32 distinct banks

enum { W_F16 = 0, W_Q4 = 1, W_Q3 = 2 };

// One fp16 pair of the 3-bit layout: the low two bits from the low plane, the high bit from the high plane,
// both moved under the fp16 1024 exponent. p: the pair's position in its low-plane word (0..7); P: in the
// high-plane word (0..15).
template <int p, int P>
__device__ __forceinline__ uint32_t q3_pair(uint32_t lo, uint32_t hi) {
    uint32_t los = lo >> (2 * p);
    uint32_t his = P >= 2 ? hi >> (P - 2) : hi << (2 - P);
    return lop3_and_or(his, 0x00040004u, lop3_and_or(los, 0x00030003u, 0x64006400u));
}

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
                    uint4 lo = __ldg(p), hi = __ldg(p + 1);
                    uint32_t pr[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
#pragma unroll
                    for (int j = 0; j < 8; j++) {
                        __half2 h = as_half2(pr[j]);
                        z2[j] = as_u32(__half2half2(__low2half(h)));
                        s2[j] = as_u32(__half2half2(__high2half(h)));
                    }
                }
                uint32_t q[8][2];  // per tile: (1024 + q) for rows (2t, 2t+1) and (2t+8, 2t+9)
                if (KIND == W_Q4) {
                    uint32_t words[4] = {wr[s].x, wr[s].y, wr[s].z, wr[s].w};
#pragma unroll
                    for (int j = 0; j < 8; j++) {
                        uint32_t word = words[j >> 1] >> ((j & 1) * 8);
                        q[j][0] = lop3_and_or(word, 0x000f000fu, 0x64006400u);
                        q[j][1] = lop3_and_or(word >> 4, 0x000f000fu, 0x64006400u);
                    }
                } else {
                    // quad s/4: words 0..7 low plane (step·2 + half), 8..11 high plane (one per step)
                    const uint4* v = &wr[(s / 4) * 3];
                    uint32_t words[12] = {v[0].x, v[0].y, v[0].z, v[0].w, v[1].x, v[1].y, v[1].z, v[1].w,
                                          v[2].x, v[2].y, v[2].z, v[2].w};
                    uint32_t lo0 = words[(s % 4) * 2], lo1 = words[(s % 4) * 2 + 1], hi = words[8 + s % 4];
                    q[0][0] = q3_pair<0, 0>(lo0, hi);  q[0][1] = q3_pair<1, 1>(lo0, hi);
                    q[1][0] = q3_pair<2, 2>(lo0, hi);  q[1][1] = q3_pair<3, 3>(lo0, hi);
                    q[2][0] = q3_pair<4, 4>(lo0, hi);  q[2][1] = q3_pair<5, 5>(lo0, hi);
                    q[3][0] = q3_pair<6, 6>(lo0, hi);  q[3][1] = q3_pair<7, 7>(lo0, hi);
                    q[4][0] = q3_pair<0, 8>(lo1, hi);  q[4][1] = q3_pair<1, 9>(lo1, hi);
                    q[5][0] = q3_pair<2, 10>(lo1, hi); q[5][1] = q3_pair<3, 11>(lo1, hi);
                    q[6][0] = q3_pair<4, 12>(lo1, hi); q[6][1] = q3_pair<5, 13>(lo1, hi);
                    q[7][0] = q3_pair<6, 14>(lo1, hi); q[7][1] = q3_pair<7, 15>(lo1, hi);
                }
#pragma unroll
                for (int j = 0; j < 8; j++) {
                    b[j][0] = as_u32(__hmul2(__hsub2(as_half2(q[j][0]), as_half2(z2[j])), as_half2(s2[j])));
                    b[j][1] = as_u32(__hmul2(__hsub2(as_half2(q[j][1]), as_half2(z2[j])), as_half2(s2[j])));
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

#define GEMM_VARIANT(name, MT, KIND)                                                                            \
    SPARKLLM_KERNEL void __launch_bounds__(128) name(                                                          \
        const __half* x, int ldx, const int* perm, const uint4* w, const __half2* zs, const int* stepGroup,    \
        float* partial, int M, int N, int K, int nBlocks, int kSteps, int splits) {                            \
        gemm_body<MT, KIND>(x, ldx, perm, w, zs, stepGroup, partial, M, N, K, nBlocks, kSteps, splits);       \
    }
GEMM_VARIANT(gemm_q4_mt1, 1, W_Q4)
GEMM_VARIANT(gemm_q4_mt2, 2, W_Q4)
GEMM_VARIANT(gemm_q4_mt4, 4, W_Q4)
GEMM_VARIANT(gemm_q3_mt1, 1, W_Q3)
GEMM_VARIANT(gemm_q3_mt2, 2, W_Q3)
GEMM_VARIANT(gemm_q3_mt4, 4, W_Q3)
GEMM_VARIANT(gemm_f16_mt1, 1, W_F16)
GEMM_VARIANT(gemm_f16_mt2, 2, W_F16)
GEMM_VARIANT(gemm_f16_mt4, 4, W_F16)

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
