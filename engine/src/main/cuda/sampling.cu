// Token sampling on the GPU: for each row, the token and raw log-probabilities that
// dev.sparkllm.engine.sampling.Sampler.choose returns for the same logits, bit for bit (the contract of
// ModelBackend.samplesTokens), or the reason choose would throw. Host side: cuda/GpuSampler.java, which packs the
// parameters below and turns the results into Sampler.Choice objects.
//
// Exactness: every step repeats Java's arithmetic operation for operation.
//  - Penalties are float32 with each multiply, divide and subtract rounded on its own (__fmul_rn, __fdiv_rn,
//    __fsub_rn): left to itself nvcc contracts a*b - c into one fused multiply-add, which Java never does.
//  - Doubles likewise (__dadd_rn, __dsub_rn, __dmul_rn, __ddiv_rn), and every conversion says how it rounds:
//    __ll2double_rn is Java's (double) long, __double2ll_rz its (long) double (saturating, NaN -> 0),
//    __double2float_rn its (float) double.
//  - exp and log of the log-probabilities are fdlibm's, which StrictMath (and so RawLogprobs) must return, ported
//    below; their sum is Java's left-to-right sum over the vocabulary, added by one thread in that order.
//  - Every other reduction is over integers (counts, 64-bit fixed-point weights, order-preserving keys) or a
//    max/min, so its order cannot change the result. Top-k, top-p, the top-n log-probabilities and the draw are
//    exact searches over those integers (one bit per pass, each pass a block-wide count or sum), not sorts.
//    No floating-point atomics anywhere.
// The row's algorithm (sample_row) also compiles for the host, where plain C++ operators are the same IEEE
// operations (x86-64 without FMA contraction) and a "block" is a few host threads: that is how it was checked
// against the Java sampler on a machine without a GPU.
//
// Launch contract, sample_rows:
//   grid (rows), block SAMPLE_THREADS threads (a multiple of 32, at most SAMPLE_THREADS),
//   dynamic shared memory SAMPLE_SHARED_BYTES(vocab) = 8·ceil(vocab/32) bytes (two bitmaps over the vocabulary,
//   or a tile of doubles; under the default 48 KiB for vocab <= 196608).
//   logits  fp32 [*, vocab], read only: row r samples from logits + params[r][P_LOGIT_ROW]·vocab.
//   params  int32 [rows][SAMPLE_PARAM_WORDS], words P_* below; doubles and longs as two words, low word first.
//   tokens  int32 pool: row r's history (prompt ids, then output ids) starts at word params[r][P_HISTORY], the ids
//           it suppresses (EOS and stop ids before min_new_tokens) at params[r][P_SUPPRESS].
//   work    fp32 [rows][vocab] scratch: the row's adjusted logits (only written when some adjustment applies).
//   wide    uint64 [rows][vocab] scratch: output-token counts, then the fixed-point weights of the draw.
//   results int32 [rows][SAMPLE_RESULT_WORDS], words R_* below (written by thread 0).
// Cost per row (one block): a pass reads the row once (floats, or the 8-byte weights). Log-probabilities take 64
// passes plus the sequential sum (vocab dependent double additions by one thread), top-k 32 passes, top-p about
// W + 20 (W = 62 - bitLength(vocab)), the draw about bitLength(vocab) passes over half the row on average.
#include "common.cuh"
#include <math.h>
#ifndef __CUDA_ARCH__
#include <cstring>
#endif

#define SAMPLE_THREADS 512
#define SAMPLE_PARAM_WORDS 32
#define SAMPLE_RESULT_WORDS 48
#define SAMPLE_MAX_TOP 20
#define SAMPLE_SHARED_BYTES(vocab) (8 * (((vocab) + 31) / 32))

#define SAMPLE_HD __host__ __device__ __forceinline__

namespace sampling {

typedef unsigned long long u64;
typedef long long i64;

// Parameter words (GpuSampler.java writes them; keep the two in step).
constexpr int P_LOGIT_ROW = 0;
constexpr int P_FLAGS = 1;                  // F_* below
constexpr int P_TOP_K = 2;
constexpr int P_LOGPROBS = 3;               // -1 none, 0 chosen token only, n <= SAMPLE_MAX_TOP: also the n most likely
constexpr int P_HISTORY = 4;                // word offset in tokens of the prompt ids, followed by the output ids
constexpr int P_PROMPT_LENGTH = 5;          // history lengths: 0 when no penalty needs the history
constexpr int P_OUTPUT_LENGTH = 6;
constexpr int P_SUPPRESS = 7;               // word offset in tokens of the suppressed ids
constexpr int P_SUPPRESS_LENGTH = 8;
constexpr int P_REPETITION = 9;             // float bits: (float) repetitionPenalty
constexpr int P_PRESENCE = 10;              // float bits: (float) presencePenalty
constexpr int P_FREQUENCY = 11;             // float bits: (float) frequencyPenalty
constexpr int P_TOKEN_INDEX = 12;           // outputLength: the token index that keys the draw
constexpr int P_TEMPERATURE = 14;           // double
constexpr int P_TOP_P = 16;                 // double
constexpr int P_MIN_P = 18;                 // double
constexpr int P_SEED = 20;                  // long

constexpr int F_GREEDY = 1;                 // temperature == 0
constexpr int F_REPETITION = 2;             // (float) repetitionPenalty != 1
constexpr int F_PRESENCE_FREQUENCY = 4;     // (float) presence != 0 or (float) frequency != 0

// Result words.
constexpr int R_STATUS = 0;
constexpr int R_TOKEN = 1;                  // the chosen token; with S_NAN the first NaN's id
constexpr int R_TARGET = 2;                 // long: the draw's target (for S_RAN_PAST's message)
constexpr int R_TOTAL = 4;                  // long: the sum of the final weights
constexpr int R_LOGPROB = 6;                // float bits: the chosen token's raw log-probability
constexpr int R_TOP_COUNT = 7;
constexpr int R_TOP_IDS = 8;                // [SAMPLE_MAX_TOP]
constexpr int R_TOP_LOGPROBS = 28;          // [SAMPLE_MAX_TOP] float bits

// Statuses: what Sampler.choose returns or throws.
constexpr int S_OK = 0;
constexpr int S_NAN = 1;                    // LogitAdjustments.requireNoNaN
constexpr int S_GREEDY_ALL_SUPPRESSED = 2;  // LogitAdjustments.argmax
constexpr int S_SAMPLE_ALL_SUPPRESSED = 3;  // TokenDraw.weights
constexpr int S_RAN_PAST = 4;               // TokenDraw.inverseCdf

// ---- IEEE operations rounded one at a time: intrinsics on the device, operators on the host --------------------

SAMPLE_HD double dadd(double a, double b) {
#ifdef __CUDA_ARCH__
    return __dadd_rn(a, b);
#else
    return a + b;
#endif
}
SAMPLE_HD double dsub(double a, double b) {
#ifdef __CUDA_ARCH__
    return __dsub_rn(a, b);
#else
    return a - b;
#endif
}
SAMPLE_HD double dmul(double a, double b) {
#ifdef __CUDA_ARCH__
    return __dmul_rn(a, b);
#else
    return a * b;
#endif
}
SAMPLE_HD double ddiv(double a, double b) {
#ifdef __CUDA_ARCH__
    return __ddiv_rn(a, b);
#else
    return a / b;
#endif
}
SAMPLE_HD float fsub(float a, float b) {
#ifdef __CUDA_ARCH__
    return __fsub_rn(a, b);
#else
    return a - b;
#endif
}
SAMPLE_HD float fmul(float a, float b) {
#ifdef __CUDA_ARCH__
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}
SAMPLE_HD float fdiv(float a, float b) {
#ifdef __CUDA_ARCH__
    return __fdiv_rn(a, b);
#else
    return a / b;
#endif
}
// Java's (double) long.
SAMPLE_HD double l2d(i64 v) {
#ifdef __CUDA_ARCH__
    return __ll2double_rn(v);
#else
    return (double)v;
#endif
}
// Java's (float) double.
SAMPLE_HD float d2f(double v) {
#ifdef __CUDA_ARCH__
    return __double2float_rn(v);
#else
    return (float)v;
#endif
}
// Java's (float) of a small non-negative count (exact below 2^24).
SAMPLE_HD float count2f(u64 v) {
#ifdef __CUDA_ARCH__
    return __ull2float_rn(v);
#else
    return (float)v;
#endif
}
// Java's (long) double: toward zero, saturating, NaN -> 0 (cvt.rzi.s64.f64 on the device does exactly this).
SAMPLE_HD i64 d2l(double v) {
#ifdef __CUDA_ARCH__
    return __double2ll_rz(v);
#else
    if (v != v) return 0;
    if (v >= 9223372036854775808.0) return 0x7fffffffffffffffLL;
    if (v <= -9223372036854775808.0) return (i64)0x8000000000000000ULL;
    return (i64)v;
#endif
}
// Java's (int) double, likewise.
SAMPLE_HD int d2i(double v) {
#ifdef __CUDA_ARCH__
    return __double2int_rz(v);
#else
    if (v != v) return 0;
    if (v >= 2147483648.0) return 0x7fffffff;
    if (v <= -2147483648.0) return (int)0x80000000u;
    return (int)v;
#endif
}
SAMPLE_HD i64 dbits(double x) {
#ifdef __CUDA_ARCH__
    return __double_as_longlong(x);
#else
    i64 b;
    memcpy(&b, &x, 8);
    return b;
#endif
}
SAMPLE_HD double dfrom(i64 b) {
#ifdef __CUDA_ARCH__
    return __longlong_as_double(b);
#else
    double x;
    memcpy(&x, &b, 8);
    return x;
#endif
}
SAMPLE_HD int fbits(float x) {
#ifdef __CUDA_ARCH__
    return __float_as_int(x);
#else
    int b;
    memcpy(&b, &x, 4);
    return b;
#endif
}
SAMPLE_HD float ffrom(int b) {
#ifdef __CUDA_ARCH__
    return __int_as_float(b);
#else
    float x;
    memcpy(&x, &b, 4);
    return x;
#endif
}
SAMPLE_HD int hi_word(double x) { return (int)(dbits(x) >> 32); }
SAMPLE_HD unsigned lo_word(double x) { return (unsigned)dbits(x); }
SAMPLE_HD double with_hi_word(double x, int hi) {
    return dfrom((i64)(((u64)(unsigned)hi << 32) | (u64)lo_word(x)));
}
// Java's Math.multiplyHigh: the signed high word of the 128-bit product.
SAMPLE_HD i64 mul_high(i64 a, i64 b) {
#ifdef __CUDA_ARCH__
    return __mul64hi(a, b);
#else
    return (i64)(((__int128)a * (__int128)b) >> 64);
#endif
}
SAMPLE_HD int bit_length(int v) {  // Java's 32 - Integer.numberOfLeadingZeros(v), v > 0
#ifdef __CUDA_ARCH__
    return 32 - __clz(v);
#else
    return 32 - __builtin_clz((unsigned)v);
#endif
}

// ---- fdlibm 5.3 exp and log (StrictMath.exp, StrictMath.log), with every operation rounded on its own ----------

SAMPLE_HD double fdlibm_exp(double x) {
    const double o_threshold = 0x1.62e42fefa39efp9, u_threshold = -0x1.74910d52d3051p9;
    const double invln2 = 0x1.71547652b82fep0, twom1000 = 0x1.0p-1000;
    const double P1 = 0x1.555555555553ep-3, P2 = -0x1.6c16c16bebd93p-9, P3 = 0x1.1566aaf25de2cp-14,
                 P4 = -0x1.bbd41c5d26bf1p-20, P5 = 0x1.6376972bea4d0p-25;
    int hx = hi_word(x);
    const int xsb = (hx >> 31) & 1;
    const double ln2HI = xsb ? -0x1.62e42feep-1 : 0x1.62e42feep-1;
    const double ln2LO = xsb ? -0x1.a39ef35793c76p-33 : 0x1.a39ef35793c76p-33;
    const double halF = xsb ? -0.5 : 0.5;
    hx &= 0x7fffffff;
    double hi = 0, lo = 0;
    int k = 0;
    if (hx >= 0x40862E42) {                                   // |x| >= 709.78...
        if (hx >= 0x7ff00000) {
            if (((hx & 0xfffff) | lo_word(x)) != 0) return dadd(x, x);  // NaN
            return xsb == 0 ? x : 0.0;                        // exp(+-inf) = {inf, 0}
        }
        if (x > o_threshold) return INFINITY;
        if (x < u_threshold) return 0.0;
    }
    if (hx > 0x3fd62e42) {                                    // |x| > 0.5 ln2
        if (hx < 0x3FF0A2B2) {                                // and |x| < 1.5 ln2
            hi = dsub(x, ln2HI);
            lo = ln2LO;
            k = 1 - xsb - xsb;
        } else {
            k = d2i(dadd(dmul(invln2, x), halF));
            const double t = (double)k;                       // t carries the sign: positive ln2 parts
            hi = dsub(x, dmul(t, 0x1.62e42feep-1));
            lo = dmul(t, 0x1.a39ef35793c76p-33);
        }
        x = dsub(hi, lo);
    } else if (hx < 0x3e300000) {                             // |x| < 2^-28
        return dadd(1.0, x);
    }
    const double t = dmul(x, x);
    const double c = dsub(x, dmul(t, dadd(P1, dmul(t, dadd(P2, dmul(t, dadd(P3, dmul(t, dadd(P4, dmul(t, P5))))))))));
    if (k == 0) return dsub(1.0, dsub(ddiv(dmul(x, c), dsub(c, 2.0)), x));
    const double y = dsub(1.0, dsub(dsub(lo, ddiv(dmul(x, c), dsub(2.0, c))), hi));
    if (k >= -1021) return with_hi_word(y, hi_word(y) + (int)((unsigned)k << 20));
    return dmul(with_hi_word(y, hi_word(y) + (int)((unsigned)(k + 1000) << 20)), twom1000);
}

SAMPLE_HD double fdlibm_log(double x) {
    const double ln2_hi = 0x1.62e42feep-1, ln2_lo = 0x1.a39ef35793c76p-33, two54 = 0x1.0p54;
    const double Lg1 = 0x1.5555555555593p-1, Lg2 = 0x1.999999997fa04p-2, Lg3 = 0x1.2492494229359p-2,
                 Lg4 = 0x1.c71c51d8e78afp-3, Lg5 = 0x1.7466496cb03dep-3, Lg6 = 0x1.39a09d078c69fp-3,
                 Lg7 = 0x1.2f112df3e5244p-3;
    int hx = hi_word(x);
    const unsigned lx = lo_word(x);
    int k = 0;
    if (hx < 0x00100000) {                                    // x < 2^-1022
        if (((hx & 0x7fffffff) | lx) == 0) return -INFINITY;  // log(+-0)
        if (hx < 0) return NAN;                               // log(negative)
        k -= 54;
        x = dmul(x, two54);                                   // subnormal: scale up
        hx = hi_word(x);
    }
    if (hx >= 0x7ff00000) return dadd(x, x);
    k += (hx >> 20) - 1023;
    hx &= 0x000fffff;
    int i = (hx + 0x95f64) & 0x100000;
    x = with_hi_word(x, hx | (i ^ 0x3ff00000));               // normalise x or x/2
    k += (i >> 20);
    const double f = dsub(x, 1.0);
    if ((0x000fffff & (2 + hx)) < 3) {                        // |f| < 2^-20
        if (f == 0.0) {
            if (k == 0) return 0.0;
            const double dk = (double)k;
            return dadd(dmul(dk, ln2_hi), dmul(dk, ln2_lo));
        }
        const double R = dmul(dmul(f, f), dsub(0.5, dmul(0.33333333333333333, f)));
        if (k == 0) return dsub(f, R);
        const double dk = (double)k;
        return dsub(dmul(dk, ln2_hi), dsub(dsub(R, dmul(dk, ln2_lo)), f));
    }
    const double s = ddiv(f, dadd(2.0, f));
    const double dk = (double)k;
    const double z = dmul(s, s);
    i = hx - 0x6147a;
    const double w = dmul(z, z);
    const int j = 0x6b851 - hx;
    const double t1 = dmul(w, dadd(Lg2, dmul(w, dadd(Lg4, dmul(w, Lg6)))));
    const double t2 = dmul(z, dadd(Lg1, dmul(w, dadd(Lg3, dmul(w, dadd(Lg5, dmul(w, Lg7)))))));
    i |= j;
    const double R = dadd(t2, t1);
    if (i > 0) {
        const double hfsq = dmul(dmul(0.5, f), f);
        if (k == 0) return dsub(f, dsub(hfsq, dmul(s, dadd(hfsq, R))));
        return dsub(dmul(dk, ln2_hi), dsub(dsub(hfsq, dadd(dmul(s, dadd(hfsq, R)), dmul(dk, ln2_lo))), f));
    }
    if (k == 0) return dsub(f, dmul(s, dsub(f, R)));
    return dsub(dmul(dk, ln2_hi), dsub(dsub(dmul(s, dsub(f, R)), dmul(dk, ln2_lo)), f));
}

// ---- TokenDraw's fixed-point weights and random number ---------------------------------------------------------

// TokenDraw.fixedPointExp: e^d · 2^W truncated, by its documented sequence of operations.
SAMPLE_HD i64 fixed_point_exp(double d, int W) {
    const double LN2_HI = 0x1.62e42feep-1, LN2_LO = 0x1.a39ef35793c76p-33, INV_LN2 = 0x1.71547652b82fep0;
    if (!(d >= dmul((double)(-(W + 1)), LN2_HI))) return 0;  // also -inf and NaN
    const double k = rint(dmul(d, INV_LN2));
    const double r = dsub(dsub(d, dmul(k, LN2_HI)), dmul(k, LN2_LO));
    // 1/j! for j = 11 .. 0, as Java rounds them (1.0 / j!, j! exact).
    const double c[12] = {0x1.0p0, 0x1.0p0, 0x1.0p-1, 0x1.5555555555555p-3, 0x1.5555555555555p-5,
                          0x1.1111111111111p-7, 0x1.6c16c16c16c17p-10, 0x1.a01a01a01a01ap-13,
                          0x1.a01a01a01a01ap-16, 0x1.71de3a556c734p-19, 0x1.27e4fb7789f5cp-22,
                          0x1.ae64567f544e4p-26};
    double p = c[11];
#pragma unroll
    for (int j = 10; j >= 0; j--) p = dadd(dmul(p, r), c[j]);
    const i64 scale = (i64)((u64)(i64)(d2i(k) + W + 1023) << 52);  // 2^(k+W), built from its bits
    return d2l(dmul(p, dfrom(scale)));
}

// TokenDraw.splitMix64.
SAMPLE_HD u64 split_mix64(u64 seed, i64 index) {
    u64 z = seed + (u64)(index + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// ---- Order-preserving integer keys -----------------------------------------------------------------------------

// A float's key: unsigned order = float order, -0 and +0 the same key (Java's < and > do not tell them apart).
// Not for NaN (the row fails before any key is taken).
SAMPLE_HD unsigned float_key(float x) {
    const unsigned u = (unsigned)fbits(x == 0.f ? 0.f : x);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
SAMPLE_HD float key_float(unsigned key) {
    return ffrom((int)((key & 0x80000000u) ? (key & 0x7fffffffu) : ~key));
}
// Ranks tokens by value descending, then id ascending, as one distinct integer (larger = ranked first).
SAMPLE_HD u64 rank_key(float x, int id) {
    return ((u64)float_key(x) << 32) | (u64)(0xffffffffu - (unsigned)id);
}
SAMPLE_HD int rank_key_id(u64 key) { return (int)(0xffffffffu - (unsigned)key); }
SAMPLE_HD unsigned umax(unsigned a, unsigned b) { return a > b ? a : b; }
SAMPLE_HD u64 umax(u64 a, u64 b) { return a > b ? a : b; }

// ---- The block: reductions, atomics and barriers (one thread and plain operations on the host) -------------------

struct Scratch {
    u64 red[2][SAMPLE_THREADS / 32];
    u64 top[SAMPLE_MAX_TOP];
    double normalizer;
    unsigned topCount;
};

#ifdef __CUDA_ARCH__
__device__ __forceinline__ u64 warp_sum(u64 v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ u64 warp_max(u64 v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = max(v, (u64)__shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
__device__ __forceinline__ u64 warp_min(u64 v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = min(v, (u64)__shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
#endif

// A thread block running one row. On the host (checks), "threads" are host threads, at most SAMPLE_THREADS / 32 of
// them, and a checking program that runs more than one defines SAMPLE_HOST_BARRIER() before including this file.
struct Block {
    int tid, threads;
    Scratch* s;
    u64* shared;  // the dynamic shared memory, ceil(vocab/32) words: two vocabulary bitmaps, or a tile of doubles

    SAMPLE_HD unsigned* bitmaps() const { return reinterpret_cast<unsigned*>(shared); }

    SAMPLE_HD void sync() const {
#ifdef __CUDA_ARCH__
        __syncthreads();
#elif defined(SAMPLE_HOST_BARRIER)
        SAMPLE_HOST_BARRIER();
#endif
    }
    // Each warp's partial goes to one slot of s->red (a host thread has a slot of its own).
    SAMPLE_HD int slot() const {
#ifdef __CUDA_ARCH__
        return tid >> 5;
#else
        return tid;
#endif
    }
    SAMPLE_HD int slots() const {
#ifdef __CUDA_ARCH__
        return threads >> 5;
#else
        return threads;
#endif
    }
    SAMPLE_HD bool writesSlot() const {
#ifdef __CUDA_ARCH__
        return (tid & 31) == 0;
#else
        return true;
#endif
    }
    // Block-wide sums of two values; every thread gets both. Integer sums: the order does not matter.
    SAMPLE_HD void sum2(u64& a, u64& b) const {
#ifdef __CUDA_ARCH__
        a = warp_sum(a);
        b = warp_sum(b);
#endif
        sync();  // the previous reduction's readers are done with red
        if (writesSlot()) {
            s->red[0][slot()] = a;
            s->red[1][slot()] = b;
        }
        sync();
        a = 0;
        b = 0;
        for (int w = 0; w < slots(); w++) {
            a += s->red[0][w];
            b += s->red[1][w];
        }
    }
    SAMPLE_HD u64 sum(u64 a) const {
        u64 b = 0;
        sum2(a, b);
        return a;
    }
    SAMPLE_HD u64 max(u64 v) const {
#ifdef __CUDA_ARCH__
        v = warp_max(v);
#endif
        sync();
        if (writesSlot()) s->red[0][slot()] = v;
        sync();
        v = 0;
        for (int w = 0; w < slots(); w++) v = v > s->red[0][w] ? v : s->red[0][w];
        return v;
    }
    SAMPLE_HD u64 min(u64 v) const {
#ifdef __CUDA_ARCH__
        v = warp_min(v);
#endif
        sync();
        if (writesSlot()) s->red[0][slot()] = v;
        sync();
        v = ~0ULL;
        for (int w = 0; w < slots(); w++) v = v < s->red[0][w] ? v : s->red[0][w];
        return v;
    }
};

SAMPLE_HD unsigned atomic_or(unsigned* p, unsigned bits) {
#ifdef __CUDA_ARCH__
    return atomicOr(p, bits);
#else
    return __atomic_fetch_or(p, bits, __ATOMIC_SEQ_CST);
#endif
}
SAMPLE_HD unsigned atomic_inc(unsigned* p) {
#ifdef __CUDA_ARCH__
    return atomicAdd(p, 1u);
#else
    return __atomic_fetch_add(p, 1u, __ATOMIC_SEQ_CST);
#endif
}
SAMPLE_HD void atomic_add(u64* p, u64 v) {
#ifdef __CUDA_ARCH__
    atomicAdd(p, v);
#else
    __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
#endif
}

// The largest v < 2^bits for which pred(v) holds, one bit at a time from the top, for a predicate that is
// monotone (true up to some value, false above) and true at 0. pred runs block-wide: every thread calls it with
// the same v and gets the same answer.
template <class Pred>
SAMPLE_HD u64 search_max(int bits, Pred pred) {
    u64 v = 0;
    for (int b = bits - 1; b >= 0; b--) {
        const u64 candidate = v | (1ULL << b);
        if (pred(candidate)) v = candidate;
    }
    return v;
}

SAMPLE_HD i64 param_long(const int* p, int at) {
    return (i64)(((u64)(unsigned)p[at + 1] << 32) | (u64)(unsigned)p[at]);
}
SAMPLE_HD double param_double(const int* p, int at) { return dfrom(param_long(p, at)); }

// ---- The steps of Sampler.choose ---------------------------------------------------------------------------------

// RawLogprobs' normalizer max + log Σ exp(l - max), then its top-n list (value descending, id ascending) into
// s->top as rank keys. Returns the normalizer.
SAMPLE_HD double raw_logprobs(const Block& b, const float* raw, int V, int topCount) {
    unsigned maxKey = 0;
    for (int i = b.tid; i < V; i += b.threads) maxKey = umax(maxKey, float_key(raw[i]));
    const double max = (double)key_float((unsigned)b.max(maxKey));
    // The terms in parallel, a tile at a time into shared memory; their sum in Java's order, left to right, by
    // one thread (a chain of vocab dependent additions: the price of Java's summation order).
    const int tile = (V + 31) >> 5;
    double sum = 0;
    for (int start = 0; start < V; start += tile) {
        const int n = V - start < tile ? V - start : tile;
        for (int k = b.tid; k < n; k += b.threads) b.shared[k] = (u64)dbits(fdlibm_exp(dsub((double)raw[start + k], max)));
        b.sync();
        if (b.tid == 0) {
#pragma unroll 8
            for (int k = 0; k < n; k++) sum = dadd(sum, dfrom((i64)b.shared[k]));
        }
        b.sync();
    }
    if (b.tid == 0) b.s->normalizer = dadd(max, fdlibm_log(sum));
    b.sync();
    const double normalizer = b.s->normalizer;
    if (topCount > 0) {
        // The topCount-th largest rank key; rank keys are distinct, so exactly topCount keys reach it.
        const u64 last = search_max(64, [&](u64 c) {
            u64 n = 0;
            for (int i = b.tid; i < V; i += b.threads) n += rank_key(raw[i], i) >= c;
            return b.sum(n) >= (u64)topCount;
        });
        if (b.tid == 0) b.s->topCount = 0;
        b.sync();
        for (int i = b.tid; i < V; i += b.threads) {
            const u64 key = rank_key(raw[i], i);
            if (key >= last) {
                const unsigned slot = atomic_inc(&b.s->topCount);
                if (slot < SAMPLE_MAX_TOP) b.s->top[slot] = key;
            }
        }
        b.sync();
        if (b.tid == 0) {  // at most SAMPLE_MAX_TOP keys: insertion sort, descending
            for (int a = 1; a < topCount; a++) {
                const u64 key = b.s->top[a];
                int at = a;
                for (; at > 0 && b.s->top[at - 1] < key; at--) b.s->top[at] = b.s->top[at - 1];
                b.s->top[at] = key;
            }
        }
        b.sync();
    }
    return normalizer;
}

// LogitAdjustments.repetitionPenalty and presenceAndFrequencyPenalties into work (already a copy of raw). Each
// distinct id is adjusted once, by the thread whose atomicOr claims it first; the result depends only on the id.
SAMPLE_HD void penalties(const Block& b, const float* raw, int V, const int* p, const int* tokens, float* work,
                         u64* wide) {
    const bool repetition = p[P_FLAGS] & F_REPETITION, presenceFrequency = p[P_FLAGS] & F_PRESENCE_FREQUENCY;
    const float penalty = ffrom(p[P_REPETITION]), presence = ffrom(p[P_PRESENCE]), frequency = ffrom(p[P_FREQUENCY]);
    const int words = (V + 31) >> 5;
    unsigned* seen = b.bitmaps();
    unsigned* inOutput = seen + words;
    for (int w = b.tid; w < 2 * words; w += b.threads) seen[w] = 0;
    b.sync();
    const int* history = tokens + p[P_HISTORY];
    const int promptLength = p[P_PROMPT_LENGTH], length = promptLength + p[P_OUTPUT_LENGTH];
    if (presenceFrequency) {  // count the output ids in wide (free until the weights)
        for (int j = promptLength + b.tid; j < length; j += b.threads) {
            const int t = history[j];
            if (t < 0 || t >= V) continue;
            wide[t] = 0;
            atomic_or(&inOutput[t >> 5], 1u << (t & 31));
        }
        b.sync();
        for (int j = promptLength + b.tid; j < length; j += b.threads) {
            const int t = history[j];
            if (t >= 0 && t < V) atomic_add(&wide[t], 1);
        }
        b.sync();
    }
    for (int j = (repetition ? 0 : promptLength) + b.tid; j < length; j += b.threads) {
        const int t = history[j];
        if (t < 0 || t >= V) continue;
        const unsigned bit = 1u << (t & 31);
        if (atomic_or(&seen[t >> 5], bit) & bit) continue;  // another occurrence adjusts it
        float x = raw[t];
        if (repetition) x = x < 0.f ? fmul(x, penalty) : fdiv(x, penalty);
        if (presenceFrequency && (inOutput[t >> 5] & bit)) {
            x = fsub(x, fmul(frequency, count2f(wide[t])));
            x = fsub(x, presence);
        }
        work[t] = x;
    }
}

// TokenDraw.topP's cut, as the rule "keep w > lastKept, and of the ties with lastKept the ids below tieBound".
// False when it keeps everything (no candidate, as Java's early return).
SAMPLE_HD bool top_p_cut(const Block& b, const u64* wide, int V, int W, double topP, u64& lastKept, u64& tieBound) {
    u64 sum = 0;
    for (int i = b.tid; i < V; i += b.threads) sum += wide[i];
    const u64 total = b.sum(sum);
    const double totalD = l2d((i64)total);
    const double threshold = dmul(topP, totalD);
    const double oneMinusP = dsub(1.0, topP);
    const double dropBelow = oneMinusP > 1e-9 ? ddiv(ddiv(dmul(oneMinusP, totalD), 2.0), (double)V) : 0.0;
    // Java ranks only the candidates, the weights above dropBelow, so it keeps at most that many.
    u64 n = 0;
    for (int i = b.tid; i < V; i += b.threads) n += wide[i] > 0 && l2d((i64)wide[i]) > dropBelow;
    const u64 candidates = b.sum(n);
    if (candidates == 0) return false;
    // Java keeps the first m ranks, m the least with (double) (sum of the m largest weights) >= threshold. That
    // sum only grows with m, so the m-th largest weight v is the largest weight whose "all weights >= v" reach
    // the threshold; weights are at most 2^W.
    const u64 v = search_max(W + 1, [&](u64 c) {
        u64 count = 0, s = 0;
        for (int i = b.tid; i < V; i += b.threads) {
            if (wide[i] >= c) {
                count++;
                s += wide[i];
            }
        }
        b.sum2(count, s);
        return count >= 1 && !(l2d((i64)s) < threshold);
    });
    u64 above = 0, aboveSum = 0, equal = 0;
    for (int i = b.tid; i < V; i += b.threads) {
        if (wide[i] > v) {
            above++;
            aboveSum += wide[i];
        }
        equal += wide[i] == v;
    }
    b.sum2(above, aboveSum);
    equal = b.sum(equal);
    // How many of the ties with v it takes: the least j reaching the threshold (binary search, same on all threads).
    u64 lo = 1, hi = equal;
    while (lo < hi) {
        const u64 mid = lo + (hi - lo) / 2;
        if (!(l2d((i64)(aboveSum + mid * v)) < threshold)) hi = mid;
        else lo = mid + 1;
    }
    const u64 reach = above + lo;
    const u64 kept = candidates < reach ? candidates : reach;
    if (kept == reach) {
        lastKept = v;
    } else {  // all candidates kept: the last is the smallest
        u64 m = ~0ULL;
        for (int i = b.tid; i < V; i += b.threads) {
            if (wide[i] > 0 && l2d((i64)wide[i]) > dropBelow && wide[i] < m) m = wide[i];
        }
        lastKept = b.min(m);
    }
    u64 heavier = 0;
    for (int i = b.tid; i < V; i += b.threads) heavier += wide[i] > lastKept;
    const u64 keptAtLast = kept - b.sum(heavier);
    // Of the ties with lastKept, the keptAtLast lowest ids stay: tieBound is the id of the next one (or beyond V).
    tieBound = search_max(bit_length(V), [&](u64 c) {
        if (c > (u64)V) return false;
        u64 ties = 0;
        for (int i = b.tid; i < (int)c; i += b.threads) ties += wide[i] == lastKept;
        return b.sum(ties) <= keptAtLast;
    });
    return true;
}

// TokenDraw from the adjusted logits: top-k, weights, top-p, min-p, the inverse-CDF draw. Returns a status.
SAMPLE_HD int draw(const Block& b, const float* logits, int V, const int* p, u64* wide, int& token, i64& target,
                   i64& total) {
    // Penalties outside SamplingSettings' ranges (infinite, NaN, zero) can make adjusted logits NaN. Java's max is
    // then NaN, every weight 0, and the draw runs past the vocabulary with target 0 and total 0.
    u64 nan = 0;
    for (int i = b.tid; i < V && !nan; i += b.threads) nan = logits[i] != logits[i];
    if (b.max(nan)) return S_RAN_PAST;
    unsigned maxKey = 0;
    for (int i = b.tid; i < V; i += b.threads) maxKey = umax(maxKey, float_key(logits[i]));
    const float max = key_float((unsigned)b.max(maxKey));
    if (max == -INFINITY) return S_SAMPLE_ALL_SUPPRESSED;
    // LogitAdjustments.topK: below the k-th largest value becomes -inf (ties with it stay).
    const int topK = p[P_TOP_K];
    u64 kth = 0;
    if (topK > 0 && topK < V) {
        kth = search_max(32, [&](u64 c) {
            u64 n = 0;
            for (int i = b.tid; i < V; i += b.threads) n += float_key(logits[i]) >= c;
            return b.sum(n) >= (u64)topK;
        });
    }
    const int W = 62 - bit_length(V);
    const double temperature = param_double(p, P_TEMPERATURE);
    for (int i = b.tid; i < V; i += b.threads) {
        float l = logits[i];
        if (float_key(l) < kth) l = -INFINITY;
        wide[i] = (u64)fixed_point_exp(ddiv(dsub((double)l, (double)max), temperature), W);
    }
    b.sync();
    const double topP = param_double(p, P_TOP_P), minP = param_double(p, P_MIN_P);
    u64 lastKept = 0, tieBound = 0;
    const bool cutTopP = !(topP >= 1) && top_p_cut(b, wide, V, W, topP, lastKept, tieBound);
    const bool cutMinP = !(minP <= 0);
    const double floor = dmul(minP, (double)(1ULL << W));
    if (cutTopP || cutMinP) {
        for (int i = b.tid; i < V; i += b.threads) {
            u64 w = wide[i];
            if (cutTopP && !(w > lastKept || (w == lastKept && (u64)i < tieBound))) w = 0;
            if (cutMinP && l2d((i64)w) < floor) w = 0;
            wide[i] = w;
        }
        b.sync();
    }
    u64 sum = 0;
    for (int i = b.tid; i < V; i += b.threads) sum += wide[i];
    total = (i64)b.sum(sum);
    const i64 z = (i64)split_mix64((u64)param_long(p, P_SEED), p[P_TOKEN_INDEX]);
    target = mul_high(z, total) + ((z >> 63) & total);
    // The lowest id whose inclusive prefix sum exceeds target = the largest c whose exclusive prefix sum does not.
    const u64 chosen = search_max(bit_length(V), [&](u64 c) {
        if (c > (u64)V) return false;
        u64 prefix = 0;
        for (int i = b.tid; i < (int)c; i += b.threads) prefix += wide[i];
        return (i64)b.sum(prefix) <= target;
    });
    if (chosen == (u64)V) return S_RAN_PAST;
    token = (int)chosen;
    return S_OK;
}

// Sampler.choose for one row.
SAMPLE_HD void sample_row(const Block& b, const float* raw, int V, const int* p, const int* tokens, float* work,
                          u64* wide, int* out) {
    // LogitAdjustments.requireNoNaN: the first NaN's id.
    u64 firstNaN = (u64)V;
    for (int i = b.tid; i < V; i += b.threads) {
        if (raw[i] != raw[i]) {
            firstNaN = (u64)i;
            break;
        }
    }
    firstNaN = b.min(firstNaN);
    if (firstNaN < (u64)V) {
        if (b.tid == 0) {
            out[R_STATUS] = S_NAN;
            out[R_TOKEN] = (int)firstNaN;
        }
        return;
    }
    const int logprobs = p[P_LOGPROBS];
    const int topCount = logprobs < V ? (logprobs < SAMPLE_MAX_TOP ? logprobs : SAMPLE_MAX_TOP) : V;
    const double normalizer = logprobs >= 0 ? raw_logprobs(b, raw, V, topCount) : 0.0;

    const int flags = p[P_FLAGS];
    const float* logits = raw;
    if ((flags & (F_REPETITION | F_PRESENCE_FREQUENCY)) || p[P_SUPPRESS_LENGTH] > 0) {
        for (int i = b.tid; i < V; i += b.threads) work[i] = raw[i];
        logits = work;
        if (flags & (F_REPETITION | F_PRESENCE_FREQUENCY)) penalties(b, raw, V, p, tokens, work, wide);
        b.sync();
        const int* suppress = tokens + p[P_SUPPRESS];
        for (int j = b.tid; j < p[P_SUPPRESS_LENGTH]; j += b.threads) {
            const int t = suppress[j];
            if (t >= 0 && t < V) work[t] = -INFINITY;
        }
        b.sync();
    }

    int status, token = 0;
    i64 target = 0, total = 0;
    if (flags & F_GREEDY) {  // LogitAdjustments.argmax: the lowest id of the largest value
        // (A NaN, from penalties outside their valid ranges, never wins Java's "greater than" comparisons, except
        // at id 0, where the scan starts and stays.)
        u64 best = 0;
        for (int i = b.tid; i < V; i += b.threads) {
            if (logits[i] == logits[i]) best = umax(best, rank_key(logits[i], i));
        }
        token = logits[0] != logits[0] ? 0 : rank_key_id(b.max(best));
        status = logits[token] == -INFINITY ? S_GREEDY_ALL_SUPPRESSED : S_OK;
    } else {
        status = draw(b, logits, V, p, wide, token, target, total);
    }

    if (b.tid == 0) {
        out[R_STATUS] = status;
        out[R_TOKEN] = token;
        out[R_TARGET] = (int)target;
        out[R_TARGET + 1] = (int)(target >> 32);
        out[R_TOTAL] = (int)total;
        out[R_TOTAL + 1] = (int)(total >> 32);
        if (status == S_OK && logprobs >= 0) {  // RawLogprobs.of: (float) (logit - normalizer)
            out[R_LOGPROB] = fbits(d2f(dsub((double)raw[token], normalizer)));
            out[R_TOP_COUNT] = topCount;
            for (int k = 0; k < topCount; k++) {
                const int id = rank_key_id(b.s->top[k]);
                out[R_TOP_IDS + k] = id;
                out[R_TOP_LOGPROBS + k] = fbits(d2f(dsub((double)raw[id], normalizer)));
            }
        }
    }
}

}  // namespace sampling

SPARKLLM_KERNEL void __launch_bounds__(SAMPLE_THREADS)
sample_rows(const float* __restrict__ logits, int vocab, const int* __restrict__ params, const int* __restrict__ tokens,
            float* __restrict__ work, unsigned long long* __restrict__ wide, int* __restrict__ results) {
    extern __shared__ unsigned long long sample_shared[];
    __shared__ sampling::Scratch scratch;
    const int row = blockIdx.x;
    const int* p = params + (size_t)row * SAMPLE_PARAM_WORDS;
    const sampling::Block b{(int)threadIdx.x, (int)blockDim.x, &scratch, sample_shared};
    sampling::sample_row(b, logits + (size_t)p[sampling::P_LOGIT_ROW] * vocab, vocab, p, tokens, work + (size_t)row * vocab,
                         wide + (size_t)row * vocab, results + (size_t)row * SAMPLE_RESULT_WORDS);
}
