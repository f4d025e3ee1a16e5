// Decode-product microbenchmark (no Java): gemm.cu's gemm_q4_small against candidate restructurings of it, at
// the four Llama-2-70B layer shapes and batch 1, with the card's read bandwidth (a plain streaming kernel) timed
// in the same process. Candidates share gemm.cu's layouts and arithmetic (dequant.cuh), so the winner can replace
// the kernel's body without changing its results; each candidate's sums are checked against gemm_q4_small's here.
// Build: nvcc -O3 -std=c++17 -arch=sm_90 -I engine/src/main/cuda -o gemv_bench engine/src/test/cuda/gemv_bench.cu
// Run:   gemv_bench [iterations]  (prints one line per kernel and shape, then a JSON object)
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <algorithm>
#include <random>
#include <string>
#include "gemm.cu"

#define CHECK(x) do { cudaError_t e = (x); if (e != cudaSuccess) { \
    fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e)); exit(1); } } while (0)

// ---- candidate: STEPS steps per unit, DEPTH units in flight ahead, MINB blocks per SM -----------------------
template <int STEPS, int DEPTH>
__device__ __forceinline__ void cand_load(uint4 (&dst)[STEPS], const uint4* __restrict__ w, int unit, int nb, int nBlocks, int lane) {
#pragma unroll
    for (int s = 0; s < STEPS; s++) dst[s] = __ldg(&w[((size_t)(unit * STEPS + s) * nBlocks + nb) * 32 + lane]);
}

template <int STEPS>
__device__ __forceinline__ void cand_scales(uint4 (&z)[2], const int* __restrict__ stepGroup, const __half2* __restrict__ zs,
                                            int unit, int nb, int nBlocks, int gid) {
    const int g = __ldg(stepGroup + unit * STEPS);
    const uint4* p = reinterpret_cast<const uint4*>(zs + (((size_t)g * nBlocks + nb) * 8 + gid) * 8);
    z[0] = __ldg(p);
    z[1] = __ldg(p + 1);
}

// LIGHT: a bound, not a candidate: the (1024 + q) values go to the tensor cores unscaled (wrong sums), which
// shows what the dequantisation's instructions cost against the same memory traffic.
template <int STEPS, int DEPTH, int MINB, int WARPS = 4, bool LIGHT = false>
__global__ void __launch_bounds__(32 * WARPS, MINB) cand_q4(const __half* __restrict__ x, int ldx, const int* __restrict__ perm,
                                                    const uint4* __restrict__ w, const __half2* __restrict__ zs,
                                                    const int* __restrict__ stepGroup, float* __restrict__ partial,
                                                    int M, int N, int K, int nBlocks, int kSteps, int splits) {
    extern __shared__ __align__(16) __half Ax[];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int gid = lane >> 2, tig = lane & 3;
    const int nb = blockIdx.x * WARPS + warp;
    const bool active = nb < nBlocks;
    const int split = blockIdx.y;
    const int chunks = kSteps / 8;
    const int c0 = (int)((long long)chunks * split / splits), c1 = (int)((long long)chunks * (split + 1) / splits);
    const int kr = (c1 - c0) * 128, stride = kr + 8;
    const int u0 = c0 * 8 / STEPS, u1 = c1 * 8 / STEPS;

    uint4 buf[DEPTH + 1][STEPS];
    uint4 zb[DEPTH + 1][2];
    if (active) {
#pragma unroll
        for (int d = 0; d <= DEPTH; d++)
            if (d == 0 || u0 + d < u1) {
                cand_load<STEPS, DEPTH>(buf[d], w, u0 + d, nb, nBlocks, lane);
                cand_scales<STEPS>(zb[d], stepGroup, zs, u0 + d, nb, nBlocks, gid);
            }
    }
    stage_small_rows(Ax, x, ldx, perm, M, K, c0, kr);
    __syncthreads();
    if (!active) return;

    float acc[8][4];
#pragma unroll
    for (int j = 0; j < 8; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) acc[j][e] = 0.f;
    int group = -1;
    uint32_t z2[8], s2[8];
    const bool row0 = gid < M, row8 = gid + 8 < M;

    for (int u = u0; u < u1; u++) {
        const int gc = __ldg(stepGroup + u * STEPS);
#pragma unroll
        for (int s = 0; s < STEPS; s++) {
            uint32_t b[8][2];
            const int g = __ldg(stepGroup + u * STEPS + s);
            if (g != group) {
                group = g;
                uint4 lo = zb[0][0], hi = zb[0][1];
                if (g != gc) {
                    const uint4* p = reinterpret_cast<const uint4*>(zs + (((size_t)g * nBlocks + nb) * 8 + gid) * 8);
                    lo = __ldg(p);
                    hi = __ldg(p + 1);
                }
                unpack_zero_scale(lo, hi, z2, s2);
            }
            if (LIGHT) {
                const uint4 v = buf[0][s];
                const uint32_t words[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
                for (int j = 0; j < 8; j++) {
                    uint32_t word = words[j >> 1] >> ((j & 1) * 8);
                    b[j][0] = lop3_and_or(word, 0x000f000fu, 0x64006400u);
                    b[j][1] = lop3_and_or(word >> 4, 0x000f000fu, 0x64006400u);
                }
            } else {
                dequant_q4(buf[0][s], z2, s2, b);
            }
            const int kk = ((u - u0) * STEPS + s) * 16 + 2 * tig;
            uint32_t a[4];
            small_a_fragments(a, Ax, stride, kk, gid, row0, row8);
#pragma unroll
            for (int j = 0; j < 8; j++) mma_16816(acc[j], a, b[j]);
        }
        // shift the ring and put the next unit in flight
#pragma unroll
        for (int d = 0; d < DEPTH; d++) {
#pragma unroll
            for (int s = 0; s < STEPS; s++) buf[d][s] = buf[d + 1][s];
            zb[d][0] = zb[d + 1][0];
            zb[d][1] = zb[d + 1][1];
        }
        if (u + DEPTH + 1 < u1) {
            cand_load<STEPS, DEPTH>(buf[DEPTH], w, u + DEPTH + 1, nb, nBlocks, lane);
            cand_scales<STEPS>(zb[DEPTH], stepGroup, zs, u + DEPTH + 1, nb, nBlocks, gid);
        }
    }
    float* out = partial + (size_t)split * M * N;
#pragma unroll
    for (int j = 0; j < 8; j++) {
        const int n = nb * 64 + j * 8 + 2 * tig;
        if (gid < M) {
            if (n < N) out[(size_t)gid * N + n] = acc[j][0];
            if (n + 1 < N) out[(size_t)gid * N + n + 1] = acc[j][1];
        }
    }
}

// The card's read bandwidth: every thread streams uint4 with a grid-stride loop.
__global__ void read_stream(const uint4* __restrict__ p, size_t n, uint32_t* sink) {
    uint32_t acc = 0;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        uint4 v = __ldg(p + i);
        acc ^= v.x ^ v.y ^ v.z ^ v.w;
    }
    if (acc == 0x12345678u) *sink = acc;
}

__global__ void fill_random(uint32_t* p, size_t n, uint32_t seed) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        uint32_t h = (uint32_t)i * 2654435761u ^ seed;
        h ^= h >> 15; h *= 2246822519u; h ^= h >> 13; h *= 3266489917u; h ^= h >> 16;
        p[i] = h;
    }
}

typedef void (*Kernel)(const __half*, int, const int*, const uint4*, const __half2*, const int*, float*, int, int, int, int, int, int);

struct Shape { const char* name; int N, K; };

static int splitsFor(int nBlocks, int kSteps, int target, int warps) {
    int across = (nBlocks + warps - 1) / warps;
    return std::max(1, std::min(target / across, kSteps / 8));
}

int main(int argc, char** argv) {
    const int iters = argc > 1 ? atoi(argv[1]) : 50;
    cudaDeviceProp prop;
    CHECK(cudaGetDeviceProperties(&prop, 0));
    const Shape shapes[] = {{"qkv", 10240, 8192}, {"o", 8192, 8192}, {"gate_up", 57344, 8192}, {"down", 8192, 28672}};
    const int group = 128;
    std::mt19937 rng(7);
    cudaEvent_t e0, e1;
    CHECK(cudaEventCreate(&e0));
    CHECK(cudaEventCreate(&e1));
    uint32_t* sink;
    CHECK(cudaMalloc(&sink, 4));

    // read bandwidth over 2 GB
    size_t rn = (size_t)2 << 30;
    uint4* rbuf;
    CHECK(cudaMalloc(&rbuf, rn));
    fill_random<<<4096, 256>>>((uint32_t*)rbuf, rn / 4, 1);
    read_stream<<<prop.multiProcessorCount * 8, 512>>>(rbuf, rn / 16, sink);
    CHECK(cudaEventRecord(e0));
    for (int i = 0; i < 10; i++) read_stream<<<prop.multiProcessorCount * 8, 512>>>(rbuf, rn / 16, sink);
    CHECK(cudaEventRecord(e1));
    CHECK(cudaEventSynchronize(e1));
    float ms;
    CHECK(cudaEventElapsedTime(&ms, e0, e1));
    const double readTbs = rn * 10.0 / (ms / 1e3) / 1e12;
    CHECK(cudaFree(rbuf));
    printf("%s: read bandwidth %.3f TB/s\n", prop.name, readTbs);
    std::string json = "{\"device\":\"" + std::string(prop.name) + "\",\"read_tb_s\":" + std::to_string(readTbs) + ",\"kernels\":{";

    struct Cand { const char* name; Kernel k; int target; int warps = 4; };
    const Cand cands[] = {
        {"gemm_q4_small", gemm_q4_small, 528},
        {"s4d1b4", cand_q4<4, 1, 4>, 528},
        {"s4d2b3", cand_q4<4, 2, 3>, 396},
        {"s4d2b4", cand_q4<4, 2, 4>, 528},
        {"s8d1b3", cand_q4<8, 1, 3>, 396},
        {"s8d1b4", cand_q4<8, 1, 4>, 528},
        {"s4d3b2", cand_q4<4, 3, 2>, 264},
        {"s4d1b4x2", cand_q4<4, 1, 4>, 1056},
        {"s4d2b3x2", cand_q4<4, 2, 3>, 792},
        {"w8s4d1b2", cand_q4<4, 1, 2, 8>, 264, 8},
        {"light-bound", cand_q4<4, 1, 4, 4, true>, 528},
        {"w8s4d2b1", cand_q4<4, 2, 1, 8>, 132, 8},
    };
    bool firstKernel = true;
    double totals[sizeof(cands) / sizeof(cands[0])] = {0};
    for (const Shape& sh : shapes) {
        const int nBlocks = sh.N / 64, kSteps = sh.K / 16, groups = sh.K / group;
        const size_t wBytes = (size_t)kSteps * nBlocks * 32 * 16, zBytes = (size_t)groups * nBlocks * 64 * 4;
        uint4* w; __half2* zs; int *stepGroup, *perm; __half* x; float *partA, *partB;
        CHECK(cudaMalloc(&w, wBytes));
        CHECK(cudaMalloc(&zs, zBytes));
        fill_random<<<4096, 256>>>((uint32_t*)w, wBytes / 4, 2);
        std::vector<__half2> hz(zBytes / 4);
        for (size_t i = 0; i < hz.size(); i++) hz[i] = __halves2half2(__float2half(1024.f + (i % 16)), __float2half(0.001f * (1 + i % 7)));
        CHECK(cudaMemcpy(zs, hz.data(), zBytes, cudaMemcpyHostToDevice));
        std::vector<int> hg(kSteps), hp(sh.K);
        for (int s = 0; s < kSteps; s++) hg[s] = s * 16 / group;
        for (int k = 0; k < sh.K; k++) hp[k] = k;
        std::shuffle(hp.begin(), hp.end(), rng);
        CHECK(cudaMalloc(&stepGroup, kSteps * 4));
        CHECK(cudaMalloc(&perm, sh.K * 4));
        CHECK(cudaMemcpy(stepGroup, hg.data(), kSteps * 4, cudaMemcpyHostToDevice));
        CHECK(cudaMemcpy(perm, hp.data(), sh.K * 4, cudaMemcpyHostToDevice));
        std::vector<__half> hx(sh.K);
        for (int k = 0; k < sh.K; k++) hx[k] = __float2half(((int)(rng() % 2001) - 1000) / 1000.f);
        CHECK(cudaMalloc(&x, sh.K * 2));
        CHECK(cudaMemcpy(x, hx.data(), sh.K * 2, cudaMemcpyHostToDevice));
        const int maxSplits = 64;
        CHECK(cudaMalloc(&partA, (size_t)maxSplits * sh.N * 4));
        CHECK(cudaMalloc(&partB, (size_t)maxSplits * sh.N * 4));
        std::vector<float> ref;
        for (size_t c = 0; c < sizeof(cands) / sizeof(cands[0]); c++) {
            const Cand& cd = cands[c];
            const int splits = splitsFor(nBlocks, kSteps, cd.target, cd.warps);
            const int kRange = 128 * ((kSteps / 8 + splits - 1) / splits);
            const int shared = 1 * (kRange + 8) * 2;
            CHECK(cudaFuncSetAttribute(cd.k, cudaFuncAttributeMaxDynamicSharedMemorySize, std::max(shared, 48 * 1024)));
            dim3 grid((nBlocks + cd.warps - 1) / cd.warps, splits, 1);
            CHECK(cudaMemset(partB, 0, (size_t)maxSplits * sh.N * 4));
            cd.k<<<grid, 32 * cd.warps, shared>>>(x, sh.K, perm, w, zs, stepGroup, partB, 1, sh.N, sh.K, nBlocks, kSteps, splits);
            CHECK(cudaDeviceSynchronize());
            // the sums over splits, against the production kernel's
            std::vector<float> hb((size_t)splits * sh.N), sum(sh.N, 0.f);
            CHECK(cudaMemcpy(hb.data(), partB, hb.size() * 4, cudaMemcpyDeviceToHost));
            for (int s = 0; s < splits; s++) for (int n = 0; n < sh.N; n++) sum[n] += hb[(size_t)s * sh.N + n];
            double maxRel = 0;
            if (c == 0) ref = sum;
            else for (int n = 0; n < sh.N; n++) maxRel = std::max(maxRel, (double)fabsf(sum[n] - ref[n]) / (fabsf(ref[n]) + 1e-2));
            CHECK(cudaEventRecord(e0));
            for (int i = 0; i < iters; i++)
                cd.k<<<grid, 32 * cd.warps, shared>>>(x, sh.K, perm, w, zs, stepGroup, partA, 1, sh.N, sh.K, nBlocks, kSteps, splits);
            CHECK(cudaEventRecord(e1));
            CHECK(cudaEventSynchronize(e1));
            CHECK(cudaGetLastError());
            CHECK(cudaEventElapsedTime(&ms, e0, e1));
            const double us = ms * 1e3 / iters, tbs = (wBytes + zBytes) / (us * 1e-6) / 1e12;
            totals[c] += us;
            printf("%-14s %-8s splits %2d  %8.2f us  %.3f TB/s  (%.0f%% of read)  max rel diff %.2e\n", cd.name, sh.name,
                   splits, us, tbs, 100 * tbs / readTbs, maxRel);
            char buf[256];
            snprintf(buf, sizeof buf, "%s\"%s/%s\":{\"us\":%.3f,\"tb_s\":%.4f,\"splits\":%d,\"max_rel_diff\":%.3e}",
                     firstKernel ? "" : ",", cd.name, sh.name, us, tbs, splits, maxRel);
            json += buf;
            firstKernel = false;
        }
        cudaFree(w); cudaFree(zs); cudaFree(stepGroup); cudaFree(perm); cudaFree(x); cudaFree(partA); cudaFree(partB);
    }
    json += "},\"layer_us\":{";
    for (size_t c = 0; c < sizeof(cands) / sizeof(cands[0]); c++) {
        printf("%-14s one layer (4 products) %.2f us -> 80 layers %.2f ms\n", cands[c].name, totals[c], totals[c] * 80 / 1e3);
        char buf[128];
        snprintf(buf, sizeof buf, "%s\"%s\":%.3f", c ? "," : "", cands[c].name, totals[c]);
        json += buf;
    }
    json += "}}";
    printf("%s\n", json.c_str());
    return 0;
}
