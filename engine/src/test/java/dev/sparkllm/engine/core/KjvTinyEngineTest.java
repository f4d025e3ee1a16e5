package dev.sparkllm.engine.core;

import dev.sparkllm.engine.api.FinishReason;
import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.cpu.CpuBackend;
import dev.sparkllm.engine.model.LlamaWeights;
import dev.sparkllm.engine.sampling.SamplingParams;
import dev.sparkllm.engine.testing.TestModels;
import dev.sparkllm.engine.tokenizer.Tokenizer;
import dev.sparkllm.engine.tokenizer.TokenizerLoader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine's reproducibility on the real model: the bundled kjv-tiny GPTQ model on the CPU backend, 64
 * prompts sampled greedily and with seeds. Run alone, then mixed into batches of 7, 64 and 256, with
 * different prefill chunk sizes, with and without prefix sharing, and with preemption forced by a small KV
 * pool: identical token ids every time. And a shared system prompt is computed once with prefix sharing,
 * with unchanged results.
 */
class KjvTinyEngineTest {

    static final String[] OPENINGS = {
            "In the beginning", "And God said", "And it came to pass", "Blessed are the", "The LORD is my",
            "And Jesus answered", "For God so loved", "Now the serpent was", "And the children of Israel",
            "Thus saith the LORD", "And he said unto them", "Behold, I send", "O give thanks unto", "Let every soul",
            "And the word of the LORD came", "Hear, O Israel"};
    static final int BLOCK = 16;

    static LlamaWeights weights;
    static Tokenizer tokenizer;
    static List<GenerationRequest> requests;
    static List<GenerationResult> alone;

    @BeforeAll
    static void runAlone() throws InterruptedException {
        Path dir = TestModels.bundledModel();
        try (ModelDirectory model = ModelDirectory.open(dir)) {
            weights = model.loadWeights();
        }
        tokenizer = TokenizerLoader.load(dir);
        requests = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            // Four prompts per opening, some long enough to span several KV blocks and share full prefix blocks.
            String text = OPENINGS[i % OPENINGS.length] + (i / OPENINGS.length >= 2 ? ", " + OPENINGS[(i * 7) % OPENINGS.length].toLowerCase() : "");
            int[] prompt = tokenizer.encode(i / OPENINGS.length % 2 == 1 ? OPENINGS[(i + 3) % OPENINGS.length] + ". " + text : text, true);
            SamplingParams p = i % 2 == 0 ? SamplingParams.greedy(10 + i % 9)
                    : new SamplingParams(0.8, 40, 0.95, 0, 1.1, 0, 0, 10 + i % 9, 0, List.of(), new int[0], false, 1000L + i, -1);
            requests.add(new GenerationRequest("kjv" + i, prompt, p));
        }
        try (Engine e = engine(EngineOptions.defaults().withMaxBatchSequences(1).withPrefixCaching(false), 512)) {
            alone = TestRequests.oneByOne(e, requests);
        }
    }

    static Engine engine(EngineOptions options, int blocks) {
        return new Engine(new CpuBackend(weights, BLOCK, blocks, 2), tokenizer, options);
    }

    @Test
    void referenceRunWritesVariedText() {
        long distinct = alone.stream().map(GenerationResult::text).distinct().count();
        assertTrue(distinct > 48, "only " + distinct + " distinct outputs of 64");
        assertTrue(alone.stream().allMatch(r -> r.finishReason() != FinishReason.ERROR), "a request failed");
        assertTrue(alone.stream().anyMatch(r -> r.text().matches(".*\\b(the|and|of|unto)\\b.*")),
                "kjv-tiny writes English: " + alone.get(0).text());
    }

    @Test
    void sharedSystemPromptIsComputedOnceWithUnchangedResults() throws InterruptedException {
        String system = "Thou art a scribe of the house of the LORD; answer in the words of the prophets, "
                + "and let thy speech be plain and true. ";
        List<GenerationRequest> rows = new ArrayList<>();
        int promptTokens = 0;
        for (int i = 0; i < 16; i++) {
            int[] prompt = tokenizer.encode(system + OPENINGS[i], true);
            promptTokens += prompt.length;
            rows.add(new GenerationRequest("row" + i, prompt, SamplingParams.greedy(8)));
        }
        int common = rows.get(0).promptTokenIds().length;
        for (GenerationRequest r : rows) common = Math.min(common, commonPrefix(rows.get(0).promptTokenIds(), r.promptTokenIds()));
        int sharedPerRow = common / BLOCK * BLOCK;
        assertTrue(sharedPerRow >= 2 * BLOCK, "the system prompt should span full KV blocks, shares " + common + " tokens");

        List<GenerationResult> off;
        long offPrefill;
        try (Engine e = engine(EngineOptions.defaults().withPrefixCaching(false), 512)) {
            off = new ArrayList<>(e.generate(rows.subList(0, 1)));
            off.addAll(e.generate(rows.subList(1, rows.size())));
            offPrefill = e.metrics().prefillTokens();
        }
        try (Engine e = engine(EngineOptions.defaults(), 512)) {
            List<GenerationResult> on = new ArrayList<>(e.generate(rows.subList(0, 1)));
            on.addAll(e.generate(rows.subList(1, rows.size())));
            assertNull(TestRequests.firstDifference(off, on));
            long hits = e.metrics().prefixCacheHitTokens();
            assertEquals(promptTokens, offPrefill);
            assertTrue(hits >= (long) (rows.size() - 1) * sharedPerRow, "prefix cache hits " + hits);
            assertEquals(promptTokens - hits, e.metrics().prefillTokens());
        }
    }

    private static int commonPrefix(int[] a, int[] b) {
        int n = 0;
        while (n < a.length && n < b.length && a[n] == b[n]) n++;
        return n;
    }

    @ParameterizedTest(name = "batch {0}, step tokens {1}, chunk {2}, blocks {3}, prefix cache {4}")
    @CsvSource({
            "7,   2048, 512, 512, true",
            "64,  256,  5,   512, true",
            "256, 2048, 16,  512, false",
            "64,  512,  8,   12,  true",
            "256, 300,  3,   12,  false",
    })
    void tokensAreIndependentOfBatchingChunkingSharingAndPreemption(int batch, int stepTokens, int chunk, int blocks,
                                                                     boolean prefix) throws InterruptedException {
        try (Engine e = engine(new EngineOptions(batch, stepTokens, chunk, 1024, prefix, 0), blocks)) {
            List<GenerationResult> results = e.generate(requests);
            assertNull(TestRequests.firstDifference(alone, results));
            if (blocks < 64) assertTrue(e.preemptions() > 0, "the small KV pool was meant to force preemption");
            for (int i = 0; i < results.size(); i++) {
                assertTrue(results.get(i).text().equals(alone.get(i).text()), "text of " + results.get(i).id());
            }
            assertTrue(Arrays.stream(new int[]{e.metrics().kvBlocksUsed()}).allMatch(n -> n == 0), "blocks still held");
        }
    }
}
