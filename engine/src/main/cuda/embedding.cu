// Token embedding lookup: x[r] = table[token[r]] as floats (the residual stream is fp32).
// Launch: grid (rows), block 256. table fp16 [vocab, hidden]; tokens int [rows]; x fp32 [rows, hidden].
// Token ids are checked on the host before the step (an id outside the vocabulary never reaches here).
#include "common.cuh"

SPARKLLM_KERNEL void embedding_lookup(const __half* __restrict__ table, const int* __restrict__ tokens,
                                      float* __restrict__ x, int hidden) {
    int r = blockIdx.x;
    const __half* src = table + (size_t)tokens[r] * hidden;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) x[(size_t)r * hidden + i] = __half2float(src[i]);
}
