// Causal grouped-query attention over the paged fp16 KV cache, for every row of a step (prefill and decode
// rows alike: a row at position p attends to positions 0..p of its own sequence).
//
// The sequence is cut into fixed chunks of ATTN_CHUNK positions, the same for prefill and decode and for every
// batch, so a row's result never depends on what else runs:
//   attention_partial  grid (rows, kvHeads, maxChunks), block ATTN_THREADS (one thread per position of the
//                      chunk), dynamic shared memory attention_shared_floats(G, headDim)·4 bytes, G = heads/kvHeads.
//                      One block per (row, KV head, chunk) serves all query heads of the group, so each key and
//                      value is read once. Writes per (row, head, chunk): the chunk's max score, its sum of
//                      exp(score - max) and Σ exp(score - max)·v, into part [rows][heads][maxChunks][headDim + 2].
//   attention_combine  grid (rows, heads), block headDim: merges the chunks in chunk order into out fp16
//                      [rows, heads·headDim] (the input of the output projection).
// q: the rotated queries inside qkv fp32 [rows, qkvWidth]. Block tables: row r's sequence's physical block ids
// start at blockTables[tableStart[r]]. headDim: a multiple of 8 (16-byte key loads). CPU reference:
// cpu/PagedAttention.
//
// Work split inside a block, chosen so that every load is independent of the others (decode is latency-bound):
//   scores   one thread per position: its whole key row (16-byte loads) against the G queries in shared memory
//   softmax  one warp per query head
//   values   each warp sums its 32 positions for 8 heads × 64 dims (lanes over dims), then the 8 warps' sums are
//            added in warp order; the fixed assignment keeps every sum's order independent of the batch.
#include "common.cuh"

#define ATTN_CHUNK 256
#define ATTN_THREADS 256
#define ATTN_WARPS (ATTN_THREADS / 32)
#define ATTN_VDIMS 64   // dims per pass of the value sum: a half2 per lane
#define ATTN_VHEADS 8   // heads per pass of the value sum

// Shared floats attention_partial needs: scores [G][ATTN_CHUNK], queries [G][headDim], the warps' value sums
// [ATTN_WARPS][ATTN_VHEADS][ATTN_VDIMS]. The Java side computes the same (CudaBackend.attention).
__host__ __device__ inline int attention_shared_floats(int G, int headDim) {
    return G * ATTN_CHUNK + G * headDim + ATTN_WARPS * ATTN_VHEADS * ATTN_VDIMS;
}

SPARKLLM_KERNEL void __launch_bounds__(ATTN_THREADS) attention_partial(
        const float* __restrict__ qkv, int qkvWidth, const int* __restrict__ positions, const int* __restrict__ tableStart,
        const int* __restrict__ blockTables, const __half* __restrict__ kCache, const __half* __restrict__ vCache,
        float* __restrict__ part, int heads, int kvHeads, int headDim, int blockSize, int maxChunks, float scale) {
    extern __shared__ float smem[];
    const int r = blockIdx.x, kvh = blockIdx.y, chunk = blockIdx.z;
    const int G = heads / kvHeads;
    const int len = positions[r] + 1;
    const int start = chunk * ATTN_CHUNK;
    if (start >= len) return;
    const int count = min(ATTN_CHUNK, len - start);
    float* scores = smem;                      // [G][ATTN_CHUNK]
    float* q = scores + G * ATTN_CHUNK;        // [G][headDim]
    float* vsum = q + G * headDim;             // [ATTN_WARPS][ATTN_VHEADS][ATTN_VDIMS]
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int* table = blockTables + tableStart[r];

    for (int i = tid; i < G * headDim; i += ATTN_THREADS)
        q[i] = qkv[(size_t)r * qkvWidth + (size_t)(kvh * G) * headDim + i];
    __syncthreads();

    // scores: thread p takes position start + p; dims in order, one fp32 chain per head
    if (tid < count) {
        const int pos = start + tid;
        const size_t slot = (size_t)table[pos / blockSize] * blockSize + pos % blockSize;
        const uint4* k = reinterpret_cast<const uint4*>(kCache + (slot * kvHeads + kvh) * headDim);
        float dot[ATTN_VHEADS];
        for (int g0 = 0; g0 < G; g0 += ATTN_VHEADS) {
            const int gn = min(ATTN_VHEADS, G - g0);
#pragma unroll
            for (int g = 0; g < ATTN_VHEADS; g++) dot[g] = 0.f;
#pragma unroll 4
            for (int d8 = 0; d8 < headDim / 8; d8++) {
                uint4 raw = __ldg(&k[d8]);
                const __half2* h = reinterpret_cast<const __half2*>(&raw);
                float kf[8];
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    float2 f = __half22float2(h[j]);
                    kf[2 * j] = f.x;
                    kf[2 * j + 1] = f.y;
                }
#pragma unroll
                for (int g = 0; g < ATTN_VHEADS; g++) {
                    if (g < gn) {
                        const float* qg = q + (g0 + g) * headDim + d8 * 8;
#pragma unroll
                        for (int j = 0; j < 8; j++) dot[g] = fmaf(qg[j], kf[j], dot[g]);
                    }
                }
            }
#pragma unroll
            for (int g = 0; g < ATTN_VHEADS; g++)
                if (g < gn) scores[(g0 + g) * ATTN_CHUNK + tid] = dot[g] * scale;
        }
    }
    __syncthreads();

    // softmax pieces: warp g takes head g; lanes over positions, then the warp's fixed butterfly
    for (int g = warp; g < G; g += ATTN_WARPS) {
        float* s = scores + g * ATTN_CHUNK;
        float m = -INFINITY;
        for (int p = lane; p < count; p += 32) m = fmaxf(m, s[p]);
        m = warp_max(m);
        float l = 0.f;
        for (int p = lane; p < count; p += 32) {
            float e = expf(s[p] - m);
            s[p] = e;
            l += e;
        }
        l = warp_sum(l);
        if (lane == 0) {
            float* dst = part + (((size_t)r * heads + kvh * G + g) * maxChunks + chunk) * (headDim + 2);
            dst[0] = m;
            dst[1] = l;
        }
    }
    __syncthreads();

    // Σ exp(score - max)·v: warp w sums positions w·32 .. w·32+31 (in order), lanes over a half2 of dims
    const int p0 = warp * (ATTN_CHUNK / ATTN_WARPS);
    const int pn = max(0, min(ATTN_CHUNK / ATTN_WARPS, count - p0));
    for (int g0 = 0; g0 < G; g0 += ATTN_VHEADS) {
        const int gn = min(ATTN_VHEADS, G - g0);
        for (int d0 = 0; d0 < headDim; d0 += ATTN_VDIMS) {
            const int d = d0 + 2 * lane;
            float acc[ATTN_VHEADS][2];
#pragma unroll
            for (int g = 0; g < ATTN_VHEADS; g++) acc[g][0] = acc[g][1] = 0.f;
            if (d < headDim) {
#pragma unroll 4
                for (int i = 0; i < pn; i++) {
                    const int p = p0 + i, pos = start + p;
                    const size_t slot = (size_t)table[pos / blockSize] * blockSize + pos % blockSize;
                    float2 v = __half22float2(*reinterpret_cast<const __half2*>(vCache + (slot * kvHeads + kvh) * headDim + d));
#pragma unroll
                    for (int g = 0; g < ATTN_VHEADS; g++) {
                        if (g < gn) {
                            float e = scores[(g0 + g) * ATTN_CHUNK + p];
                            acc[g][0] = fmaf(e, v.x, acc[g][0]);
                            acc[g][1] = fmaf(e, v.y, acc[g][1]);
                        }
                    }
                }
            }
#pragma unroll
            for (int g = 0; g < ATTN_VHEADS; g++) {
                vsum[(warp * ATTN_VHEADS + g) * ATTN_VDIMS + 2 * lane] = acc[g][0];
                vsum[(warp * ATTN_VHEADS + g) * ATTN_VDIMS + 2 * lane + 1] = acc[g][1];
            }
            __syncthreads();
            for (int i = tid; i < ATTN_VHEADS * ATTN_VDIMS; i += ATTN_THREADS) {
                const int g = i / ATTN_VDIMS, dd = i % ATTN_VDIMS;
                if (g < gn && d0 + dd < headDim) {
                    float s = 0.f;
                    for (int w = 0; w < ATTN_WARPS; w++) s += vsum[(w * ATTN_VHEADS + g) * ATTN_VDIMS + dd];
                    part[(((size_t)r * heads + kvh * G + g0 + g) * maxChunks + chunk) * (headDim + 2) + 2 + d0 + dd] = s;
                }
            }
            __syncthreads();
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
