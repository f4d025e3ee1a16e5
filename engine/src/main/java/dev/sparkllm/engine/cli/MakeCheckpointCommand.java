package dev.sparkllm.engine.cli;

import dev.sparkllm.engine.checkpoint.synthetic.CheckpointSpec;
import dev.sparkllm.engine.checkpoint.synthetic.LlamaShape;
import dev.sparkllm.engine.checkpoint.synthetic.SafetensorsLayout;
import dev.sparkllm.engine.checkpoint.synthetic.SyntheticCheckpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code llm make-checkpoint}: a synthetic GPTQ checkpoint in the reference model's exact layout, streamed to disk. */
@Command(name = "make-checkpoint", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write a synthetic GPTQ checkpoint in the reference model's exact layout.",
                "The model directory of a branch of TheBloke/Llama-2-70B-chat-GPTQ (or its",
                "7B/13B siblings): config.json, generation_config.json, quantize_config.json,",
                "tokenizer files (synthetic vocabulary) and one safetensors file of random",
                "AutoGPTQ tensors, streamed to disk. For load, memory and speed tests: the",
                "model generates gibberish. Sizes: 70B 4-bit 35.33 GB (group -1) to 40.66 GB",
                "(group 32), 70B 3-bit 26.77 to 31.84 GB, 7B 4-bit g128 3.90 GB."})
final class MakeCheckpointCommand implements Callable<Integer> {

    @Option(names = "--shape", required = true, paramLabel = "7b|13b|70b|tiny",
            description = "Llama-2 dimensions; tiny is a few-MB model for tests (vocabulary 32000, 2 layers of width 256)")
    String shape;

    @Option(names = "--bits", defaultValue = "4", paramLabel = "4|3", description = "bits per weight (default 4; 2 and 8 also work)")
    int bits;

    @Option(names = "--group", defaultValue = "128", paramLabel = "32|64|128|-1",
            description = "group size; -1: one group per column (default 128)")
    int group;

    @Option(names = "--act-order", defaultValue = "true", arity = "1", paramLabel = "true|false",
            description = "desc_act: g_idx from a random permutation (default true)")
    String actOrder;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "the model directory to write")
    Path out;

    @Option(names = "--layers", paramLabel = "N", description = "override the shape's number of layers (e.g. 1 for a quick file)")
    Integer layers;

    @Option(names = "--file-base-name", defaultValue = "model", paramLabel = "NAME",
            description = "weights file NAME.safetensors and model_file_base_name (default model, as the reference branches;"
                    + " older uploads used e.g. gptq_model-4bit-128g)")
    String fileBaseName;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "seed of the random weights (default 0)")
    long seed;

    @Option(names = "--threads", paramLabel = "N", description = "threads making the data (default: processors, at most 4)")
    Integer threads;

    @Option(names = "--force", description = "write into a DIR that is not empty, replacing its checkpoint files")
    boolean force;

    @Option(names = "--dry-run", description = "print the layout and size, write nothing")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
        LlamaShape s = LlamaShape.named(shape);
        if (layers != null) s = s.withLayers(layers);
        CheckpointSpec spec = new CheckpointSpec(s, bits, group, parseBoolean(actOrder), fileBaseName, seed);
        SafetensorsLayout layout = SyntheticCheckpoint.layout(spec);
        PrintStream stdout = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        stdout.println(spec.describe() + " -> " + out.resolve(spec.fileName()));
        stdout.printf(Locale.ROOT, "  %d tensors, %d bytes (%.2f GB): header %d B", layout.tensors().size(), layout.fileSize(),
                layout.fileSize() / 1e9, layout.headerBytes().length);
        layout.bytesByKind().forEach((k, v) -> stdout.printf(Locale.ROOT, ", %s %.3f GB", k, v / 1e9));
        stdout.println();
        if (dryRun) return 0;

        if (!force && Files.isDirectory(out)) {
            try (Stream<Path> entries = Files.list(out)) {
                if (entries.findAny().isPresent()) {
                    throw new IllegalArgumentException(out + " is not empty; pass --force to write the checkpoint into it anyway");
                }
            }
        }
        int n = threads != null ? threads : Math.min(4, Runtime.getRuntime().availableProcessors());
        ProgressPrinter progress = new ProgressPrinter(System.err);
        SyntheticCheckpoint.Result r = SyntheticCheckpoint.write(spec, out, n, commandLine(spec), progress);
        stdout.printf(Locale.ROOT, "wrote %s: %d bytes in %.1f s, %.2f GB/s (flushed to disk), %d threads%n",
                r.weights(), r.bytes(), r.nanos() / 1e9, r.gbPerSecond(), n);
        return 0;
    }

    private static boolean parseBoolean(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("--act-order must be true or false, got '" + value + "'");
        };
    }

    private String commandLine(CheckpointSpec spec) {
        return "bin/llm make-checkpoint --shape " + spec.shape().name() + " --bits " + spec.bits() + " --group " + spec.groupSize()
                + " --act-order " + spec.actOrder() + (layers != null ? " --layers " + layers : "")
                + (fileBaseName.equals("model") ? "" : " --file-base-name " + fileBaseName)
                + " --seed " + spec.seed() + " --out " + out.getFileName();
    }

    /** A line on standard error at most every two seconds: bytes written, speed, time left. */
    static final class ProgressPrinter implements SyntheticCheckpoint.Progress {
        private final PrintStream err;
        private long lastPrint;

        ProgressPrinter(PrintStream err) {
            this.err = err;
        }

        @Override
        public void written(long bytes, long totalBytes, long elapsedNanos) {
            if (elapsedNanos - lastPrint < 2_000_000_000L || bytes == totalBytes) return;
            lastPrint = elapsedNanos;
            double gbPerS = bytes / (double) elapsedNanos;
            err.printf(Locale.ROOT, "  %.2f / %.2f GB (%d%%), %.2f GB/s, %.0f s left%n", bytes / 1e9, totalBytes / 1e9,
                    bytes * 100 / totalBytes, gbPerS, (totalBytes - bytes) / gbPerS / 1e9);
        }
    }
}
