// RMSNorm of the fp32 residual stream into the fp16 input of the next linear layer:
// out[i] = x[src(i)] / sqrt(mean(x²) + eps) · weight, with src(i) = rows[i] when `rows` is given (the final
// norm gathers the rows whose logits are wanted) and i otherwise.
// The residual add of the layer before is fused in here when that layer ran split-K: with splits > 0, x[r] +=
// Σ_p partial[p][r] first (p in order, the sum gemm_reduce would form; partial fp32 [splits][M][hidden]) and the
// sum is stored back to x, so the stream is the same as after gemm_reduce with accumulate and one launch and one
// round trip of the residual are saved. With splits = 0 the producer already added it.
// Launch: grid (outRows), block RMSNORM_THREADS; `rows` must be null when splits > 0. CPU reference:
// CpuBackend.rmsNorm (and the residual add of CpuBackend's layer).
//
// A decode step runs this at batch 1 twice a layer, so latency matters: a row of up to RMSNORM_THREADS·4·
// RMSNORM_VEC floats is read once into registers with every load issued up front (one memory round trip), and the
// weights are loaded alongside. Other widths take the plain loop. Either way a row's sum has one fixed order.
#include "common.cuh"

#define RMSNORM_THREADS 256
#define RMSNORM_VEC 8  // float4 per thread: rows up to 8192 wide stay in registers

SPARKLLM_KERNEL void __launch_bounds__(RMSNORM_THREADS) rmsnorm(float* __restrict__ x, const int* __restrict__ rows,
                                                                const float* __restrict__ partial, int splits, int M,
                                                                const float* __restrict__ weight, __half* __restrict__ out,
                                                                int hidden, float eps) {
    __shared__ float scratch[32];
    const int r = blockIdx.x, t = threadIdx.x;
    float* xr = x + (size_t)(rows ? rows[r] : r) * hidden;
    const size_t planeStride = (size_t)M * hidden;  // one split's partial sums
    const float* pr = partial + (size_t)r * hidden;
    __half* o = out + (size_t)r * hidden;
    if (hidden % 4 == 0 && hidden <= RMSNORM_THREADS * 4 * RMSNORM_VEC) {
        const int n4 = hidden / 4;
        float4* x4 = reinterpret_cast<float4*>(xr);
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
        if (splits > 0) {
#pragma unroll
            for (int j = 0; j < RMSNORM_VEC; j++) {
                const int i = t + j * RMSNORM_THREADS;
                if (i < n4) {
                    float4 s = make_float4(0.f, 0.f, 0.f, 0.f);
                    for (int p = 0; p < splits; p++) {
                        const float4 q = reinterpret_cast<const float4*>(pr + p * planeStride)[i];
                        s.x += q.x;
                        s.y += q.y;
                        s.z += q.z;
                        s.w += q.w;
                    }
                    v[j] = make_float4(v[j].x + s.x, v[j].y + s.y, v[j].z + s.z, v[j].w + s.w);
                    x4[i] = v[j];
                }
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
    if (splits > 0) {
        for (int i = t; i < hidden; i += RMSNORM_THREADS) {
            float s = 0.f;
            for (int p = 0; p < splits; p++) s += pr[p * planeStride + i];
            xr[i] = xr[i] + s;
        }
    }
    float ss = 0.f;
    for (int i = t; i < hidden; i += RMSNORM_THREADS) ss += xr[i] * xr[i];
    ss = block_sum(ss, scratch);
    const float inv = rsqrtf(ss / hidden + eps);
    for (int i = t; i < hidden; i += RMSNORM_THREADS) o[i] = __float2half(xr[i] * inv * weight[i]);
}
