// Load-time repacking: checkpoint tensors as uploaded (the on-disk exchange format) into the layouts the
// kernels read. Runs once per tensor on the GPU, so no host loop touches billions of weights.
//
// Launch contracts (GpuWeights on the Java side):
//   repack_gptq_q4       grid ceil(kSteps·nBlocksPart·32 / 256), block 256. One thread per output uint4.
//   repack_gptq_q3       grid ceil(kSteps/4·nBlocksPart·32 / 256), block 256. One thread per lane and 4 steps.
//   repack_gptq_scales   grid ceil(groups·nPart / 256), block 256.
//   repack_dense_f16     grid ceil(kSteps·nBlocksPart·32 / 256), block 256.
//   convert_to_f16 / convert_to_f32   grid ceil(n / 256), block 256.
// A layer may be several checkpoint projections side by side (q, k, v or gate, up): each part is repacked
// into its own 64-column blocks starting at block `blockOffset` of a layer `nBlocks` blocks wide.
#include "common.cuh"

// The raw value of input row `row`, output column `n`, of a GPTQ qweight packed along the input dimension,
// least-significant bits first; a 3-bit value may straddle two words.
__device__ __forceinline__ uint32_t gptq_unpack(const uint32_t* __restrict__ qweight, int n, int N, int row, int bits) {
    long long bit = (long long)row * bits;
    int word = (int)(bit >> 5), off = (int)(bit & 31);
    uint64_t lo = qweight[(size_t)word * N + n];
    if (off + bits > 32) lo |= (uint64_t)qweight[(size_t)(word + 1) * N + n] << 32;
    return (uint32_t)(lo >> off) & ((1u << bits) - 1u);
}

// Weights of one GPTQ projection [K rows, nPart columns] into the q4 layout of gemm.cu: for step s, block nb,
// lane (gid = lane/4, tig = lane%4), word u holds column tiles 2u and 2u+1; per tile four nibbles for sorted
// rows 16s + 2·tig + {0, 1, 8, 9} of column nb·64 + tile·8 + gid, placed so that one lop3 yields each
// fp16 pair the tensor-core fragment takes (see gemm.cu). Rows are read through `perm` (sorted row → checkpoint
// row, -1 for padding, which packs as 0).
SPARKLLM_KERNEL void repack_gptq_q4(const uint32_t* __restrict__ qweight, int K, int nPart, int bits,
                                    const int* __restrict__ perm, int kSteps, int nBlocksPart,
                                    uint4* __restrict__ out, int nBlocks, int blockOffset) {
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long long)kSteps * nBlocksPart * 32) return;
    int lane = (int)(t & 31);
    int nb = (int)((t >> 5) % nBlocksPart);
    int step = (int)((t >> 5) / nBlocksPart);
    int gid = lane >> 2, tig = lane & 3;
    uint32_t words[4] = {0, 0, 0, 0};
    for (int j = 0; j < 8; j++) {
        int n = nb * 64 + j * 8 + gid;
        const int rows[4] = {2 * tig, 2 * tig + 1, 2 * tig + 8, 2 * tig + 9};
        // nibble positions inside the word for b0, b1, b2, b3 of an even tile; an odd tile is 8 bits higher
        const int shift[4] = {0, 16, 4, 20};
        for (int e = 0; e < 4; e++) {
            int src = perm ? perm[step * 16 + rows[e]] : step * 16 + rows[e];
            uint32_t q = 0;
            if (src >= 0 && src < K && n < nPart) q = gptq_unpack(qweight, n, nPart, src, bits);
            words[j >> 1] |= (q & 15u) << (shift[e] + (j & 1) * 8);
        }
    }
    out[((size_t)step * nBlocks + blockOffset + nb) * 32 + lane] = make_uint4(words[0], words[1], words[2], words[3]);
}

// Weights of one 3-bit GPTQ projection into the q3 layout of gemm.cu: per 4-step quad, block nb and lane, twelve
// words in three uint4 (the lanes' vectors adjacent for each of the three): words 2·s + h hold the low two bits
// of step s's tiles 4h..4h+3, word 8 + s the high bit of all eight tiles. In a low-plane word, pair p = 2·(tile
// % 4) + (b0b1: 0, b2b3: 1) sits at bits 2p and 16 + 2p; in the high-plane word, pair P = 2·tile + (0 or 1) at
// bits P and 16 + P. No value straddles a word, and one lop3 per plane yields each fp16 pair (gemm.cu's q3_pair).
// Launch: grid ceil(kSteps/4 · nBlocksPart · 32 / 256), block 256. One thread per lane and quad.
SPARKLLM_KERNEL void repack_gptq_q3(const uint32_t* __restrict__ qweight, int K, int nPart, int bits,
                                    const int* __restrict__ perm, int kSteps, int nBlocksPart,
                                    uint4* __restrict__ out, int nBlocks, int blockOffset) {
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long long)(kSteps / 4) * nBlocksPart * 32) return;
    int lane = (int)(t & 31);
    int nb = (int)((t >> 5) % nBlocksPart);
    int quad = (int)((t >> 5) / nBlocksPart);
    int gid = lane >> 2, tig = lane & 3;
    uint32_t words[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int si = 0; si < 4; si++) {
        int step = quad * 4 + si;
        for (int j = 0; j < 8; j++) {
            int n = nb * 64 + j * 8 + gid;
            const int rows[4] = {2 * tig, 2 * tig + 1, 2 * tig + 8, 2 * tig + 9};
            for (int e = 0; e < 4; e++) {
                int src = perm ? perm[step * 16 + rows[e]] : step * 16 + rows[e];
                uint32_t q = 0;
                if (src >= 0 && src < K && n < nPart) q = gptq_unpack(qweight, n, nPart, src, bits);
                int half = (e & 1) * 16;
                int p = 2 * (j & 3) + (e >> 1), P = 2 * j + (e >> 1);
                words[si * 2 + (j >> 2)] |= (q & 3u) << (2 * p + half);
                words[8 + si] |= ((q >> 2) & 1u) << (P + half);
            }
        }
    }
    for (int u = 0; u < 3; u++) {
        out[(((size_t)quad * nBlocks + blockOffset + nb) * 3 + u) * 32 + lane] =
            make_uint4(words[4 * u], words[4 * u + 1], words[4 * u + 2], words[4 * u + 3]);
    }
}

// Zero-points and scales of one projection into zs[g][nb][c][j] = (1024 + zero, scale) for column nb·64 + j·8 + c.
// zeroOffset is 1 for checkpoints that store zero - 1 (AutoGPTQ "v1"; added without masking, as AutoGPTQ's
// kernels do) and 0 for "v2". scales are fp16 as on disk.
SPARKLLM_KERNEL void repack_gptq_scales(const uint32_t* __restrict__ qzeros, const __half* __restrict__ scales,
                                        int groups, int nPart, int bits, int zeroOffset,
                                        __half2* __restrict__ zs, int nBlocks, int blockOffset) {
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long long)groups * nPart) return;
    int g = (int)(t / nPart), n = (int)(t % nPart);
    int zeroWords = nPart * bits / 32;
    // zero-points are packed along the output dimension: value n of row g
    long long bit = (long long)n * bits;
    int word = (int)(bit >> 5), off = (int)(bit & 31);
    uint64_t lo = qzeros[(size_t)g * zeroWords + word];
    if (off + bits > 32) lo |= (uint64_t)qzeros[(size_t)g * zeroWords + word + 1] << 32;
    int zero = (int)((uint32_t)(lo >> off) & ((1u << bits) - 1u)) + zeroOffset;
    int nb = blockOffset + n / 64, col = n % 64, j = col / 8, c = col % 8;
    zs[(((size_t)g * nBlocks + nb) * 8 + c) * 8 + j] = __halves2half2(__float2half((float)(1024 + zero)), scales[(size_t)g * nPart + n]);
}

__device__ __forceinline__ float load_as_float(const void* p, size_t i, int dtype) {
    switch (dtype) {
        case 0: return __half2float(reinterpret_cast<const __half*>(p)[i]);
        case 1: return __bfloat162float(reinterpret_cast<const __nv_bfloat16*>(p)[i]);
        default: return reinterpret_cast<const float*>(p)[i];
    }
}

// A dense projection W [nPart rows, K columns] (a Hugging Face Linear weight; dtype 0 fp16, 1 bf16, 2 fp32) into
// the f16 layout of gemm.cu: for step s, block nb, lane, uint4 u holds tiles 2u and 2u+1, each as the fragment
// pairs (W[n][k0], W[n][k0+1]) and (W[n][k0+8], W[n][k0+9]), k0 = 16s + 2·tig, n = nb·64 + tile·8 + gid.
SPARKLLM_KERNEL void repack_dense_f16(const void* __restrict__ weight, int dtype, int K, int nPart, int kSteps,
                                      int nBlocksPart, uint32_t* __restrict__ out, int nBlocks, int blockOffset) {
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long long)kSteps * nBlocksPart * 32) return;
    int lane = (int)(t & 31);
    int nb = (int)((t >> 5) % nBlocksPart);
    int step = (int)((t >> 5) / nBlocksPart);
    int gid = lane >> 2, tig = lane & 3;
    uint32_t* dst = out + (((size_t)step * nBlocks + blockOffset + nb) * 32 + lane) * 16;
    for (int j = 0; j < 8; j++) {
        int n = nb * 64 + j * 8 + gid;
        for (int pair = 0; pair < 2; pair++) {
            int k = step * 16 + 2 * tig + pair * 8;
            float a = 0.f, b = 0.f;
            if (n < nPart && k < K) a = load_as_float(weight, (size_t)n * K + k, dtype);
            if (n < nPart && k + 1 < K) b = load_as_float(weight, (size_t)n * K + k + 1, dtype);
            dst[(j >> 1) * 4 + (j & 1) * 2 + pair] = as_u32(__floats2half2_rn(a, b));
        }
    }
}

SPARKLLM_KERNEL void convert_to_f16(const void* __restrict__ in, int dtype, __half* __restrict__ out, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = __float2half(load_as_float(in, (size_t)i, dtype));
}

SPARKLLM_KERNEL void convert_to_f32(const void* __restrict__ in, int dtype, float* __restrict__ out, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = load_as_float(in, (size_t)i, dtype);
}
