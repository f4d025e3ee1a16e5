package dev.sparkllm.engine.cli;

import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.Engines;
import dev.sparkllm.engine.backend.ModelBackend;
import dev.sparkllm.engine.eval.Perplexity;
import dev.sparkllm.engine.tokenizer.Tokenizer;
import dev.sparkllm.engine.tokenizer.TokenizerLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code llm perplexity}: how well a model predicts a text file, one document per line. */
@Command(name = "perplexity", mixinStandardHelpOptions = true,
        description = "Perplexity on a text file: each line is a document (BOS ... EOS); the token stream is cut into "
                + "windows of W+1 tokens overlapping by one, each scored on its own.")
final class PerplexityCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory")
    Path model;

    @Option(names = "--file", required = true, paramLabel = "TEXT", description = "text file, one document per line")
    Path file;

    @Option(names = "--window", defaultValue = "256", paramLabel = "W", description = "tokens of context per window (default 256)")
    int window;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores)")
    Integer threads;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEVICE",
            description = "cpu (default), cuda, cuda:N, or auto (the GPU when there is one)")
    String device;

    @Option(names = "--json", description = "print a JSON object")
    boolean json;

    @Mixin
    TokenizerModeFlag tokenizerMode;

    @Override
    public Integer call() throws Exception {
        if (window < 1) throw new IllegalArgumentException("--window must be at least 1, got " + window);
        List<String> documents = Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
        if (documents.isEmpty()) throw new IllegalArgumentException(file + " has no non-blank lines");
        ModelDirectory dir = ModelDirectory.open(model);
        Tokenizer tokenizer = TokenizerLoader.load(model, tokenizerMode.mode());
        int[] stream = Perplexity.stream(tokenizer, documents);
        Perplexity.Result r;
        Map<String, String> options = new HashMap<>();
        if (threads != null) options.put("threads", threads.toString());
        try (ModelBackend backend = Engines.openBackend(dir, device, options, window + 1, window + 1, 1)) {
            r = Perplexity.compute(backend, stream, window);
        }
        if (json) {
            System.out.println(JsonOutput.MAPPER.createObjectNode().put("model", model.toString()).put("file", file.toString())
                    .put("perplexity", r.perplexity()).put("tokens", r.tokens()).put("window", r.window()));
        } else {
            System.out.printf("perplexity %.4f over %d tokens (window %d)%n", r.perplexity(), r.tokens(), r.window());
        }
        return 0;
    }
}
