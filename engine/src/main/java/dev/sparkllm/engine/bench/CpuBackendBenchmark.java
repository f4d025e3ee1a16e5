package dev.sparkllm.engine.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepInput.Logits;
import dev.sparkllm.engine.backend.StepInput.SequenceChunk;
import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.cpu.CpuBackend;
import dev.sparkllm.engine.model.LlamaWeights;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Decode throughput of {@link CpuBackend}, driven directly (no scheduler, no sampler beyond argmax): for each
 * batch size, prefill a prompt of P random tokens per sequence in one step, run warm-up decode steps, then
 * time N decode steps of one token per sequence. Prints a table and JSON.
 *
 * <pre>
 * mvn -q -o -pl engine compile exec:java -Dexec.mainClass=dev.sparkllm.engine.bench.CpuBackendBenchmark \
 *     -Dexec.args="--model examples/models/kjv-tiny-gptq-4bit-128g-actorder --threads 2 --batch 1,32 --prompt 32 --steps 128"
 * </pre>
 * On a machine shared with other work, read the {@code cpu ms/step} column beside the wall-clock ones.
 */
public final class CpuBackendBenchmark {

    /** Command-line settings; {@code --help} lists them. */
    record Options(Path model, int threads, int[] batches, int prompt, int warmup, int steps, int blockSize,
                   long seed, Path json) {

        static Options parse(String[] args) {
            Path model = null;
            Path json = null;
            int threads = Runtime.getRuntime().availableProcessors();
            int[] batches = {1, 32};
            int prompt = 32;
            int warmup = 32;
            int steps = 128;
            int blockSize = 16;
            long seed = 1;
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--model" -> { model = Path.of(need(args[i], value)); i++; }
                    case "--threads" -> { threads = Integer.parseInt(need(args[i], value)); i++; }
                    case "--batch" -> { batches = Arrays.stream(need(args[i], value).split(",")).mapToInt(Integer::parseInt).toArray(); i++; }
                    case "--prompt" -> { prompt = Integer.parseInt(need(args[i], value)); i++; }
                    case "--warmup" -> { warmup = Integer.parseInt(need(args[i], value)); i++; }
                    case "--steps" -> { steps = Integer.parseInt(need(args[i], value)); i++; }
                    case "--block-size" -> { blockSize = Integer.parseInt(need(args[i], value)); i++; }
                    case "--seed" -> { seed = Long.parseLong(need(args[i], value)); i++; }
                    case "--json" -> { json = Path.of(need(args[i], value)); i++; }
                    case "--help", "-h" -> throw new IllegalArgumentException(USAGE);
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + "\n" + USAGE);
                }
            }
            if (model == null) throw new IllegalArgumentException("--model is required\n" + USAGE);
            if (prompt < 1 || steps < 1 || warmup < 0 || threads < 1) {
                throw new IllegalArgumentException("--prompt, --steps and --threads must be positive, --warmup not negative");
            }
            return new Options(model, threads, batches, prompt, warmup, steps, blockSize, seed, json);
        }

        private static String need(String option, String value) {
            if (value == null) throw new IllegalArgumentException(option + " needs a value\n" + USAGE);
            return value;
        }
    }

    static final String USAGE = """
            usage: CpuBackendBenchmark --model DIR [--threads T] [--batch 1,32] [--prompt P] [--warmup W]
                                       [--steps N] [--block-size 16] [--seed 1] [--json FILE]
              DIR       a Hugging Face model directory (GPTQ or fp16 Llama)
              T         worker threads (default: available processors)
              P, W, N   prompt tokens per sequence, untimed warm-up decode steps, timed decode steps""";

    /** One batch size's measurement. */
    record Result(int batch, int promptTokens, double prefillSeconds, int decodeSteps, double decodeSeconds,
                  double stepMsMedian, double cpuSeconds) {

        double prefillTokensPerSecond() { return batch * promptTokens / prefillSeconds; }

        double decodeTokensPerSecond() { return batch * (double) decodeSteps / decodeSeconds; }

        double stepMsMean() { return decodeSeconds * 1000 / decodeSteps; }

        /** CPU time of the whole process per timed step: on a machine shared with other work, the steadier figure. */
        double cpuMsPerStep() { return cpuSeconds * 1000 / decodeSteps; }
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        LlamaWeights weights;
        try (ModelDirectory dir = ModelDirectory.open(options.model())) {
            weights = dir.loadWeights();
        }
        List<Result> results = new ArrayList<>();
        String backendName = null;
        for (int batch : options.batches()) {
            try (CpuBackend backend = newBackend(weights, options, batch)) {
                backendName = backend.describe();
                results.add(run(backend, options, batch));
            }
        }
        printTable(options, backendName, results);
        String json = toJson(options, backendName, results);
        System.out.println(json);
        if (options.json() != null) Files.writeString(options.json(), json + "\n");
    }

    private static CpuBackend newBackend(LlamaWeights weights, Options o, int batch) {
        int positions = o.prompt() + o.warmup() + o.steps();
        int blocksPerSequence = (positions + o.blockSize() - 1) / o.blockSize();
        return new CpuBackend(weights, o.blockSize(), batch * blocksPerSequence, o.threads());
    }

    /** Prefills every sequence in one step, then decodes greedily; times the prefill and the timed decode steps. */
    static Result run(CpuBackend backend, Options o, int batch) {
        int vocab = backend.config().vocabSize();
        int blocksPerSequence = backend.kvBlockCount() / batch;
        Random random = new Random(o.seed());
        int[][] blockTables = new int[batch][blocksPerSequence];
        List<SequenceChunk> prompts = new ArrayList<>();
        for (int s = 0; s < batch; s++) {
            for (int b = 0; b < blocksPerSequence; b++) blockTables[s][b] = s * blocksPerSequence + b;
            int[] prompt = new int[o.prompt()];
            for (int t = 0; t < prompt.length; t++) prompt[t] = 3 + random.nextInt(vocab - 3); // skip unk, bos, eos
            prompts.add(new SequenceChunk(s, prompt, 0, blockTables[s], Logits.LAST));
        }

        long start = System.nanoTime();
        List<float[]> logits = backend.execute(new StepInput(prompts)).logits();
        double prefillSeconds = (System.nanoTime() - start) / 1e9;

        long[] stepNanos = new long[o.steps()];
        long cpuStart = 0;
        int position = o.prompt();
        for (int step = 0; step < o.warmup() + o.steps(); step++, position++) {
            List<SequenceChunk> decode = new ArrayList<>(batch);
            for (int s = 0; s < batch; s++) {
                decode.add(new SequenceChunk(s, new int[] {argmax(logits.get(s))}, position, blockTables[s], Logits.LAST));
            }
            if (step == o.warmup()) cpuStart = processCpuNanos();
            long t0 = System.nanoTime();
            logits = backend.execute(new StepInput(decode)).logits();
            if (step >= o.warmup()) stepNanos[step - o.warmup()] = System.nanoTime() - t0;
        }
        long cpu = processCpuNanos() - cpuStart;
        long total = Arrays.stream(stepNanos).sum();
        long[] sorted = stepNanos.clone();
        Arrays.sort(sorted);
        return new Result(batch, o.prompt(), prefillSeconds, o.steps(), total / 1e9, sorted[sorted.length / 2] / 1e6, cpu / 1e9);
    }

    /** CPU time used by this JVM so far (all threads), or 0 where the JVM does not say. */
    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return 0;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private static void printTable(Options o, String backend, List<Result> results) {
        System.out.printf("model %s, %s, prompt %d tokens, %d warm-up + %d timed decode steps%n",
                o.model(), backend, o.prompt(), o.warmup(), o.steps());
        System.out.printf("%6s %14s %14s %14s %14s %14s%n", "batch", "prefill tok/s", "decode tok/s", "ms/step mean",
                "ms/step p50", "cpu ms/step");
        for (Result r : results) {
            System.out.printf("%6d %14.1f %14.1f %14.3f %14.3f %14.3f%n", r.batch(), r.prefillTokensPerSecond(),
                    r.decodeTokensPerSecond(), r.stepMsMean(), r.stepMsMedian(), r.cpuMsPerStep());
        }
    }

    private static String toJson(Options o, String backend, List<Result> results) throws Exception {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("benchmark", "cpu-backend-decode");
        root.put("model", o.model().toString());
        root.put("backend", backend);
        root.put("threads", o.threads());
        root.put("promptTokens", o.prompt());
        root.put("warmupSteps", o.warmup());
        root.put("timedSteps", o.steps());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Result r : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("batch", r.batch());
            row.put("prefillTokensPerSecond", round(r.prefillTokensPerSecond()));
            row.put("decodeTokensPerSecond", round(r.decodeTokensPerSecond()));
            row.put("msPerStepMean", round(r.stepMsMean()));
            row.put("msPerStepMedian", round(r.stepMsMedian()));
            row.put("cpuMsPerStep", round(r.cpuMsPerStep()));
            rows.add(row);
        }
        root.put("results", rows);
        return new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root);
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
