// Causal grouped-query attention over the paged fp16 KV cache, for every row of a step (prefill and decode
// rows alike: a row at position p attends to positions 0..p of its own sequence).
//
// The sequence is cut into fixed chunks of ATTN_CHUNK positions, the same for prefill and decode and for every
// batch, so a row's result never depends on what else runs:
//   attention_partial  grid (rows, kvHeads, maxChunks), block 128, dynamic shared memory
//                      (heads/kvHeads)·(ATTN_CHUNK + headDim)·4 bytes. One block per (row, KV head, chunk)
//                      serves all query heads of the group, so each key and value is read once.
//                      Writes per (row, head, chunk): the chunk's max score, its sum of exp(score - max) and
//                      Σ exp(score - max)·v, into part [rows][heads][maxChunks][headDim + 2].
//   attention_combine  grid (rows, heads), block headDim: merges the chunks in chunk order into out fp16
//                      [rows, heads·headDim] (the input of the output projection).
// q: the rotated queries inside qkv fp32 [rows, qkvWidth]. Block tables: row r's sequence's physical block ids
// start at blockTables[tableStart[r]]. CPU reference: cpu/PagedAttention.
#include "common.cuh"

#define ATTN_CHUNK 256

SPARKLLM_KERNEL void attention_partial(const float* __restrict__ qkv, int qkvWidth, const int* __restrict__ positions,
                                       const int* __restrict__ tableStart, const int* __restrict__ blockTables,
                                       const __half* __restrict__ kCache, const __half* __restrict__ vCache,
                                       float* __restrict__ part, int heads, int kvHeads, int headDim, int blockSize,
                                       int maxChunks, float scale) {
    extern __shared__ float smem[];
    __shared__ float scratch[32];
    const int r = blockIdx.x, kvh = blockIdx.y, chunk = blockIdx.z;
    const int G = heads / kvHeads;
    const int len = positions[r] + 1;
    const int start = chunk * ATTN_CHUNK;
    if (start >= len) return;
    const int count = min(ATTN_CHUNK, len - start);
    float* scores = smem;                 // [G][ATTN_CHUNK]
    float* q = smem + G * ATTN_CHUNK;     // [G][headDim]
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
    const int* table = blockTables + tableStart[r];

    for (int i = threadIdx.x; i < G * headDim; i += blockDim.x)
        q[i] = qkv[(size_t)r * qkvWidth + (size_t)(kvh * G) * headDim + i];
    __syncthreads();

    // scores: one warp per position, lanes over the head dimension, a fixed butterfly per dot product
    for (int p = warp; p < count; p += warps) {
        int pos = start + p;
        size_t slot = (size_t)table[pos / blockSize] * blockSize + pos % blockSize;
        const __half* k = kCache + (slot * kvHeads + kvh) * headDim;
        for (int g = 0; g < G; g++) {
            float d = 0.f;
            for (int i = lane; i < headDim; i += 32) d += q[g * headDim + i] * __half2float(k[i]);
            d = warp_sum(d);
            if (lane == 0) scores[g * ATTN_CHUNK + p] = d * scale;
        }
    }
    __syncthreads();

    // per head: the chunk's max and exp(score - max), its sum
    for (int g = 0; g < G; g++) {
        float m = -INFINITY;
        for (int p = threadIdx.x; p < count; p += blockDim.x) m = fmaxf(m, scores[g * ATTN_CHUNK + p]);
        m = block_max(m, scratch);
        float s = 0.f;
        for (int p = threadIdx.x; p < count; p += blockDim.x) {
            float e = expf(scores[g * ATTN_CHUNK + p] - m);
            scores[g * ATTN_CHUNK + p] = e;
            s += e;
        }
        s = block_sum(s, scratch);
        if (threadIdx.x == 0) {
            float* dst = part + (((size_t)r * heads + kvh * G + g) * maxChunks + chunk) * (headDim + 2);
            dst[0] = m;
            dst[1] = s;
        }
    }
    __syncthreads();

    // Σ exp(score - max)·v in position order, eight heads of the group per pass over the values
    for (int g0 = 0; g0 < G; g0 += 8) {
        int gn = min(8, G - g0);
        for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
            float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            for (int p = 0; p < count; p++) {
                int pos = start + p;
                size_t slot = (size_t)table[pos / blockSize] * blockSize + pos % blockSize;
                float v = __half2float(vCache[(slot * kvHeads + kvh) * headDim + d]);
#pragma unroll
                for (int g = 0; g < 8; g++)
                    if (g < gn) acc[g] += scores[(g0 + g) * ATTN_CHUNK + p] * v;
            }
            for (int g = 0; g < gn; g++)
                part[(((size_t)r * heads + kvh * G + g0 + g) * maxChunks + chunk) * (headDim + 2) + 2 + d] = acc[g];
        }
    }
}

SPARKLLM_KERNEL void attention_combine(const float* __restrict__ part, const int* __restrict__ positions,
                                       __half* __restrict__ out, int heads, int headDim, int maxChunks) {
    const int r = blockIdx.x, h = blockIdx.y, d = threadIdx.x;
    const int chunks = (positions[r] + ATTN_CHUNK) / ATTN_CHUNK; // ceil((position + 1) / ATTN_CHUNK)
    const float* base = part + ((size_t)r * heads + h) * maxChunks * (headDim + 2);
    float m = -INFINITY;
    for (int c = 0; c < chunks; c++) m = fmaxf(m, base[(size_t)c * (headDim + 2)]);
    float l = 0.f, acc = 0.f;
    for (int c = 0; c < chunks; c++) {
        const float* p = base + (size_t)c * (headDim + 2);
        float w = expf(p[0] - m);
        l += w * p[1];
        acc += w * p[2 + d];
    }
    out[((size_t)r * heads + h) * headDim + d] = __float2half(acc / l);
}
