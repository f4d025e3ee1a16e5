// Shared helpers for the engine's kernels: fp16 conversions, the tensor-core product, fixed-order reductions.
// Every kernel is extern "C" so that the Java side finds it by name in the one fat binary (kernels.cu).
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <stdint.h>

#define SPARKLLM_KERNEL extern "C" __global__

// Sum over a warp in a fixed butterfly order: the same lanes meet in the same order on every call.
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Block-wide sum for blockDim.x a multiple of 32 (at most 1024): warp sums, then warp 0 adds them in warp
// order. Every thread gets the result. `scratch` holds 32 floats. Deterministic for a given blockDim.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float s = lane < warps ? scratch[lane] : 0.f;
        s = warp_sum(s);
        if (lane == 0) scratch[0] = s;
    }
    __syncthreads();
    return scratch[0];
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float s = lane < warps ? scratch[lane] : -INFINITY;
        s = warp_max(s);
        if (lane == 0) scratch[0] = s;
    }
    __syncthreads();
    return scratch[0];
}

// A split-K product's result for one element, left by its kernel as partial sums [splits][M·N] (gemm.cu): the
// splits added from zero in split order, exactly as gemm_reduce adds them, so a consumer that reads the partial
// sums itself (rope_kv, swiglu with splits > 0) sees the very value gemm_reduce would have stored.
__device__ __forceinline__ float split_sum(const float* __restrict__ partial, int splits, size_t total, size_t i) {
    float s = 0.f;
    for (int p = 0; p < splits; p++) s += partial[(size_t)p * total + i];
    return s;
}

// D = A·B + D for one m16n8k16 tile: fp16 inputs, fp32 accumulators (PTX mma.sync, sm_80 and newer).
// a: 4 registers of half2 (rows groupID and groupID+8, columns 2·tig.. and 2·tig+8..), b: 2 registers of
// half2 (rows 2·tig, 2·tig+1 and 2·tig+8, 2·tig+9 of column groupID), d: rows groupID / groupID+8, columns
// 2·tig, 2·tig+1. The result for a row depends on that row of A alone, which keeps products batch-invariant.
__device__ __forceinline__ void mma_16816(float* d, const uint32_t* a, const uint32_t* b) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
        "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// (w & mask) | magic in one instruction: places two 4-bit fields into the low mantissa bits of two fp16
// values of 1024, giving exactly 1024 + q per half.
__device__ __forceinline__ uint32_t lop3_and_or(uint32_t w, uint32_t mask, uint32_t magic) {
    uint32_t r;
    asm("lop3.b32 %0, %1, %2, %3, 0xea;\n" : "=r"(r) : "r"(w), "r"(mask), "r"(magic));
    return r;
}

__device__ __forceinline__ uint32_t as_u32(__half2 h) { return *reinterpret_cast<uint32_t*>(&h); }
__device__ __forceinline__ __half2 as_half2(uint32_t u) { return *reinterpret_cast<__half2*>(&u); }

// 16-byte asynchronous copy global → shared (cp.async, sm_80 and newer), L2 only (weights are read once); with
// valid = false it reads nothing and fills the 16 bytes with zeros. Waited for per thread with cp_async_wait<N>:
// at most N of this thread's most recent committed groups still in flight.
__device__ __forceinline__ void cp_async16(void* smem, const void* global, bool valid) {
    const uint32_t dst = (uint32_t)__cvta_generic_to_shared(smem);
    const int bytes = valid ? 16 : 0;  // 0: fill with zeros, read nothing
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(global), "r"(bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
// The "memory" clobber keeps the compiler from moving shared-memory reads of the landed data above the wait.
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }
