package dev.sparkllm.engine.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.checkpoint.synthetic.CheckpointSpec;
import dev.sparkllm.engine.checkpoint.synthetic.LlamaShape;
import dev.sparkllm.engine.checkpoint.synthetic.SyntheticCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code llm make-checkpoint} through {@link Main#run}, and in a JVM whose heap is far smaller than the file. */
class MakeCheckpointCommandTest {

    @Test
    void dryRunPrintsTheLayoutAndWritesNothing(@TempDir Path tmp) {
        Path out = tmp.resolve("70b");
        CommandLineTest.Run r = CommandLineTest.run("make-checkpoint", "--shape", "70b", "--bits", "4", "--group", "-1",
                "--act-order", "true", "--out", out.toString(), "--dry-run");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("Llama-2 70b shape (80 layers), 4-bit GPTQ, group none (-1), act-order true"), r.out());
        assertTrue(r.out().contains("2963 tensors, 35332203432 bytes (35.33 GB)"), r.out());
        assertFalse(Files.exists(out));
    }

    @Test
    void writesATinyCheckpointThatGenerates(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("tiny");
        CommandLineTest.Run r = CommandLineTest.run("make-checkpoint", "--shape", "tiny", "--bits", "3", "--group", "128",
                "--act-order", "true", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().matches("(?s).*wrote .*model\\.safetensors: \\d+ bytes in [0-9.]+ s, [0-9.]+ GB/s.*"), r.out());
        for (String f : List.of("config.json", "generation_config.json", "quantize_config.json", "tokenizer.json",
                "tokenizer_config.json", "special_tokens_map.json", "README.md", "model.safetensors")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        assertTrue(Files.readString(out.resolve("README.md")).contains("synthetic"));

        CommandLineTest.Run g = CommandLineTest.run("generate", "--model", out.toString(), "--prompt", "hi",
                "--max-new-tokens", "2", "--temperature", "0", "--json");
        assertEquals(0, g.exitCode(), g.err());
        JsonNode o = g.jsonLines().get(0);
        assertTrue(o.get("error").isNull(), o.toString());
        assertTrue(o.get("completion_tokens").asInt() >= 1, o.toString());
    }

    @Test
    void refusesBadSettingsAndANonEmptyDirectory(@TempDir Path tmp) throws Exception {
        String dir = tmp.toString();
        Files.writeString(tmp.resolve("notes.txt"), "mine");
        CommandLineTest.Run r = CommandLineTest.run("make-checkpoint", "--shape", "tiny", "--out", dir);
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("is not empty; pass --force"), r.err());
        r = CommandLineTest.run("make-checkpoint", "--shape", "tiny", "--act-order", "yes", "--out", dir);
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--act-order must be true or false"), r.err());
        r = CommandLineTest.run("make-checkpoint", "--shape", "65b", "--out", dir);
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("unknown shape '65b'"), r.err());
        r = CommandLineTest.run("make-checkpoint", "--shape", "70b", "--group", "100", "--out", dir);
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("group size 100 does not divide"), r.err());
        r = CommandLineTest.run("make-checkpoint", "--shape", "7b", "--bits", "5", "--out", dir);
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--bits 5"), r.err());
        assertEquals(List.of(tmp.resolve("notes.txt")), Files.list(tmp).toList());
    }

    /** The weights file named as older uploads named it (main branches: gptq_model-4bit-128g), rewritten with --force. */
    @Test
    void fileBaseNameNamesTheWeightsAndForceRewrites(@TempDir Path tmp) throws Exception {
        String[] args = {"make-checkpoint", "--shape", "tiny", "--bits", "4", "--group", "128", "--act-order", "false",
                "--file-base-name", "gptq_model-4bit-128g", "--out", tmp.toString()};
        assertEquals(0, CommandLineTest.run(args).exitCode());
        assertEquals(2, CommandLineTest.run(args).exitCode(), "a second write needs --force");
        List<String> again = new ArrayList<>(List.of(args));
        again.addAll(List.of("--force", "--seed", "3"));
        CommandLineTest.Run r = CommandLineTest.run(again.toArray(new String[0]));
        assertEquals(0, r.exitCode(), r.err());
        try (ModelDirectory model = ModelDirectory.open(tmp)) {
            assertEquals(List.of(tmp.resolve("gptq_model-4bit-128g.safetensors")), model.weightFiles());
            assertEquals("gptq_model-4bit-128g", model.quantization().orElseThrow().modelFileBaseName());
            assertFalse(model.quantization().orElseThrow().descAct());
        }
        assertTrue(Files.readString(tmp.resolve("README.md")).contains("--seed 3"));
    }

    /** A 0.63 GB file (7B widths, one layer) from a JVM with a 32 MB heap: the weights are streamed, never held. */
    @Test
    void streamsAFileManyTimesTheHeap(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("7b-1layer");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx32m", "-XX:MaxDirectMemorySize=32m", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "make-checkpoint", "--shape", "7b", "--layers", "1", "--bits", "4", "--group", "128", "--act-order", "true",
                "--threads", "2", "--out", out.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), output);
        long expected = SyntheticCheckpoint.layout(new CheckpointSpec(LlamaShape.LLAMA2_7B.withLayers(1), 4, 128, true, "model", 0)).fileSize();
        assertTrue(expected > 18L * 32 * 1024 * 1024, "the file is more than eighteen heaps");
        assertEquals(expected, Files.size(out.resolve("model.safetensors")));
        assertTrue(output.contains("GB/s"), output);
        try (ModelDirectory model = ModelDirectory.open(out)) {
            assertEquals(1, model.config().numLayers());
            assertEquals(4096, model.config().hiddenSize());
        }
    }
}
