// Random weights made on the GPU, for benchmarks at shapes no checkpoint is at hand for (GpuModel.random).
// Values come from a counter-based hash of (seed, index), so a model is the same on every run.
// Launch: grid ceil(n / 256), block 256.
#include "common.cuh"

__device__ __forceinline__ uint32_t hash32(unsigned long long seed, long long i) {
    unsigned long long z = seed + (unsigned long long)(i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t)((z ^ (z >> 31)) >> 16);
}

// Any 32-bit words: packed 4-bit weights uniform in 0..15 (mean 7.5, centred by a zero-point of 8 minus a half).
SPARKLLM_KERNEL void fill_random_words(uint32_t* p, long long n, unsigned long long seed) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] = hash32(seed, i) ^ (hash32(seed + 1, i) << 16);
}

// fp16 values uniform in [-scale, scale).
SPARKLLM_KERNEL void fill_random_half(__half* p, long long n, float scale, unsigned long long seed) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] = __float2half(scale * ((hash32(seed, i) & 0xffff) / 32768.f - 1.f));
}

// fp32 constant (norm weights of ones).
SPARKLLM_KERNEL void fill_float(float* p, long long n, float value) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] = value;
}

// GPTQ (1024 + zero, scale) pairs: zero zeroBase or zeroBase + 1 at random, so that uniform values averaging
// zeroBase + 0.5 are centred over the columns (no bias the residual stream adds up over 80 layers); scale in
// [0.5, 1.5)·scale.
SPARKLLM_KERNEL void fill_random_zero_scales(__half2* p, long long n, float scale, int zeroBase, unsigned long long seed) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    uint32_t h = hash32(seed, i);
    p[i] = __halves2half2(__float2half(1024.f + zeroBase + (h >> 31)), __float2half(scale * (0.5f + (h & 0xffff) / 65536.f)));
}
