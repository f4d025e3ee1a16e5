package dev.sparkllm.engine.sampling;

import java.util.List;
import java.util.Random;

/**
 * Host-side cost of one {@link Sampler#choose} call at the reference model's vocabulary (32000), for the
 * benchmark record; not a test. Run:
 * <pre>
 * mvn -q -o -pl engine test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=dev.sparkllm.engine.sampling.SamplerBenchmark
 * </pre>
 */
public final class SamplerBenchmark {

    private SamplerBenchmark() {
    }

    public static void main(String[] args) {
        int vocab = args.length > 0 ? Integer.parseInt(args[0]) : 32000;
        Random random = new Random(1);
        float[] logits = new float[vocab];  // [vocab]: roughly the spread of a chat model's logits
        for (int i = 0; i < vocab; i++) logits[i] = (float) (random.nextGaussian() * 3);
        int[] prompt = random.ints(512, 3, vocab).toArray();
        int[] output = random.ints(256, 3, vocab).toArray();
        List<Case> cases = List.of(
                new Case("greedy", SamplingParams.greedy(256)),
                new Case("temperature 0.7", settings(0.7, 0, 1, 0, 1)),
                new Case("temperature 0.7, top-p 0.9", settings(0.7, 0, 0.9, 0, 1)),
                new Case("top-k 50, top-p 0.95, repetition 1.1", settings(0.7, 50, 0.95, 0, 1.1)),
                new Case("min-p 0.05, logprobs 5", settings(1, 0, 1, 0.05, 1).withSeed(1L)));
        Sampler sampler = new Sampler(vocab, new int[]{2});
        System.out.printf("Sampler.choose, vocabulary %d, prompt %d, output %d tokens%n", vocab, prompt.length, output.length);
        for (Case c : cases) {
            SamplingParams p = c.name.contains("logprobs") ? withLogprobs(c.params, 5) : c.params;
            for (int i = 0; i < 2000; i++) sampler.choose(logits.clone(), p, i, prompt, output, output.length);  // warm-up
            int calls = 5000;
            long start = System.nanoTime();
            long sink = 0;
            for (int i = 0; i < calls; i++) sink += sampler.choose(logits.clone(), p, i, prompt, output, output.length).tokenId();
            double micros = (System.nanoTime() - start) / 1e3 / calls;
            System.out.printf("  %-40s %8.1f us/token (checksum %d)%n", c.name, micros, sink);
        }
    }

    private static SamplingParams settings(double temperature, int topK, double topP, double minP, double repetition) {
        return new SamplingParams(temperature, topK, topP, minP, repetition, 0, 0, 256, 0, List.of(), null, false, null, -1);
    }

    private static SamplingParams withLogprobs(SamplingParams p, int n) {
        return new SamplingParams(p.temperature(), p.topK(), p.topP(), p.minP(), p.repetitionPenalty(),
                p.presencePenalty(), p.frequencyPenalty(), p.maxNewTokens(), p.minNewTokens(), p.stop(),
                p.stopTokenIds(), p.ignoreEos(), p.seed(), n);
    }

    private record Case(String name, SamplingParams params) {
    }
}
