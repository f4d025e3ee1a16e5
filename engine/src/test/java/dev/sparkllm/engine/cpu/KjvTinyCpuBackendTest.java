package dev.sparkllm.engine.cpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepInput.Logits;
import dev.sparkllm.engine.backend.StepInput.SequenceChunk;
import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.model.LlamaWeights;
import dev.sparkllm.engine.testing.TestModels;
import dev.sparkllm.engine.tokenizer.Tokenizer;
import dev.sparkllm.engine.tokenizer.TokenizerLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real kjv-tiny checkpoints through CpuBackend: the greedy continuation of "In the beginning God created"
 * reads as English, and every step of Hugging Face's greedy generations ({@code reference/hf_kjv_tiny.json},
 * float32 transformers on a GPU, GPTQ dequantised in torch) is reproduced: same argmax, log-probability within
 * {@value #LOGPROB_TOLERANCE}. The HF comparison feeds the reference file's prompt ids; the English check encodes
 * and decodes with our tokenizer (and checks its prompt ids against HF's).
 */
class KjvTinyCpuBackendTest {

    private static final double LOGPROB_TOLERANCE = 2e-4;
    /** HF steps whose top-1/top-2 margin is below this are too close to call across float implementations. */
    private static final double MIN_MARGIN = 1e-3;

    static List<String> variants() {
        return TestModels.KJV_TINY_VARIANTS;
    }

    @Test
    void bundledModelContinuesInEnglish() throws IOException {
        assertEnglishContinuation(TestModels.bundledModel());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void sharedVariantContinuesInEnglish(String variant) throws IOException {
        assertEnglishContinuation(TestModels.kjvTiny(variant));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void sharedVariantReproducesHuggingFaceGreedySteps(String variant) throws IOException {
        Path dir = TestModels.kjvTiny(variant);
        JsonNode generations = reference().path("models").path(variant).path("generations");
        assertTrue(generations.size() > 0, "no reference generations for " + variant);
        LlamaWeights weights = load(dir);
        for (JsonNode g : generations) {
            int[] prompt = ints(g.path("prompt_ids"));
            JsonNode steps = g.path("steps");
            try (CpuBackend backend = new CpuBackend(weights, 16, 8, 2)) {
                int[] blocks = TestSequence.identityBlocks(8);
                float[] logits = backend.execute(new StepInput(List.of(
                        new SequenceChunk(1, prompt, 0, blocks, Logits.LAST)))).logits().get(0);
                for (int s = 0; s < steps.size(); s++) {
                    JsonNode step = steps.get(s);
                    int expected = step.path("token").asInt();
                    String where = variant + " \"" + g.path("prompt").asText() + "\" step " + s;
                    if (step.path("margin").asDouble() >= MIN_MARGIN) {
                        assertEquals(expected, argmax(logits), where + ": greedy token");
                    }
                    double logprob = logSoftmax(logits, expected);
                    assertEquals(step.path("logprob").asDouble(), logprob, LOGPROB_TOLERANCE, where + ": log-probability");
                    // feed HF's token (not ours), so one close call cannot derail the rest of the comparison
                    logits = backend.execute(new StepInput(List.of(new SequenceChunk(1, new int[] {expected},
                            prompt.length + s, blocks, Logits.LAST)))).logits().get(0);
                }
            }
        }
    }

    @Test
    void bundledModelLogitsDoNotDependOnTheBatchOrChunking() {
        // the GPTQ and dense linears of a real checkpoint keep row independence too (bit for bit)
        LlamaWeights weights = load(TestModels.bundledModel());
        int[] tokens = CpuBackendReferenceTest.randomTokens(new Random(3), 30, 1024);
        List<float[]> alone;
        try (CpuBackend backend = new CpuBackend(weights, 4, 64, 2)) {
            alone = TestSequence.runAlone(backend, new TestSequence(0, tokens, 24, 24,
                    TestSequence.identityBlocks(8), Logits.ALL));
        }
        try (CpuBackend backend = new CpuBackend(weights, 4, 64, 2)) {
            List<TestSequence> batch = new ArrayList<>();
            batch.add(new TestSequence(0, tokens, 24, 5, new int[] {63, 9, 60, 5, 2, 55, 61, 8}, Logits.ALL));
            for (int s = 1; s < 5; s++) {
                int[] other = CpuBackendReferenceTest.randomTokens(new Random(10 + s), 6 + 5 * s, 1024);
                int[] blocks = new int[8];
                for (int b = 0; b < 8; b++) blocks[b] = 10 + 8 * (s - 1) + b; // disjoint from the target's blocks
                batch.add(new TestSequence(s, other, 3 * s, s, blocks, Logits.LAST));
            }
            while (!batch.get(0).done()) {
                List<TestSequence> running = batch.stream().filter(x -> !x.done()).toList();
                List<SequenceChunk> chunks = running.stream().map(TestSequence::nextChunk).toList();
                List<float[]> out = backend.execute(new StepInput(chunks)).logits();
                for (int i = 0; i < running.size(); i++) running.get(i).accept(chunks.get(i), out.get(i), 1024);
            }
            for (int p = 0; p < tokens.length; p++) {
                assertTrue(Arrays.equals(alone.get(p), batch.get(0).logits.get(p)),
                        "position " + p + ": logits in a batch differ from the sequence alone");
            }
        }
    }

    private static void assertEnglishContinuation(Path dir) throws IOException {
        String promptText = "In the beginning God created";
        Tokenizer tokenizer = TokenizerLoader.load(dir);
        int[] prompt = tokenizer.encode(promptText, true);
        JsonNode first = reference().path("models").path("main").path("generations").get(0);
        assertEquals(promptText, first.path("prompt").asText());
        assertArrayEquals(ints(first.path("prompt_ids")), prompt, "prompt ids differ from Hugging Face's");
        int[] generated = new int[24];
        int count = 0;
        try (CpuBackend backend = new CpuBackend(load(dir), 16, 8, 2)) {
            int[] blocks = TestSequence.identityBlocks(8);
            float[] logits = backend.execute(new StepInput(List.of(
                    new SequenceChunk(1, prompt, 0, blocks, Logits.LAST)))).logits().get(0);
            while (count < generated.length) {
                int token = argmax(logits);
                if (token == tokenizer.eosId()) break;
                generated[count] = token;
                logits = backend.execute(new StepInput(List.of(new SequenceChunk(1, new int[] {token},
                        prompt.length + count, blocks, Logits.LAST)))).logits().get(0);
                count++;
            }
        }
        String t = tokenizer.decode(Arrays.copyOf(generated, count), true).trim();
        long plain = t.chars().filter(c -> Character.isLetter(c) || c == ' ' || ",.;:'!?".indexOf(c) >= 0).count();
        String[] words = t.split("\\s+");
        assertTrue(words.length >= 3, dir + ": continuation too short to be English: \"" + t + "\"");
        assertTrue(plain >= 0.95 * t.length(), dir + ": continuation is not plain English text: \"" + t + "\"");
        long known = Arrays.stream(words).map(w -> w.replaceAll("[^A-Za-z]", "").toLowerCase())
                .filter(COMMON_WORDS::contains).count();
        assertTrue(known >= 1, dir + ": no common English word in \"" + t + "\"");
        System.out.println(dir.getFileName() + ": " + promptText + " -> " + t);
    }

    private static final Set<String> COMMON_WORDS = Set.of("the", "and", "of", "to", "that",
            "in", "he", "unto", "i", "his", "a", "for", "they", "be", "is", "them", "with", "not", "all", "him",
            "shall", "it", "thou", "thy", "was", "which", "my", "lord", "god", "me", "said", "were", "ye", "their",
            "have", "heaven", "earth", "made", "upon", "from", "as", "by", "man", "men", "day", "even", "so");

    private static LlamaWeights load(Path dir) {
        try (ModelDirectory model = ModelDirectory.open(dir)) {
            return model.loadWeights();
        }
    }

    private static JsonNode reference;

    private static synchronized JsonNode reference() throws IOException {
        if (reference == null) {
            try (InputStream in = KjvTinyCpuBackendTest.class.getResourceAsStream("/reference/hf_kjv_tiny.json")) {
                assertNotNull(in, "test resource reference/hf_kjv_tiny.json is missing");
                reference = new ObjectMapper().readTree(in);
            }
        }
        return reference;
    }

    private static int[] ints(JsonNode array) {
        int[] a = new int[array.size()];
        for (int i = 0; i < a.length; i++) a[i] = array.get(i).asInt();
        return a;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /** log softmax(logits)[token], in double. */
    private static double logSoftmax(float[] logits, int token) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double sum = 0;
        for (float l : logits) sum += Math.exp(l - max);
        return logits[token] - max - Math.log(sum);
    }
}
