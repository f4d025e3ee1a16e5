// SwiGLU: h = silu(gate) · up, from the fused gate/up product [rows, 2·I] (gate columns first) into the fp16
// input of the down projection [rows, I]. With splits > 0 the product was left as split-K partial sums
// [splits][rows][2·I] (GpuLinear's deferred reduction) and gate and up are their split_sum, the values
// gemm_reduce would have stored in gateUp. Launch: grid ceil(rows·I / 256), block 256. CPU reference:
// CpuBackend.gateUpPart.
#include "common.cuh"

SPARKLLM_KERNEL void swiglu(const float* __restrict__ gateUp, __half* __restrict__ out, int rows, int inter,
                            const float* __restrict__ partial, int splits) {
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long long)rows * inter) return;
    int r = (int)(t / inter), i = (int)(t % inter);
    size_t gi = (size_t)r * 2 * inter + i, ui = gi + inter, total = (size_t)rows * 2 * inter;
    float g = splits > 0 ? split_sum(partial, splits, total, gi) : gateUp[gi];
    float u = splits > 0 ? split_sum(partial, splits, total, ui) : gateUp[ui];
    out[t] = __float2half(g / (1.f + expf(-g)) * u);
}
