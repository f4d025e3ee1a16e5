// SwiGLU: h = silu(gate) · up, from the fused gate/up product [rows, 2·I] (gate columns first) into the fp16
// input of the down projection [rows, I]. When the product ran split-K (splits > 0) its reduction is fused in:
// gate and up are summed here from partial fp32 [splits][rows][2·I], p in order (gemm_reduce's sum), and gateUp
// is not read. Launch: grid ceil(rows·I / 256), block 256. CPU reference: CpuBackend.gateUpPart.
#include "common.cuh"

SPARKLLM_KERNEL void swiglu(const float* __restrict__ gateUp, const float* __restrict__ partial, int splits,
                            __half* __restrict__ out, int rows, int inter) {
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long long)rows * inter) return;
    int r = (int)(t / inter), i = (int)(t % inter);
    size_t at = (size_t)r * 2 * inter + i;
    float g, u;
    if (splits > 0) {
        const size_t plane = (size_t)rows * 2 * inter;
        g = 0.f;
        u = 0.f;
        for (int p = 0; p < splits; p++) {
            g += partial[p * plane + at];
            u += partial[p * plane + at + inter];
        }
    } else {
        g = gateUp[at];
        u = gateUp[at + inter];
    }
    out[t] = __float2half(g / (1.f + expf(-g)) * u);
}
