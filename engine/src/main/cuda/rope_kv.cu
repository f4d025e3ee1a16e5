// Rotary embedding of the new queries and keys (Hugging Face's half-split layout), then the keys and values
// into their paged-cache slots as fp16. qkv is one row per token: [q (heads·headDim) | k (kvHeads·headDim) |
// v (kvHeads·headDim)] fp32; queries are rotated in place. cos/sin: fp32 [maxPositions, headDim/2], computed
// on the host by the CPU backend's RotaryEmbedding (so rope scaling matches it exactly).
// Cache layout, per layer: [slots][kvHeads][headDim] fp16, slot = block·blockSize + position % blockSize.
// When the qkv product ran split-K (splits > 0) its reduction is fused in: each value is summed here from
// partial fp32 [splits][rows][width], p in order (gemm_reduce's sum); the rotated queries are stored to qkv for
// attention, whose other columns are then left unwritten (nothing reads them).
// Launch: grid (rows, heads + kvHeads), block headDim/2. CPU reference: RotaryEmbedding.rotate, KvBlockStore.
#include "common.cuh"

// qkv[r][col], or its sum over the splits
__device__ __forceinline__ float qkv_value(const float* __restrict__ qkv, const float* __restrict__ partial, int splits,
                                           size_t plane, size_t at) {
    if (splits == 0) return qkv[at];
    float s = 0.f;
    for (int p = 0; p < splits; p++) s += partial[p * plane + at];
    return s;
}

SPARKLLM_KERNEL void rope_kv(float* __restrict__ qkv, const float* __restrict__ partial, int splits, int rows,
                             const int* __restrict__ positions, const int* __restrict__ slots,
                             const float* __restrict__ cosTable, const float* __restrict__ sinTable,
                             __half* __restrict__ kCache, __half* __restrict__ vCache,
                             int heads, int kvHeads, int headDim) {
    int r = blockIdx.x, h = blockIdx.y, i = threadIdx.x, half = headDim / 2;
    int width = (heads + 2 * kvHeads) * headDim;
    const size_t plane = (size_t)rows * width, base = (size_t)r * width;
    int pos = positions[r];
    float c = cosTable[(size_t)pos * half + i], s = sinTable[(size_t)pos * half + i];
    const size_t head = base + (size_t)h * headDim; // a query head, or (h >= heads) a key head
    float* v = qkv + head;
    float a = qkv_value(qkv, partial, splits, plane, head + i), b = qkv_value(qkv, partial, splits, plane, head + i + half);
    float ra = a * c - b * s, rb = b * c + a * s;
    if (h < heads) {
        v[i] = ra;
        v[i + half] = rb;
        return;
    }
    int kh = h - heads;
    size_t dst = ((size_t)slots[r] * kvHeads + kh) * headDim;
    kCache[dst + i] = __float2half(ra);
    kCache[dst + i + half] = __float2half(rb);
    const size_t val = base + (size_t)(heads + kvHeads) * headDim + (size_t)kh * headDim;
    vCache[dst + i] = __float2half(qkv_value(qkv, partial, splits, plane, val + i));
    vCache[dst + i + half] = __float2half(qkv_value(qkv, partial, splits, plane, val + i + half));
}
