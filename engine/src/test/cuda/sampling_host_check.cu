// sampling.cu's row algorithm on the host, for GpuSamplerHostTest: no GPU needed, only nvcc.
// Usage: sampling_host_check IN OUT THREADS. IN holds int32 vocab, rows, logit rows, token count, then the logits
// (fp32 [logit rows][vocab]), the parameter words and the token pool exactly as GpuSampler.Batch packs them; OUT
// gets the result words. Each row runs on a "block" of THREADS host threads (at most SAMPLE_THREADS / 32) that
// meet at a real barrier, so the strided loops, the atomic claims and the reductions run as they do on a GPU,
// while plain C++ operators perform the same IEEE operations as the device's intrinsics.
#include <barrier>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

static std::barrier<>* g_barrier;
#define SAMPLE_HOST_BARRIER() g_barrier->arrive_and_wait()
#include "sampling.cu"

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s IN OUT THREADS\n", argv[0]);
        return 1;
    }
    const int T = atoi(argv[3]);
    if (T < 1 || T > SAMPLE_THREADS / 32) {
        fprintf(stderr, "THREADS must be 1..%d\n", SAMPLE_THREADS / 32);
        return 1;
    }
    FILE* in = fopen(argv[1], "rb");
    int h[4];
    if (!in || fread(h, 4, 4, in) != 4) return 2;
    const int V = h[0], rows = h[1], logitRows = h[2], tokenCount = h[3];
    std::vector<float> logits((size_t)logitRows * V);
    std::vector<int> params((size_t)rows * SAMPLE_PARAM_WORDS), tokens((size_t)tokenCount + 1);
    if (fread(logits.data(), 4, logits.size(), in) != logits.size()) return 3;
    if (fread(params.data(), 4, params.size(), in) != params.size()) return 3;
    if (fread(tokens.data(), 4, tokenCount, in) != (size_t)tokenCount) return 3;
    fclose(in);

    std::vector<int> results((size_t)rows * SAMPLE_RESULT_WORDS, 0);
    std::vector<float> work(V);
    std::vector<unsigned long long> wide(V), shared((V + 31) / 32);
    sampling::Scratch scratch;
    std::barrier<> barrier(T);
    g_barrier = &barrier;
    for (int r = 0; r < rows; r++) {
        const int* p = &params[(size_t)r * SAMPLE_PARAM_WORDS];
        auto thread = [&](int tid) {
            const sampling::Block b{tid, T, &scratch, shared.data()};
            sampling::sample_row(b, &logits[(size_t)p[sampling::P_LOGIT_ROW] * V], V, p, tokens.data(), work.data(),
                                 wide.data(), &results[(size_t)r * SAMPLE_RESULT_WORDS]);
        };
        std::vector<std::thread> others;
        for (int t = 1; t < T; t++) others.emplace_back(thread, t);
        thread(0);
        for (auto& t : others) t.join();
    }
    FILE* out = fopen(argv[2], "wb");
    if (!out || fwrite(results.data(), 4, results.size(), out) != results.size()) return 4;
    fclose(out);
    return 0;
}
