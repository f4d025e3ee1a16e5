package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkllm.engine.testing.TestModels;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code engine/src/test/node/oracle.mjs} (Hugging Face {@code tokenizers} in Node) once per test JVM and
 * hands out its expectations. Tests using it skip, saying why, when node or the npm packages are missing
 * (install with {@code npm ci --prefix engine/src/test/node}).
 */
final class NodeOracle {

    private static JsonNode expected;
    private static Path outDir;

    private NodeOracle() {
    }

    /** The oracle's output, computing it on first use. */
    static synchronized JsonNode expected() {
        if (expected == null) expected = run();
        return expected;
    }

    /**
     * Directory holding the generated Llama-2 tokenizer: {@code tokenizer.json} and {@code tokenizer_config.json}
     * with {@code "legacy": false}, as Meta ships them.
     */
    static Path llama2Dir() {
        expected();
        return outDir.resolve("llama2");
    }

    /** The same Llama-2 {@code tokenizer.json} without a {@code tokenizer_config.json}: raw tokenizers semantics. */
    static Path llama2RawDir() {
        expected();
        return outDir.resolve("llama2-raw");
    }

    /** The real Llama-2 vocabulary as a SentencePiece {@code tokenizer.model}, alone in its directory. */
    static Path llama2SpmDir() {
        expected();
        return outDir.resolve("llama2-spm");
    }

    /** Conversations whose ids under Meta's reference chat_completion the oracle computes ({@code llama2Chat}). */
    static Path llama2ChatConversations() {
        return TestModels.repoDir().resolve("engine/src/test/resources/tokenizer/llama2_chat_conversations.json");
    }

    /** The tokenizer of an oracle entry, loaded in the entry's mode ("files" or "transformers5"). */
    static Tokenizer load(JsonNode entry) {
        return TokenizerLoader.load(Path.of(entry.path("dir").asText()), TokenizerMode.parse(entry.path("mode").asText("files")));
    }

    /** The golden file of transformers' chat-template ids that the oracle checks its emulation against. */
    static Path goldenFile() {
        return TestModels.repoDir().resolve("engine/src/test/resources/golden/chat_templates.json");
    }

    /** transformers 5's ids and decodes for kjv-tiny with "legacy" false, true and absent, and raw tokenizers' ids. */
    static Path legacyGoldenFile() {
        return TestModels.repoDir().resolve("engine/src/test/resources/golden/transformers_llama_legacy.json");
    }

    static Path corpusFile() {
        return TestModels.repoDir().resolve("engine/src/test/resources/tokenizer/corpus.json");
    }

    static List<String> corpus() throws IOException {
        List<String> out = new ArrayList<>();
        for (JsonNode n : new ObjectMapper().readTree(corpusFile().toFile())) out.add(n.asText());
        return out;
    }

    private static JsonNode run() {
        Path nodeDir = TestModels.repoDir().resolve("engine/src/test/node");
        Assumptions.assumeTrue(Files.isDirectory(nodeDir.resolve("node_modules/tokenizers"))
                        && Files.isDirectory(nodeDir.resolve("node_modules/llama-tokenizer-js")),
                "skipped: Node oracle packages missing; run `npm ci --prefix engine/src/test/node`");
        outDir = TestModels.repoDir().resolve("engine/target/tokenizer-oracle");
        List<String> cmd = new ArrayList<>(List.of("node", nodeDir.resolve("oracle.mjs").toString(),
                corpusFile().toString(), outDir.toString(), "kjv=" + TestModels.bundledModel()));
        if (Files.isRegularFile(goldenFile())) cmd.add("--golden=kjv:" + goldenFile());
        if (Files.isRegularFile(legacyGoldenFile())) cmd.add("--legacy-golden=kjv:" + legacyGoldenFile());
        cmd.add("--chat=" + llama2ChatConversations());
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("node oracle.mjs did not finish in 5 minutes:\n" + log);
            }
            if (p.exitValue() != 0) throw new IllegalStateException("node oracle.mjs failed (" + p.exitValue() + "):\n" + log);
            return new ObjectMapper().readTree(outDir.resolve("expected.json").toFile());
        } catch (IOException e) {
            Assumptions.abort("skipped: cannot run node (" + e.getMessage() + "); install Node.js 18+");
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }
}
