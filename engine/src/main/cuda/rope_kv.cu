// Rotary embedding of the new queries and keys (Hugging Face's half-split layout), then the keys and values
// into their paged-cache slots as fp16. qkv is one row per token: [q (heads·headDim) | k (kvHeads·headDim) |
// v (kvHeads·headDim)] fp32; queries are rotated in place. cos/sin: fp32 [maxPositions, headDim/2], computed
// on the host by the CPU backend's RotaryEmbedding (so rope scaling matches it exactly).
// With splits > 0 the qkv product was left as split-K partial sums [splits][rows][width] (GpuLinear's deferred
// reduction): each value is their split_sum, the very value gemm_reduce would have stored in qkv, and only the
// rotated queries are written to qkv (attention reads them there; keys and values live in the cache).
// Cache layout, per layer: [slots][kvHeads][headDim] fp16, slot = block·blockSize + position % blockSize.
// Launch: grid (rows, heads + kvHeads), block headDim/2. CPU reference: RotaryEmbedding.rotate, KvBlockStore.
#include "common.cuh"

SPARKLLM_KERNEL void rope_kv(float* __restrict__ qkv, const int* __restrict__ positions, const int* __restrict__ slots,
                             const float* __restrict__ cosTable, const float* __restrict__ sinTable,
                             __half* __restrict__ kCache, __half* __restrict__ vCache,
                             int heads, int kvHeads, int headDim, const float* __restrict__ partial, int splits, int rows) {
    int r = blockIdx.x, h = blockIdx.y, i = threadIdx.x, half = headDim / 2;
    int width = (heads + 2 * kvHeads) * headDim;
    float* row = qkv + (size_t)r * width;
    const size_t total = (size_t)rows * width, base = (size_t)r * width;
    auto value = [&](int col) { return splits > 0 ? split_sum(partial, splits, total, base + col) : row[col]; };
    int pos = positions[r];
    float c = cosTable[(size_t)pos * half + i], s = sinTable[(size_t)pos * half + i];
    int col = h * headDim; // a query head, or (h >= heads) a key head
    float a = value(col + i), b = value(col + i + half);
    float ra = a * c - b * s, rb = b * c + a * s;
    if (h < heads) {
        row[col + i] = ra;
        row[col + i + half] = rb;
        return;
    }
    int kh = h - heads;
    size_t dst = ((size_t)slots[r] * kvHeads + kh) * headDim;
    kCache[dst + i] = __float2half(ra);
    kCache[dst + i + half] = __float2half(rb);
    int vcol = (heads + kvHeads) * headDim + kh * headDim;
    vCache[dst + i] = __float2half(value(vcol + i));
    vCache[dst + i + half] = __float2half(value(vcol + i + half));
}
