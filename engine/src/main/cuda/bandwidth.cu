// The card's read bandwidth, measured in the same run as the kernels it is the ceiling for: a grid-stride
// reduction over a buffer of uint4, as the GPU notes' "read-only reduction" figure. Launch: grid 1056 (8 per
// SM of a 132-SM card), block 256. Writes one value per block so the reads cannot be optimised away.
#include "common.cuh"

SPARKLLM_KERNEL void read_bandwidth(const uint4* __restrict__ p, long long n, uint32_t* __restrict__ sink) {
    uint32_t acc = 0;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        uint4 v = __ldg(p + i);
        acc ^= v.x ^ v.y ^ v.z ^ v.w;
    }
    if (acc == 0x12345678u) sink[blockIdx.x & 1023] = acc;
}
