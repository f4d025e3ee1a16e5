// SwiGLU: h = silu(gate) · up, from the fused gate/up product [rows, 2·I] (gate columns first) into the fp16
// input of the down projection [rows, I]. Launch: grid ceil(rows·I / 256), block 256. CPU reference:
// CpuBackend.gateUpPart.
#include "common.cuh"

SPARKLLM_KERNEL void swiglu(const float* __restrict__ gateUp, __half* __restrict__ out, int rows, int inter) {
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long long)rows * inter) return;
    int r = (int)(t / inter), i = (int)(t % inter);
    float g = gateUp[(size_t)r * 2 * inter + i], u = gateUp[(size_t)r * 2 * inter + inter + i];
    out[t] = __float2half(g / (1.f + expf(-g)) * u);
}
