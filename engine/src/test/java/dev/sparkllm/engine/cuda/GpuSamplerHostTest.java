package dev.sparkllm.engine.cuda;

import dev.sparkllm.engine.backend.StepOutput.SampledToken;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The GPU sampler's algorithm without a GPU: nvcc compiles sampling.cu's {@code sample_row} for the host
 * (src/test/cuda/sampling_host_check.cu), where each row runs on a "block" of host threads meeting at a real
 * barrier and plain C++ operators perform the IEEE operations of the device's intrinsics. Fed through
 * {@link GpuSampler.Batch}'s packing and {@link GpuSampler#decode}, on {@link GpuSamplerTest}'s cases, it must agree
 * with {@link dev.sparkllm.engine.sampling.Sampler#choose} bit for bit. This checks the kernel's arithmetic and
 * searches on a development machine; the device's own reductions, atomics and launch are {@link GpuSamplerTest}'s.
 * Skips visibly without nvcc.
 */
@Tag("nvcc")
class GpuSamplerHostTest {

    @TempDir
    static Path dir;
    static Path check;

    @BeforeAll
    static void compile() throws IOException, InterruptedException {
        String nvcc = nvcc();
        assumeTrue(nvcc != null, "skipped: nvcc not found (NVCC, PATH, /usr/local/cuda/bin)");
        check = dir.resolve("sampling_host_check");
        Process p = new ProcessBuilder(nvcc, "-O2", "-std=c++20", "-Xcompiler", "-ffp-contract=off", "-I", "src/main/cuda",
                "-o", check.toString(), "src/test/cuda/sampling_host_check.cu").redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "nvcc failed:\n" + log);
    }

    @ParameterizedTest(name = "vocab {0}: {1} random cases, {2} threads per row")
    @CsvSource({"1024, 400, 4", "32000, 60, 8", "7, 200, 3", "1, 40, 2"})
    void randomCasesMatchTheHostSampler(int vocab, int count, int threads) throws Exception {
        assertMatches(vocab, GpuSamplerTest.randomCases(vocab, count, 77 + vocab), threads);
    }

    @Test
    void tiesAtTheTopPCutMatchTheHostSampler() throws Exception {
        assertMatches(64, GpuSamplerTest.tieHeavyCases(64, 400, 5), 4);
        assertMatches(5, GpuSamplerTest.tieHeavyCases(5, 300, 6), 3);
    }

    @Test
    void outOfRangeParametersGiveWhatTheHostSamplerGives() throws Exception {
        assertMatches(64, GpuSamplerTest.outOfRangeCases(64, 400, 9), 4);
    }

    private static void assertMatches(int vocab, List<GpuSamplerTest.Case> cases, int threads) throws Exception {
        int n = cases.size();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < n; i++) order.add(i);
        Collections.shuffle(order, new Random(n));
        GpuSampler.Batch batch = new GpuSampler.Batch(vocab, GpuSamplerTest.EOS, n);
        float[] logits = new float[n * vocab];
        for (int i = 0; i < n; i++) {
            batch.add(order.get(i), cases.get(i).request());
            System.arraycopy(cases.get(i).logits(), 0, logits, order.get(i) * vocab, vocab);
        }
        ByteBuffer in = ByteBuffer.allocate(4 * (4 + logits.length + n * GpuSampler.PARAM_WORDS + batch.tokenCount))
                .order(ByteOrder.LITTLE_ENDIAN);
        in.putInt(vocab).putInt(n).putInt(n).putInt(batch.tokenCount);
        for (float l : logits) in.putFloat(l);
        for (int i = 0; i < n * GpuSampler.PARAM_WORDS; i++) in.putInt(batch.params[i]);
        for (int i = 0; i < batch.tokenCount; i++) in.putInt(batch.tokens[i]);
        Path input = dir.resolve("in.bin"), output = dir.resolve("out.bin");
        Files.write(input, in.array());
        Process p = new ProcessBuilder(check.toString(), input.toString(), output.toString(), Integer.toString(threads))
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "sampling_host_check failed:\n" + log);
        int[] results = new int[n * GpuSampler.RESULT_WORDS];
        ByteBuffer.wrap(Files.readAllBytes(output)).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(results);
        for (int i = 0; i < n; i++) {
            SampledToken want = GpuSamplerTest.expected(vocab, cases.get(i));
            GpuSamplerTest.assertSame(want, GpuSampler.decode(results, i, cases.get(i).request()),
                    "vocab " + vocab + " case " + i + " " + GpuSamplerTest.describe(cases.get(i)));
        }
    }

    /** nvcc as build-kernels finds it: $NVCC, then PATH, then /usr/local/cuda/bin. */
    private static String nvcc() {
        String env = System.getenv("NVCC");
        if (env != null && Files.isExecutable(Path.of(env))) return env;
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "nvcc"))) return Path.of(d, "nvcc").toString();
        }
        Path fallback = Path.of("/usr/local/cuda/bin/nvcc");
        return Files.isExecutable(fallback) ? fallback.toString() : null;
    }
}
