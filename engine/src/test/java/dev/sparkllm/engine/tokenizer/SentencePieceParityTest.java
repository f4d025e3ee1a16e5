package dev.sparkllm.engine.tokenizer;

import dev.sparkllm.engine.testing.TestModels;
import dev.sparkllm.engine.tokenizer.Tokenizer.Segment;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A directory with only {@code tokenizer.model}: we train small BPE models with SentencePiece's own
 * {@code spm_train} (byte fallback, identity normalisation as Llama's) and require our ids to equal
 * {@code spm_encode --output_format=id} line by line; and on the real Llama-2 vocabulary (the Node oracle's
 * {@code tokenizer.model}) both our SentencePiece encoder and Meta's tokenizer.json read in the default mode must
 * equal {@code spm_encode}. Skips when the Debian package {@code sentencepiece} is not installed.
 */
class SentencePieceParityTest {

    @TempDir
    Path dir;

    @Test
    void llamaStyleModelMatchesSpmEncode() throws Exception {
        // Llama's settings: keep runs of spaces, whitespace-only pieces, a dummy prefix; plus user-defined symbols.
        compareWithSpm("llama", true, "--remove_extra_whitespaces=false", "--allow_whitespace_only_pieces=true",
                "--user_defined_symbols=[INST],<sep>");
    }

    @Test
    void defaultWhitespaceHandlingMatchesSpmEncode() throws Exception {
        compareWithSpm("collapse", false, "--remove_extra_whitespaces=true", "--split_digits=true");
    }

    @Test
    void nmtNfkcNormalizationMatchesSpmEncode() throws Exception {
        // spm_train's default rule: NFKC plus SentencePiece's own mappings, compiled into precompiled_charsmap.
        Tokenizer tokenizer = compareWithSpm("nfkc", false, "--normalization_rule_name=nmt_nfkc");
        // The character map must really have been applied: fullwidth letters fold to ASCII under NFKC.
        assertArrayEquals(tokenizer.encode("fullwidth", false), tokenizer.encode("\uff46\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48", false));
    }

    /**
     * Llama-2's vocabulary: spm_encode on its tokenizer.model is what Meta's code feeds the model. Our reading of
     * tokenizer.model alone, and of tokenizer.json with Meta's {@code "legacy": false} tokenizer_config.json in the
     * default mode, give the same ids on every corpus line; transformers 5's reading does not (leading spaces).
     */
    @Test
    void llama2VocabularyMatchesSpmEncode() throws Exception {
        Assumptions.assumeTrue(onPath("spm_encode"), "skipped: spm_encode not found; install the Debian package `sentencepiece`");
        List<String> lines = corpusLines();
        lines.addAll(List.of(" Hello", "    return x", "def f():", "    if x:", "        return 1", "[INST] Hello [/INST]",
                "  two leading spaces", "trailing spaces   ", "tab\tseparated", "1234567890", "ÇÀ ñ 日本語 🦙"));
        Path eval = dir.resolve("llama2-eval.txt");
        Files.writeString(eval, String.join("\n", lines) + "\n");
        Path model = NodeOracle.llama2SpmDir().resolve("tokenizer.model");
        String[] expected = run(List.of("spm_encode", "--model=" + model, "--output_format=id", "--input=" + eval), null).split("\n", -1);
        Tokenizer spm = TokenizerLoader.load(NodeOracle.llama2SpmDir());
        Tokenizer files = TokenizerLoader.load(NodeOracle.llama2Dir());
        Tokenizer transformers5 = TokenizerLoader.load(NodeOracle.llama2Dir(), TokenizerMode.TRANSFORMERS5);
        int transformers5Differs = 0;
        for (int i = 0; i < lines.size(); i++) {
            int[] want = expected[i].isBlank() ? new int[0] : Arrays.stream(expected[i].trim().split(" ")).mapToInt(Integer::parseInt).toArray();
            List<Segment> text = List.of(Segment.content(lines.get(i)));
            assertArrayEquals(want, spm.encode(text, false), "tokenizer.model, line " + i + ": " + lines.get(i));
            assertArrayEquals(want, files.encode(text, false), "tokenizer.json (default mode), line " + i + ": " + lines.get(i));
            if (!Arrays.equals(want, transformers5.encode(text, false))) transformers5Differs++;
        }
        assertTrue(transformers5Differs >= 3, "lines where transformers 5's reading differs: " + transformers5Differs);
    }

    /** Every line of every corpus text (spm_encode reads lines). */
    private static List<String> corpusLines() throws IOException {
        List<String> lines = new ArrayList<>();
        for (String s : NodeOracle.corpus()) for (String line : s.split("\r?\n", -1)) if (!line.contains("\r")) lines.add(line);
        return lines;
    }

    private Tokenizer compareWithSpm(String name, boolean lossless, String... extraFlags) throws Exception {
        Assumptions.assumeTrue(onPath("spm_train") && onPath("spm_encode"),
                "skipped: spm_train/spm_encode not found; install the Debian package `sentencepiece`");
        List<String> corpus = NodeOracle.corpus();
        Path train = dir.resolve("train.txt");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 5; i++) for (String s : corpus) text.append(s).append('\n');
        text.append(Files.readString(TestModels.bundledModel().resolve("README.md")));
        Files.writeString(train, text);

        Path modelDir = Files.createDirectories(dir.resolve(name));
        List<String> cmd = new ArrayList<>(List.of("spm_train", "--input=" + train, "--model_prefix=" + modelDir.resolve("tokenizer"),
                "--model_type=bpe", "--vocab_size=800", "--hard_vocab_limit=false", "--byte_fallback=true",
                "--character_coverage=0.99", "--add_dummy_prefix=true"));
        cmd.addAll(Arrays.asList(extraFlags));
        if (cmd.stream().noneMatch(a -> a.startsWith("--normalization_rule_name"))) cmd.add("--normalization_rule_name=identity");
        run(cmd, null);

        // spm_encode reads lines, so the evaluation corpus is every line of every corpus text.
        List<String> lines = corpusLines();
        lines.add("Another text with digits 0123456789 and the README's words: quantisation, perplexity.");
        Path eval = dir.resolve(name + "-eval.txt");
        Files.writeString(eval, String.join("\n", lines) + "\n");
        String out = run(List.of("spm_encode", "--model=" + modelDir.resolve("tokenizer.model"), "--output_format=id", "--input=" + eval), null);
        String[] expected = out.split("\n", -1);

        Tokenizer tokenizer = TokenizerLoader.load(modelDir);
        int byteFallbacks = 0;
        for (int i = 0; i < lines.size(); i++) {
            int[] want = expected[i].isBlank() ? new int[0] : Arrays.stream(expected[i].trim().split(" ")).mapToInt(Integer::parseInt).toArray();
            // Content segments: SentencePiece never reads control strings such as <s> from text.
            int[] ids = tokenizer.encode(List.of(Segment.content(lines.get(i))), false);
            assertArrayEquals(want, ids, "line " + i + ": " + lines.get(i));
            for (int id : ids) if (ByteFallback.byteOf(tokenizer.tokenString(id)) >= 0) byteFallbacks++;
            // A ▁ written in the input comes back as a space, as in SentencePiece itself.
            if (lossless && !lines.get(i).contains("\u2581")) assertEquals(lines.get(i), tokenizer.decode(ids, true), "decode round trip, line " + i);
        }
        assertTrue(byteFallbacks > 0, "the corpus should exercise byte fallback");
        assertEquals(tokenizer.bosId(), tokenizer.encode("x", true)[0], "a Llama-style tokenizer.model adds BOS");
        return tokenizer;
    }

    private static boolean onPath(String tool) {
        for (String p : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(p, tool))) return true;
        }
        return false;
    }

    private static String run(List<String> cmd, Path stdin) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
        if (stdin != null) pb.redirectInput(stdin.toFile());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) throw new IllegalStateException(cmd.get(0) + " failed: " + cmd);
        return out;
    }
}
