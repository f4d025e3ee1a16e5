// RMSNorm of the fp32 residual stream into the fp16 input of the next linear layer:
// out[i] = x[src(i)] / sqrt(mean(x²) + eps) · weight, with src(i) = rows[i] when `rows` is given (the final
// norm gathers the rows whose logits are wanted) and i otherwise. The residual add itself is fused into the
// producing layer's reduction (gemm_reduce with accumulate), so x already holds the sum.
// Launch: grid (outRows), block 256. CPU reference: CpuBackend.rmsNorm.
#include "common.cuh"

SPARKLLM_KERNEL void rmsnorm(const float* __restrict__ x, const int* __restrict__ rows, const float* __restrict__ weight,
                             __half* __restrict__ out, int hidden, float eps) {
    __shared__ float scratch[32];
    int r = blockIdx.x;
    const float* xr = x + (size_t)(rows ? rows[r] : r) * hidden;
    float ss = 0.f;
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) ss += xr[i] * xr[i];
    ss = block_sum(ss, scratch);
    float inv = rsqrtf(ss / hidden + eps);
    for (int i = threadIdx.x; i < hidden; i += blockDim.x) out[(size_t)r * hidden + i] = __float2half(xr[i] * inv * weight[i]);
}
