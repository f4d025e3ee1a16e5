// Turning packed weights (repack.cu's layouts) into the tensor-core B fragments of one 16-row step and one
// 64-column block: b[j] for column tile j = 0..7, each two half2 (rows 2t, 2t+1 and 2t+8, 2t+9 of column gid).
// Shared by the split-K kernels (gemm.cu) and the tiled kernels (gemm_tiles.cu), so both compute the same fp16
// weight, bit for bit: (1024 + q) - (1024 + zero), times scale, in fp16 (CPU reference: GptqLinear).
#pragma once
#include "common.cuh"

enum { W_F16 = 0, W_Q4 = 1, W_Q3 = 2 };

// One fp16 pair of the 3-bit layout: the low two bits from the low plane, the high bit from the high plane,
// both moved under the fp16 1024 exponent. p: the pair's position in its low-plane word (0..7); P: in the
// high-plane word (0..15).
template <int p, int P>
__device__ __forceinline__ uint32_t q3_pair(uint32_t lo, uint32_t hi) {
    uint32_t los = lo >> (2 * p);
    uint32_t his = P >= 2 ? hi >> (P - 2) : hi << (2 - P);
    return lop3_and_or(his, 0x00040004u, lop3_and_or(los, 0x00030003u, 0x64006400u));
}

// The (1024 + q) pairs of 4 tiles from one low-plane word: tiles 4H .. 4H+3 of the step, whose high bits sit at
// 8H .. 8H+7 of the high-plane word.
template <int H>
__device__ __forceinline__ void q3_pairs(uint32_t lo, uint32_t hi, uint32_t q[4][2]) {
    q[0][0] = q3_pair<0, 8 * H + 0>(lo, hi); q[0][1] = q3_pair<1, 8 * H + 1>(lo, hi);
    q[1][0] = q3_pair<2, 8 * H + 2>(lo, hi); q[1][1] = q3_pair<3, 8 * H + 3>(lo, hi);
    q[2][0] = q3_pair<4, 8 * H + 4>(lo, hi); q[2][1] = q3_pair<5, 8 * H + 5>(lo, hi);
    q[3][0] = q3_pair<6, 8 * H + 6>(lo, hi); q[3][1] = q3_pair<7, 8 * H + 7>(lo, hi);
}

// The (1024 + zero, scale) half pairs of N column tiles (pr[j]: tile j's pair) as half2 broadcasts.
template <int N>
__device__ __forceinline__ void zero_scale_pairs(const uint32_t pr[N], uint32_t z2[N], uint32_t s2[N]) {
#pragma unroll
    for (int j = 0; j < N; j++) {
        __half2 h = as_half2(pr[j]);
        z2[j] = as_u32(__half2half2(__low2half(h)));
        s2[j] = as_u32(__half2half2(__high2half(h)));
    }
}

// A group's pairs for the lane's column gid of the 8 tiles (two uint4 of repack_gptq_scales' layout).
__device__ __forceinline__ void unpack_zero_scale(uint4 lo, uint4 hi, uint32_t z2[8], uint32_t s2[8]) {
    uint32_t pr[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
    zero_scale_pairs<8>(pr, z2, s2);
}

// (1024 + q) - (1024 + zero), times scale, for N tiles' fp16 pairs.
template <int N>
__device__ __forceinline__ void scale_pairs(const uint32_t q[N][2], const uint32_t z2[N], const uint32_t s2[N], uint32_t b[N][2]) {
#pragma unroll
    for (int j = 0; j < N; j++) {
        b[j][0] = as_u32(__hmul2(__hsub2(as_half2(q[j][0]), as_half2(z2[j])), as_half2(s2[j])));
        b[j][1] = as_u32(__hmul2(__hsub2(as_half2(q[j][1]), as_half2(z2[j])), as_half2(s2[j])));
    }
}

// 4-bit, N tiles from N/2 words of (1024 + q) nibbles: tile j in byte (j & 1) of word j >> 1.
template <int N>
__device__ __forceinline__ void dequant_q4_words(const uint32_t words[N / 2], const uint32_t z2[N], const uint32_t s2[N],
                                                 uint32_t b[N][2]) {
    uint32_t q[N][2];
#pragma unroll
    for (int j = 0; j < N; j++) {
        uint32_t word = words[j >> 1] >> ((j & 1) * 8);
        q[j][0] = lop3_and_or(word, 0x000f000fu, 0x64006400u);
        q[j][1] = lop3_and_or(word >> 4, 0x000f000fu, 0x64006400u);
    }
    scale_pairs<N>(q, z2, s2, b);
}

// 4-bit: the lane's uint4 of the step holds the 8 tiles.
__device__ __forceinline__ void dequant_q4(uint4 v, const uint32_t z2[8], const uint32_t s2[8], uint32_t b[8][2]) {
    uint32_t words[4] = {v.x, v.y, v.z, v.w};
    dequant_q4_words<8>(words, z2, s2, b);
}

// 3-bit: the lane's three uint4 of a quad of steps (words 0..7 the low plane, two per step; 8..11 the high plane,
// one per step); s4 = the step within the quad (a constant after unrolling).
__device__ __forceinline__ void dequant_q3(uint4 v0, uint4 v1, uint4 v2, int s4, const uint32_t z2[8], const uint32_t s2[8],
                                           uint32_t b[8][2]) {
    uint32_t words[12] = {v0.x, v0.y, v0.z, v0.w, v1.x, v1.y, v1.z, v1.w, v2.x, v2.y, v2.z, v2.w};
    uint32_t lo0 = words[s4 * 2], lo1 = words[s4 * 2 + 1], hi = words[8 + s4];
    uint32_t q[8][2];
    q3_pairs<0>(lo0, hi, q);
    q3_pairs<1>(lo1, hi, q + 4);
    scale_pairs<8>(q, z2, s2, b);
}

// fp16: the lane's four uint4 of the step are the fragments themselves, tiles 2u and 2u+1 in uint4 u.
__device__ __forceinline__ void fragments_f16(const uint4* v, uint32_t b[8][2]) {
#pragma unroll
    for (int u = 0; u < 4; u++) {
        b[2 * u][0] = v[u].x; b[2 * u][1] = v[u].y; b[2 * u + 1][0] = v[u].z; b[2 * u + 1][1] = v[u].w;
    }
}

// ---- half a column block (tiles 4h .. 4h+3), for the tiled kernels' 32-column warps ----------------------------
// Same arithmetic as above, on the half of the lane's words that holds those tiles, so the weights are the same.

// The group's (1024 + zero, scale) pairs of tiles 4h .. 4h+3: uint4 h of the two unpack_zero_scale reads.
__device__ __forceinline__ void unpack_zero_scale_half(uint4 v, uint32_t z2[4], uint32_t s2[4]) {
    uint32_t pr[4] = {v.x, v.y, v.z, v.w};
    zero_scale_pairs<4>(pr, z2, s2);
}

// 4-bit: words 2h and 2h+1 of the lane's uint4 of the step.
__device__ __forceinline__ void dequant_q4_half(uint2 v, const uint32_t z2[4], const uint32_t s2[4], uint32_t b[4][2]) {
    uint32_t words[2] = {v.x, v.y};
    dequant_q4_words<4>(words, z2, s2, b);
}

// 3-bit: the low-plane word of step s4 for half H (words[s4·2 + H]) and the step's high-plane word.
template <int H>
__device__ __forceinline__ void dequant_q3_half(uint32_t lo, uint32_t hi, const uint32_t z2[4], const uint32_t s2[4],
                                                uint32_t b[4][2]) {
    uint32_t q[4][2];
    q3_pairs<H>(lo, hi, q);
    scale_pairs<4>(q, z2, s2, b);
}
