package dev.sparkllm.engine.cuda;

import dev.sparkllm.engine.api.GenerationResult.TokenLogprob;
import dev.sparkllm.engine.backend.StepInput.SamplingRequest;
import dev.sparkllm.engine.backend.StepOutput.SampledToken;
import dev.sparkllm.engine.sampling.Sampler;
import dev.sparkllm.engine.sampling.SamplingParams;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GpuSampler} against {@link Sampler#choose} on the same logits: the token, the log-probabilities (compared
 * by their bits) and the failure messages must be identical, as {@code ModelBackend.samplesTokens} requires.
 *
 * <p>The random cases mix what stresses each step: ties (few distinct values, all equal, signed zeros), -infinity
 * entries, rows whose spread underflows exp, a dominant token; temperatures from 0.001 to 10^4; top-k 1, 2, 40,
 * vocab-1, vocab and beyond; top-p from 10^-6 to 1; min-p up to 1; repetition, presence and frequency penalties;
 * min_new_tokens with EOS, stop ids and ignore_eos; logprobs -1, 0, 1, 5 and 20; and rows that fail (NaN, all
 * suppressed, +infinity). Tie-heavy rows check top-p, top-k and min-p cutting through runs of equal weights. The
 * requests run in more launches than one, from logit rows in shuffled order (unused rows hold NaN, so reading the
 * wrong row fails). {@link GpuSamplerHostTest} runs the same cases through the kernel's code compiled for the host.
 */
@Tag("gpu")
class GpuSamplerTest {

    static final int[] EOS = {2};

    /** One row to sample: its raw logits and the request. */
    record Case(float[] logits, SamplingRequest request) {
    }

    @ParameterizedTest(name = "vocab {0}: {1} random cases")
    @CsvSource({"1024, 400", "32000, 400"})
    void randomCasesMatchTheHostSampler(int vocab, int count) {
        CudaDevice d = Gpu.device();
        List<Case> cases = randomCases(vocab, count, 20_240_611L + vocab);
        List<SampledToken> got = d.call(() -> sampleOnGpu(d, vocab, cases, 64));
        int failures = 0;
        for (int i = 0; i < cases.size(); i++) {
            SampledToken want = expected(vocab, cases.get(i));
            assertSame(want, got.get(i), "case " + i + " " + describe(cases.get(i)));
            if (want.error() != null) failures++;
        }
        System.out.printf("vocab %d: %d cases identical to Sampler.choose (%d of them failures)%n", vocab, count, failures);
        assertTrue(failures > 0 && failures < count / 4, failures + " failing cases: the mix is off");
    }

    @Test
    void tiesAtTheTopPCutMatchTheHostSampler() {
        CudaDevice d = Gpu.device();
        for (int vocab : new int[]{5, 64, 1000}) {
            List<Case> cases = tieHeavyCases(vocab, 300, vocab);
            List<SampledToken> got = d.call(() -> sampleOnGpu(d, vocab, cases, 128));
            for (int i = 0; i < cases.size(); i++) {
                assertSame(expected(vocab, cases.get(i)), got.get(i), "vocab " + vocab + " case " + i + " " + describe(cases.get(i)));
            }
        }
    }

    @Test
    void outOfRangeParametersGiveWhatTheHostSamplerGives() {
        CudaDevice d = Gpu.device();
        List<Case> cases = outOfRangeCases(64, 400, 9);
        List<SampledToken> got = d.call(() -> sampleOnGpu(d, 64, cases, 128));
        for (int i = 0; i < cases.size(); i++) assertSame(expected(64, cases.get(i)), got.get(i), "case " + i + " " + describe(cases.get(i)));
    }

    @Test
    void greedyMicroCase() {
        CudaDevice d = Gpu.device();
        float ninf = Float.NEGATIVE_INFINITY;
        float[] logits = {1f, 5f, 5f, ninf, 2f, 0f, 5f, 3f};
        SamplingParams greedy = SamplingParams.greedy(10);
        SamplingParams penalised = new SamplingParams(0, 0, 1, 0, 2, 0, 0, 10, 0, List.of(), new int[0], false, null, 2);
        SamplingParams minNew = new SamplingParams(0, 0, 1, 0, 1, 0, 0, 10, 3, List.of(), new int[]{6}, false, null, -1);
        List<Case> cases = List.of(
                new Case(logits, request(greedy, new int[]{0}, new int[0], 0)),       // tie 1, 2, 6: the lowest id
                new Case(logits, request(penalised, new int[]{1}, new int[0], 0)),    // 5 / 2 = 2.5 < 5: token 2
                new Case(logits, request(minNew, new int[]{0}, new int[0], 0)),       // EOS 2 and stop 6 suppressed: 1
                new Case(new float[]{ninf, ninf, ninf, ninf, ninf, ninf, ninf, ninf}, request(greedy, new int[]{0}, new int[0], 0)));
        List<SampledToken> got = d.call(() -> sampleOnGpu(d, 8, cases, 4));
        assertEquals(1, got.get(0).choice().tokenId());
        assertEquals(2, got.get(1).choice().tokenId());
        TokenLogprob lp = got.get(1).choice().logprob();
        assertNotNull(lp);
        assertArrayEquals(new int[]{1, 2}, lp.topIds());
        assertEquals(1, got.get(2).choice().tokenId());
        assertNull(got.get(2).choice().logprob());
        assertEquals("every token's logit is -infinity (all suppressed); nothing can be chosen", got.get(3).error());
        for (int i = 0; i < cases.size(); i++) assertSame(expected(8, cases.get(i)), got.get(i), "micro case " + i);
    }

    /**
     * Samples every case on the GPU: the logits go to rows of one buffer in shuffled order (with unused rows among
     * them), and the sampler runs them in launches of at most {@code maxRows}.
     */
    static List<SampledToken> sampleOnGpu(CudaDevice d, int vocab, List<Case> cases, int maxRows) {
        int n = cases.size(), bufferRows = n + 3;
        List<Integer> order = new ArrayList<>();
        for (int r = 0; r < bufferRows; r++) order.add(r);
        Collections.shuffle(order, new Random(n));
        float[] all = new float[bufferRows * vocab];
        Arrays.fill(all, Float.NaN);  // unused rows: any read of them would fail the row
        int[] logitRow = new int[n];
        for (int i = 0; i < n; i++) {
            logitRow[i] = order.get(i);
            System.arraycopy(cases.get(i).logits(), 0, all, logitRow[i] * vocab, vocab);
        }
        DeviceBuffer logits = d.alloc((long) all.length * Float.BYTES, "test logits");
        GpuSampler sampler = new GpuSampler(d, vocab, EOS, maxRows);
        try {
            d.upload(logits, all, all.length);
            List<SamplingRequest> requests = cases.stream().map(Case::request).toList();
            return sampler.sample(logits, logitRow, requests);
        } finally {
            sampler.close();
            d.free(logits);
        }
    }

    /** What the host sampler returns for the case, or the message it throws. */
    static SampledToken expected(int vocab, Case c) {
        SamplingRequest r = c.request();
        try {
            return SampledToken.chosen(new Sampler(vocab, r.eosTokenIds()).choose(c.logits().clone(), r.params(), r.seed(),
                    r.promptTokenIds(), r.outputTokenIds(), r.outputLength()));
        } catch (IllegalStateException e) {
            return SampledToken.failed(e.getMessage());
        }
    }

    /** Equal token, equal messages, and log-probabilities equal to the bit (NaN payloads aside). */
    static void assertSame(SampledToken want, SampledToken got, String where) {
        assertEquals(want.error(), got.error(), where + ": error");
        if (want.error() != null) return;
        assertEquals(want.choice().tokenId(), got.choice().tokenId(), where + ": token");
        TokenLogprob w = want.choice().logprob(), g = got.choice().logprob();
        if (w == null) {
            assertNull(g, where + ": logprobs not asked for");
            return;
        }
        assertNotNull(g, where + ": logprobs");
        assertEquals(w.tokenId(), g.tokenId(), where + ": logprob token");
        assertEquals(Float.floatToIntBits(w.logprob()), Float.floatToIntBits(g.logprob()),
                where + ": chosen logprob " + w.logprob() + " vs " + g.logprob());
        assertArrayEquals(w.topIds(), g.topIds(), where + ": top ids");
        int[] wb = new int[w.topLogprobs().length], gb = new int[g.topLogprobs().length];
        for (int i = 0; i < wb.length; i++) wb[i] = Float.floatToIntBits(w.topLogprobs()[i]);
        for (int i = 0; i < gb.length; i++) gb[i] = Float.floatToIntBits(g.topLogprobs()[i]);
        assertArrayEquals(wb, gb, where + ": top logprobs " + Arrays.toString(w.topLogprobs()) + " vs " + Arrays.toString(g.topLogprobs()));
    }

    static String describe(Case c) {
        SamplingParams p = c.request().params();
        return String.format("[T=%s k=%d p=%s minP=%s rep=%s pres=%s freq=%s minNew=%d out=%d stop=%s ignoreEos=%s lp=%d seed=%d]",
                p.temperature(), p.topK(), p.topP(), p.minP(), p.repetitionPenalty(), p.presencePenalty(), p.frequencyPenalty(),
                p.minNewTokens(), c.request().outputLength(), Arrays.toString(p.stopTokenIds()), p.ignoreEos(), p.logprobs(),
                c.request().seed());
    }

    static SamplingRequest request(SamplingParams p, int[] prompt, int[] output, int outputLength) {
        return new SamplingRequest(p, 42, EOS, prompt, output, outputLength);
    }

    /** {@code count} random cases over a {@code vocab}-token vocabulary (see the class comment for the mix). */
    static List<Case> randomCases(int vocab, int count, long seed) {
        Random rnd = new Random(seed);
        List<Case> cases = new ArrayList<>(count);
        for (int c = 0; c < count; c++) {
            float[] logits = randomLogits(rnd, vocab);
            double temperature = pick(rnd, 0, 0, 0, 1e-3, 0.05, 0.7, 1, 1, 1.3, 5, 1e4);
            int topK = (int) pick(rnd, 0, 0, 0, 1, 2, 40, 40, vocab - 1, vocab, vocab + 7);
            double topP = pick(rnd, 1, 1, 1, 0.999, 0.95, 0.9, 0.5, 0.1, 1e-6);
            double minP = pick(rnd, 0, 0, 0, 0.05, 0.3, 1);
            double repetition = pick(rnd, 1, 1, 1, 1.15, 1.15, 0.8, 2);
            double presence = pick(rnd, 0, 0, 0, 0.5, -1.5, 2);
            double frequency = pick(rnd, 0, 0, 0, 0.3, -0.5, 1.7);
            int minNew = (int) pick(rnd, 0, 0, 3, 40);
            int[] stop = rnd.nextInt(3) == 0 ? new int[0] : rnd.ints(1 + rnd.nextInt(3), 0, vocab + 2).toArray();
            boolean ignoreEos = rnd.nextInt(4) == 0;
            int logprobs = (int) pick(rnd, -1, -1, 0, 1, 5, 20);
            int outputLength = rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(60);
            int[] output = new int[outputLength + rnd.nextInt(5)];
            int[] prompt = new int[rnd.nextInt(200)];
            // Ids repeat (counts above 1) and cluster on the likely tokens, as in real text; a few fall outside the
            // vocabulary, which both samplers skip.
            int hot = 1 + rnd.nextInt(Math.min(vocab, 50));
            for (int i = 0; i < prompt.length; i++) prompt[i] = randomId(rnd, vocab, hot, logits);
            for (int i = 0; i < output.length; i++) output[i] = randomId(rnd, vocab, hot, logits);
            SamplingParams p = new SamplingParams(temperature, topK, topP, minP, repetition, presence, frequency, 100,
                    minNew, List.of(), stop, ignoreEos, null, logprobs);
            cases.add(new Case(logits, new SamplingRequest(p, rnd.nextLong(), EOS, prompt, output, outputLength)));
        }
        return cases;
    }

    /**
     * Rows of at most four distinct values, so that top-p, top-k and min-p often cut through a run of tied weights
     * (only the lowest ids of the run stay), at random p, k and min-p; no penalties.
     */
    static List<Case> tieHeavyCases(int vocab, int count, long seed) {
        Random rnd = new Random(seed);
        List<Case> cases = new ArrayList<>(count);
        for (int c = 0; c < count; c++) {
            float[] logits = new float[vocab];
            int levels = 1 + rnd.nextInt(4);
            float step = rnd.nextBoolean() ? 1f : 0.5f;
            for (int i = 0; i < vocab; i++) logits[i] = rnd.nextInt(levels) * step;
            double temperature = pick(rnd, 1e-3, 0.3, 1, 3);
            int topK = rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(vocab) : 0;
            double minP = rnd.nextInt(3) == 0 ? rnd.nextDouble() : 0;
            SamplingParams p = new SamplingParams(temperature, topK, rnd.nextDouble(), minP, 1, 0, 0, 100, 0, List.of(),
                    new int[0], false, null, rnd.nextInt(3) - 1);
            cases.add(new Case(logits, new SamplingRequest(p, rnd.nextLong(), EOS, new int[0], new int[100], rnd.nextInt(100))));
        }
        return cases;
    }

    /**
     * {@link #randomCases} with parameters outside {@code SamplingSettings.validate}'s ranges (NaN and infinite
     * top-p, min-p, temperature and penalties, zero and negative ones), except the two GpuSampler rejects: the
     * sampler must still give what {@code choose} gives, NaN adjusted logits included.
     */
    static List<Case> outOfRangeCases(int vocab, int count, long seed) {
        Random rnd = new Random(seed);
        double nan = Double.NaN, inf = Double.POSITIVE_INFINITY;
        List<Case> cases = new ArrayList<>(count);
        for (Case c : randomCases(vocab, count, seed)) {
            SamplingParams q = c.request().params();
            boolean oddPenalties = rnd.nextBoolean();
            SamplingParams p = new SamplingParams(pick(rnd, nan, inf, 0, 1, 1e-300, 1e300), (int) pick(rnd, -5, 0, 3),
                    pick(rnd, nan, -0.5, 0, 0.5, 1.5, inf), pick(rnd, nan, -1, 0, 0.1, 2, inf),
                    oddPenalties ? pick(rnd, nan, 0, -1, 1.2, inf, 1e-40) : 1,
                    oddPenalties ? pick(rnd, nan, 3, -inf, 0) : 0, oddPenalties ? pick(rnd, nan, -3, inf, 0) : 0, 100,
                    q.minNewTokens(), List.of(), q.stopTokenIds(), q.ignoreEos(), null, (int) pick(rnd, -7, -1, 0, 3));
            SamplingRequest r = c.request();
            cases.add(new Case(c.logits(), new SamplingRequest(p, r.seed(), r.eosTokenIds(), r.promptTokenIds(),
                    r.outputTokenIds(), r.outputLength())));
        }
        return cases;
    }

    private static int randomId(Random rnd, int vocab, int hot, float[] logits) {
        int r = rnd.nextInt(100);
        if (r == 0) return vocab + rnd.nextInt(3);
        if (r < 60) { // a likely token: the best of a few tries
            int best = rnd.nextInt(vocab);
            for (int t = 0; t < 8; t++) {
                int id = rnd.nextInt(vocab);
                if (logits[id] > logits[best]) best = id;
            }
            return best;
        }
        return r < 80 ? rnd.nextInt(hot) : rnd.nextInt(vocab);
    }

    private static float[] randomLogits(Random rnd, int vocab) {
        float[] l = new float[vocab];
        int kind = rnd.nextInt(10);
        for (int i = 0; i < vocab; i++) {
            double g = rnd.nextGaussian();
            l[i] = switch (kind) {
                case 0, 1 -> (float) (g * 3);
                case 2 -> Math.round(g * 4) / 2f;                  // many ties
                case 3 -> rnd.nextInt(4);                          // very few distinct values
                case 4 -> rnd.nextInt(3) == 0 ? Float.NEGATIVE_INFINITY : (float) (g * 2);
                case 5 -> (float) (g * 400);                      // exp underflows, subnormal terms
                case 6 -> new float[]{-0f, 0f, 1f, -1f}[rnd.nextInt(4)];
                case 7 -> 0.25f;                                   // all equal
                default -> (float) (g * 1.5 - 8);
            };
        }
        if (kind >= 8) l[rnd.nextInt(vocab)] = 25f;               // one dominant token
        int rare = rnd.nextInt(60);
        if (rare == 0) l[rnd.nextInt(vocab)] = Float.NaN;
        if (rare == 1) {
            l[rnd.nextInt(vocab)] = Float.NaN;
            l[rnd.nextInt(vocab)] = Float.NaN;
        }
        if (rare == 2) Arrays.fill(l, Float.NEGATIVE_INFINITY);
        if (rare == 3) l[rnd.nextInt(vocab)] = Float.POSITIVE_INFINITY;
        if (rare == 4) {  // everything -inf but the EOS and stop candidates: suppression may empty the row
            Arrays.fill(l, Float.NEGATIVE_INFINITY);
            l[EOS[0] % vocab] = 1f;
        }
        return l;
    }

    private static double pick(Random rnd, double... values) {
        return values[rnd.nextInt(values.length)];
    }
}
