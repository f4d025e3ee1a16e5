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
//   attention_partial_slots  the same launch with attention_slots_shared_floats and `out`, for launches of up to
//                      16 rows (CudaBackend.attention); a row whose whole context is one chunk gets its output in
//                      `out` (Σ/l, the value attention_combine computes from one chunk, bit for bit).
//   attention_combine  grid (rows, heads), block headDim: merges the chunks in chunk order into out fp16
//                      [rows, heads·headDim] (the input of the output projection); with singlesDone it skips the
//                      one-chunk rows attention_partial_slots finished.
// q: the rotated queries inside qkv fp32 [rows, qkvWidth]. Block tables: row r's sequence's physical block ids
// start at blockTables[tableStart[r]]. headDim: a multiple of 8 (16-byte key loads). CPU reference:
// cpu/PagedAttention.
//
// Work split inside a block of attention_partial, chosen so that every load is independent of the others:
//   scores   one thread per position: its whole key row (16-byte loads) against the G queries in shared memory
//   softmax  one warp per query head
//   values   each warp sums its 32 positions for 8 heads × 64 dims (lanes over dims), then the 8 warps' sums are
//            added in warp order; the fixed assignment keeps every sum's order independent of the batch.
// attention_partial_slots keeps every sum's order but no load waits on another (at batch 1 the default is a chain
// of ~30 memory latencies: a block-table load before each key and value load, values 4 positions deep per pass):
//   slots    the chunk's cache slots from the block table, once, into shared memory
//   scores   each thread's key row loaded 16 uint4 at a time, all in flight together
//   values   each lane 4 dims of a 128-dim pass, 8 positions' loads in flight together; the warps' sums added
//            in warp order, 64 dims at a time.
#include "common.cuh"

#define ATTN_CHUNK 256
#define ATTN_THREADS 256
#define ATTN_WARPS (ATTN_THREADS / 32)
#define ATTN_VDIMS 64   // dims per pass of the value sum (a half2 per lane); the slots kernel's rounds in shared memory
#define ATTN_VHEADS 8   // heads per pass of the value sum
#define ATTN_KEYS 16    // slots kernel: uint4 of a key row in flight per thread (a 128-dim row)
#define ATTN_VALUES 8   // slots kernel: positions in flight per lane in the value sum

// Shared floats attention_partial needs: scores [G][ATTN_CHUNK], queries [G][headDim], the warps' value sums
// [ATTN_WARPS][ATTN_VHEADS][ATTN_VDIMS]; attention_partial_slots also the heads' sums of exponentials [G] and the
// chunk's slots [ATTN_CHUNK] (ints). The Java side computes the same (CudaBackend.attention).
__host__ __device__ inline int attention_shared_floats(int G, int headDim) {
    return G * ATTN_CHUNK + G * headDim + ATTN_WARPS * ATTN_VHEADS * ATTN_VDIMS;
}
__host__ __device__ inline int attention_slots_shared_floats(int G, int headDim) {
    return attention_shared_floats(G, headDim) + G + ATTN_CHUNK;
}

// One key word (8 dims, from dim 8·word) against heads g0 .. g0+gn-1 of the queries in shared memory: dims in
// order, one fp32 chain per head (both attention kernels, so their scores are the same).
__device__ __forceinline__ void key_word_dots(uint4 raw, const float* q, int headDim, int g0, int gn, int word,
                                              float dot[ATTN_VHEADS]) {
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
            const float* qg = q + (g0 + g) * headDim + word * 8;
#pragma unroll
            for (int j = 0; j < 8; j++) dot[g] = fmaf(qg[j], kf[j], dot[g]);
        }
    }
}

// Softmax pieces of a chunk: warp g takes head g; lanes over positions, then the warp's fixed butterfly. Turns
// the scores into exp(score - max) in place and writes (max, Σ) to the head's `part` entry, and Σ to expSums[g]
// when given.
__device__ __forceinline__ void chunk_softmax(float* scores, int count, float* __restrict__ part, float* expSums,
                                              int r, int heads, int kvh, int G, int chunk, int maxChunks, int headDim) {
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
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
            if (expSums) expSums[g] = l;
            float* dst = part + (((size_t)r * heads + kvh * G + g) * maxChunks + chunk) * (headDim + 2);
            dst[0] = m;
            dst[1] = l;
        }
    }
}

// attention_partial: the default.
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
                key_word_dots(__ldg(&k[d8]), q, headDim, g0, gn, d8, dot);
            }
#pragma unroll
            for (int g = 0; g < ATTN_VHEADS; g++)
                if (g < gn) scores[(g0 + g) * ATTN_CHUNK + tid] = dot[g] * scale;
        }
    }
    __syncthreads();

    chunk_softmax(scores, count, part, nullptr, r, heads, kvh, G, chunk, maxChunks, headDim);
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

// attention_partial_slots: the work split above, and one-chunk rows finished here; the same sums in the same order,
// so the same values as attention_partial. Its 128 registers (attention_partial: 64) pay where few rows leave SMs
// idle (H100, 70B: 1.83 against 2.39 ms a step at batch 1) and cost with many (23.7 against 19.5 ms at 256 rows).
SPARKLLM_KERNEL void __launch_bounds__(ATTN_THREADS) attention_partial_slots(
        const float* __restrict__ qkv, int qkvWidth, const int* __restrict__ positions, const int* __restrict__ tableStart,
        const int* __restrict__ blockTables, const __half* __restrict__ kCache, const __half* __restrict__ vCache,
        float* __restrict__ part, __half* __restrict__ out, int heads, int kvHeads, int headDim, int blockSize,
        int maxChunks, float scale) {
    extern __shared__ float smem[];
    const int r = blockIdx.x, kvh = blockIdx.y, chunk = blockIdx.z;
    const int G = heads / kvHeads;
    const int len = positions[r] + 1;
    const int start = chunk * ATTN_CHUNK;
    if (start >= len) return;
    const int count = min(ATTN_CHUNK, len - start);
    const bool single = len <= ATTN_CHUNK;     // the whole context in this chunk: finish here
    float* scores = smem;                      // [G][ATTN_CHUNK]
    float* q = scores + G * ATTN_CHUNK;        // [G][headDim]
    float* vsum = q + G * headDim;             // [ATTN_WARPS][ATTN_VHEADS][ATTN_VDIMS]
    float* expSums = vsum + ATTN_WARPS * ATTN_VHEADS * ATTN_VDIMS;  // [G]
    int* slots = reinterpret_cast<int*>(expSums + G);               // [ATTN_CHUNK]
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int* table = blockTables + tableStart[r];

    for (int i = tid; i < G * headDim; i += ATTN_THREADS)
        q[i] = qkv[(size_t)r * qkvWidth + (size_t)(kvh * G) * headDim + i];
    if (tid < count) {
        const int pos = start + tid;
        slots[tid] = table[pos / blockSize] * blockSize + pos % blockSize;
    }
    __syncthreads();

    // scores: thread p takes position start + p; dims in order, one fp32 chain per head
    if (tid < count) {
        const uint4* k = reinterpret_cast<const uint4*>(kCache + ((size_t)slots[tid] * kvHeads + kvh) * headDim);
        const int rowWords = headDim / 8;
        float dot[ATTN_VHEADS];
        for (int g0 = 0; g0 < G; g0 += ATTN_VHEADS) {
            const int gn = min(ATTN_VHEADS, G - g0);
#pragma unroll
            for (int g = 0; g < ATTN_VHEADS; g++) dot[g] = 0.f;
            for (int w0 = 0; w0 < rowWords; w0 += ATTN_KEYS) {
                uint4 raw[ATTN_KEYS];
#pragma unroll
                for (int i = 0; i < ATTN_KEYS; i++)
                    if (w0 + i < rowWords) raw[i] = __ldg(&k[w0 + i]);
#pragma unroll
                for (int i = 0; i < ATTN_KEYS; i++) {
                    if (w0 + i < rowWords) key_word_dots(raw[i], q, headDim, g0, gn, w0 + i, dot);
                }
            }
#pragma unroll
            for (int g = 0; g < ATTN_VHEADS; g++)
                if (g < gn) scores[(g0 + g) * ATTN_CHUNK + tid] = dot[g] * scale;
        }
    }
    __syncthreads();

    chunk_softmax(scores, count, part, expSums, r, heads, kvh, G, chunk, maxChunks, headDim);
    __syncthreads();

    // Σ exp(score - max)·v: warp w sums positions w·32 .. w·32+31 (in order), each lane 4 dims of a 128-dim pass
    const int p0 = warp * (ATTN_CHUNK / ATTN_WARPS);
    const int pn = max(0, min(ATTN_CHUNK / ATTN_WARPS, count - p0));
    for (int g0 = 0; g0 < G; g0 += ATTN_VHEADS) {
        const int gn = min(ATTN_VHEADS, G - g0);
        for (int d0 = 0; d0 < headDim; d0 += 2 * ATTN_VDIMS) {
            const int d = d0 + 4 * lane;  // headDim is a multiple of 8: d < headDim means d + 3 < headDim
            float acc[ATTN_VHEADS][4];
#pragma unroll
            for (int g = 0; g < ATTN_VHEADS; g++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[g][j] = 0.f;
            if (d < headDim) {
                for (int i0 = 0; i0 < pn; i0 += ATTN_VALUES) {
                    uint2 raw[ATTN_VALUES];
#pragma unroll
                    for (int i = 0; i < ATTN_VALUES; i++)
                        if (i0 + i < pn)
                            raw[i] = *reinterpret_cast<const uint2*>(vCache + ((size_t)slots[p0 + i0 + i] * kvHeads + kvh) * headDim + d);
#pragma unroll
                    for (int i = 0; i < ATTN_VALUES; i++) {
                        if (i0 + i >= pn) continue;
                        const float2 lo = __half22float2(*reinterpret_cast<const __half2*>(&raw[i].x));
                        const float2 hi = __half22float2(*reinterpret_cast<const __half2*>(&raw[i].y));
#pragma unroll
                        for (int g = 0; g < ATTN_VHEADS; g++) {
                            if (g < gn) {
                                const float e = scores[(g0 + g) * ATTN_CHUNK + p0 + i0 + i];
                                acc[g][0] = fmaf(e, lo.x, acc[g][0]);
                                acc[g][1] = fmaf(e, lo.y, acc[g][1]);
                                acc[g][2] = fmaf(e, hi.x, acc[g][2]);
                                acc[g][3] = fmaf(e, hi.y, acc[g][3]);
                            }
                        }
                    }
                }
            }
            // the warps' sums added in warp order, 64 dims (the lanes of one half-warp) at a time
            for (int half = 0; half < 2; half++) {
                if ((lane >> 4) == half) {
#pragma unroll
                    for (int g = 0; g < ATTN_VHEADS; g++)
#pragma unroll
                        for (int j = 0; j < 4; j++) vsum[(warp * ATTN_VHEADS + g) * ATTN_VDIMS + 4 * (lane & 15) + j] = acc[g][j];
                }
                __syncthreads();
                for (int i = tid; i < ATTN_VHEADS * ATTN_VDIMS; i += ATTN_THREADS) {
                    const int g = i / ATTN_VDIMS, dim = d0 + half * ATTN_VDIMS + i % ATTN_VDIMS;
                    if (g < gn && dim < headDim) {
                        float s = 0.f;
                        for (int w = 0; w < ATTN_WARPS; w++) s += vsum[(w * ATTN_VHEADS + g) * ATTN_VDIMS + i % ATTN_VDIMS];
                        const int h = kvh * G + g0 + g;
                        if (single) {
                            out[((size_t)r * heads + h) * headDim + dim] = __float2half(s / expSums[g0 + g]);
                        } else {
                            part[(((size_t)r * heads + h) * maxChunks + chunk) * (headDim + 2) + 2 + dim] = s;
                        }
                    }
                }
                __syncthreads();
            }
        }
    }
}

SPARKLLM_KERNEL void attention_combine(const float* __restrict__ part, const int* __restrict__ positions,
                                       __half* __restrict__ out, int heads, int headDim, int maxChunks,
                                       int singlesDone) {
    const int r = blockIdx.x, h = blockIdx.y, d = threadIdx.x;
    const int chunks = (positions[r] + ATTN_CHUNK) / ATTN_CHUNK; // ceil((position + 1) / ATTN_CHUNK)
    if (chunks == 1 && singlesDone) return;  // attention_partial_slots wrote this row's output itself
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
