// RMSNorm of the fp32 residual stream into the fp16 input of the next linear layer:
// out[i] = x[src(i)] / sqrt(mean(x²) + eps) · weight, with src(i) = rows[i] when `rows` is given (the final
// norm gathers the rows whose logits are wanted) and i otherwise. The residual add itself is fused into the
// producing layer's reduction (gemm_reduce with accumulate), so x already holds the sum.
// Launch: grid (outRows), block RMSNORM_THREADS. CPU reference: CpuBackend.rmsNorm.
//
// A decode step runs this at batch 1 twice a layer, so latency matters: a row of up to RMSNORM_THREADS·4·
// RMSNORM_VEC floats is read once into registers with every load issued up front (one memory round trip), and the
// weights are loaded alongside. Other widths take the plain loop. Either way a row's sum has one fixed order.
#include "common.cuh"

#define RMSNORM_THREADS 256
#define RMSNORM_VEC 8  // float4 per thread: rows up to 8192 wide stay in registers

SPARKLLM_KERNEL void __launch_bounds__(RMSNORM_THREADS) rmsnorm(const float* __restrict__ x, const int* __restrict__ rows,
                                                                const float* __restrict__ weight, __half* __restrict__ out,
                                                                int hidden, float eps) {
    __shared__ float scratch[32];
    const int r = blockIdx.x, t = threadIdx.x;
    const float* xr = x + (size_t)(rows ? rows[r] : r) * hidden;
    __half* o = out + (size_t)r * hidden;
    if (hidden % 4 == 0 && hidden <= RMSNORM_THREADS * 4 * RMSNORM_VEC) {
        const int n4 = hidden / 4;
        const float4* x4 = reinterpret_cast<const float4*>(xr);
        const float4* w4 = reinterpret_cast<const float4*>(weight);
        float4 v[RMSNORM_VEC], w[RMSNORM_VEC];
#pragma unroll
        for (int j = 0; j < RMSNORM_VEC; j++) {
            const int i = t + j * RMSNORM_THREADS;
            if (i < n4) {
                v[j] = x4[i];
                w[j] = __ldg(&w4[i]);
            }
        }
        float ss = 0.f;
#pragma unroll
        for (int j = 0; j < RMSNORM_VEC; j++)
            if (t + j * RMSNORM_THREADS < n4) ss += v[j].x * v[j].x + v[j].y * v[j].y + v[j].z * v[j].z + v[j].w * v[j].w;
        ss = block_sum(ss, scratch);
        const float inv = rsqrtf(ss / hidden + eps);
#pragma unroll
        for (int j = 0; j < RMSNORM_VEC; j++) {
            const int i = t + j * RMSNORM_THREADS;
            if (i < n4) {
                __half2 a = __floats2half2_rn(v[j].x * inv * w[j].x, v[j].y * inv * w[j].y);
                __half2 b = __floats2half2_rn(v[j].z * inv * w[j].z, v[j].w * inv * w[j].w);
                uint2 packed = make_uint2(as_u32(a), as_u32(b));
                *reinterpret_cast<uint2*>(o + 4 * i) = packed;
            }
        }
        return;
    }
    float ss = 0.f;
    for (int i = t; i < hidden; i += RMSNORM_THREADS) ss += xr[i] * xr[i];
    ss = block_sum(ss, scratch);
    const float inv = rsqrtf(ss / hidden + eps);
    for (int i = t; i < hidden; i += RMSNORM_THREADS) o[i] = __float2half(xr[i] * inv * weight[i]);
}
