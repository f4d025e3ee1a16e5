package dev.sparkllm.engine.bench;

import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.api.RequestHandle;
import dev.sparkllm.engine.backend.ModelBackend;
import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepOutput;
import dev.sparkllm.engine.backend.sim.Roofline;
import dev.sparkllm.engine.backend.sim.SimulatedGpuBackend;
import dev.sparkllm.engine.core.Engine;
import dev.sparkllm.engine.core.EngineOptions;
import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.sampling.SamplingParams;
import dev.sparkllm.engine.tokenizer.IncrementalDecoder;
import dev.sparkllm.engine.tokenizer.Tokenizer;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Does the engine loop keep a GPU busy? Runs the engine on the {@link SimulatedGpuBackend} at the roofline of
 * Llama-2-70B GPTQ 4-bit on one H200 and measures, per step, the time the loop spends outside the backend
 * (sampling and updating the last step's sequences, then scheduling the next): on a GPU that is time the
 * device would sit idle. Reports it against the simulated step time, over the steps that ran a full batch.
 *
 * <p>Sampling runs on the simulated device by default, as the CUDA backend does it: the backend chooses the
 * tokens inside its step and only token ids reach the engine. {@code --sampling host} makes the backend return
 * the 32000 logits of each row and the engine choose on the host, the path of a logits backend.
 *
 * <pre>
 * java -cp engine/target/classes dev.sparkllm.engine.bench.SchedulerOverheadBenchmark \
 *     [--batch 256] [--requests 768] [--prompt 256] [--output 256] [--chunk 512] [--step-tokens 2048] [--greedy true]
 *     [--sampling device|host] [--sampling-threads 0 (automatic; host pool or simulated device sampling)]
 *     [--vocab 32000 (smaller only to see the loop without the sampling cost)]
 *     [--json FILE]
 * </pre>
 * The target is an overhead under 5 % of the simulated step time at 256 sequences. Two overhead figures: the
 * engine thread's CPU time (robust on a busy machine, but blind to sampling threads) and wall-clock time (the
 * real figure on an idle machine). Prints a table and a JSON line for the benchmark record.
 */
public final class SchedulerOverheadBenchmark {

    public static void main(String[] args) throws Exception {
        int batch = intArg(args, "--batch", 256);
        int requests = intArg(args, "--requests", 768);
        int prompt = intArg(args, "--prompt", 256);
        int output = intArg(args, "--output", 256);
        int chunk = intArg(args, "--chunk", 512);
        int stepTokens = intArg(args, "--step-tokens", 2048);
        boolean greedy = Boolean.parseBoolean(arg(args, "--greedy", "true"));
        int samplingThreads = intArg(args, "--sampling-threads", 0);
        String samplingPath = arg(args, "--sampling", "device");
        if (!samplingPath.equals("device") && !samplingPath.equals("host")) {
            throw new IllegalArgumentException("--sampling must be device or host, got " + samplingPath);
        }

        Roofline roofline = Roofline.llama2_70bGptq4bitOnH200();
        LlamaConfig base = SimulatedGpuBackend.llama2_70bConfig();
        int vocab = intArg(args, "--vocab", base.vocabSize()); // smaller only to separate sampling cost from the rest
        LlamaConfig config = new LlamaConfig(vocab, base.hiddenSize(), base.intermediateSize(), base.numLayers(),
                base.numHeads(), base.numKvHeads(), base.headDim(), base.maxPositionEmbeddings(), base.rmsNormEps(),
                base.rope(), base.tieWordEmbeddings(), base.bosTokenId(), base.eosTokenIds());
        int blocks = SimulatedGpuBackend.kvBlocksFitting(roofline, 141e9, 0.1, 16);
        EngineOptions options = new EngineOptions(batch, Math.max(stepTokens, batch), chunk, 4 * batch, true, 0, samplingThreads);
        int deviceSamplingThreads = samplingPath.equals("device") ? options.samplingThreads() : 0; // 0 resolved above
        StepClock clock = new StepClock(new SimulatedGpuBackend(config, 16, blocks, roofline, 1.0 / output, deviceSamplingThreads));

        Random r = new Random(7);
        int[] system = tokens(r, prompt / 4, config.vocabSize()); // a shared system prompt, as in a batch job
        List<RequestHandle> handles = new ArrayList<>();
        try (Engine engine = new Engine(clock, new NumberTokenizer(config.vocabSize()), options)) {
            for (int i = 0; i < requests; i++) {
                int[] p = Arrays.copyOf(system, prompt / 2 + r.nextInt(prompt));
                System.arraycopy(tokens(r, p.length - system.length, config.vocabSize()), 0, p, system.length, p.length - system.length);
                SamplingParams sp = greedy ? SamplingParams.greedy(output)
                        : new SamplingParams(0.7, 0, 0.9, 0, 1.1, 0, 0, output, 0, List.of(), new int[0], false, (long) i, -1);
                handles.add(engine.submit(new GenerationRequest("b" + i, p, sp), null)); // blocks when the queue is full
            }
            for (RequestHandle h : handles) h.await();
            String json = report(clock, batch, engine);
            System.out.println(json);
            String file = arg(args, "--json", null);
            if (file != null) java.nio.file.Files.writeString(java.nio.file.Path.of(file), json + "\n");
        }
    }

    /** Prints the table; returns the JSON line for the benchmark record. */
    private static String report(StepClock clock, int batch, Engine engine) {
        StringBuilder json = new StringBuilder(String.format(Locale.ROOT,
                "{\"benchmark\":\"scheduler-overhead\",\"backend\":\"simulated llama-2-70b gptq-4bit h200\",\"batch\":%d,"
                        + "\"vocab\":%d,\"sampling\":\"%s\",\"sampling_threads\":%d,\"cores\":%d,\"steps\":%d,"
                        + "\"simulation_late_ms\":%.3f",
                batch, engine.config().vocabSize(), samplingPath(engine), engine.options().samplingThreads(),
                Runtime.getRuntime().availableProcessors(), clock.steps(), clock.inner.lateNanos() / 1e6));
        System.out.printf(Locale.ROOT, "engine: %s%n", engine.metrics());
        System.out.printf(Locale.ROOT, "options: %s; %d cores%n", engine.options(), Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "sampling: %s (%d threads); backend: %s%n", samplingPath(engine),
                engine.options().samplingThreads(), clock.describe());
        System.out.printf(Locale.ROOT, "simulation late in sum: %.3f ms over %d steps (its own work beyond the predicted "
                + "device time; large values mean this machine cannot simulate the device in time)%n",
                clock.inner.lateNanos() / 1e6, clock.steps());
        System.out.printf(Locale.ROOT, "steps: %d; target: loop overhead < 5 %% of the simulated step at 256 sequences%n", clock.steps());
        for (boolean decodeOnly : new boolean[]{true, false}) {
            String what = decodeOnly ? "decode-only steps of " + batch + " sequences" : "all steps of " + batch + " sequences (decodes and prefill chunks)";
            long[] predicted = clock.measure(batch, decodeOnly, Measure.PREDICTED);
            if (predicted.length == 0) {
                System.out.printf("%s: none measured; submit more requests%n", what);
                continue;
            }
            double meanStep = mean(predicted);
            String key = decodeOnly ? "decode" : "all";
            json.append(String.format(Locale.ROOT, ",\"%s_steps\":%d,\"%s_step_ms\":%.3f,\"%s_overhead_cpu_ms\":%.3f,"
                            + "\"%s_overhead_wall_ms\":%.3f,\"%s_overhead_wall_pct\":%.2f",
                    key, predicted.length, key, meanStep / 1e6, key, mean(clock.measure(batch, decodeOnly, Measure.CPU)) / 1e6,
                    key, mean(clock.measure(batch, decodeOnly, Measure.WALL)) / 1e6,
                    key, 100 * mean(clock.measure(batch, decodeOnly, Measure.WALL)) / meanStep));
            System.out.printf(Locale.ROOT, "%s: %d measured%n", what, predicted.length);
            System.out.printf(Locale.ROOT, "  simulated (roofline) step: mean %.3f ms%n", meanStep / 1e6);
            for (Measure m : new Measure[]{Measure.CPU, Measure.WALL}) {
                long[] gaps = clock.measure(batch, decodeOnly, m);
                System.out.printf(Locale.ROOT, "  loop overhead before it, %s: mean %.3f ms, p50 %.3f ms, p99 %.3f ms, max %.3f ms = %.2f %% of the step%n",
                        m == Measure.CPU ? "engine-thread CPU" : "wall clock", mean(gaps) / 1e6, gaps[gaps.length / 2] / 1e6,
                        gaps[(int) (gaps.length * 0.99)] / 1e6, gaps[gaps.length - 1] / 1e6, 100 * mean(gaps) / meanStep);
            }
        }
        return json.append('}').toString();
    }

    private static String samplingPath(Engine engine) {
        return engine.samplesOnDevice() ? "device" : "host";
    }

    enum Measure { WALL, CPU, PREDICTED }

    /** Wraps the backend and records when each step's execute began and ended and how many chunks it had. */
    static final class StepClock implements ModelBackend {
        private final SimulatedGpuBackend inner;
        private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        // {start ns, end ns, chunks, tokens, predicted ns, engine thread CPU ns at start, at end}
        private final List<long[]> steps = new ArrayList<>();

        StepClock(SimulatedGpuBackend inner) { this.inner = inner; }

        @Override public LlamaConfig config() { return inner.config(); }
        @Override public int kvBlockSize() { return inner.kvBlockSize(); }
        @Override public int kvBlockCount() { return inner.kvBlockCount(); }
        @Override public String describe() { return inner.describe(); }
        @Override public boolean samplesTokens() { return inner.samplesTokens(); }
        @Override public void close() { inner.close(); }

        @Override
        public StepOutput execute(StepInput input) {
            long cpuStart = threads.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            StepOutput out = inner.execute(input);
            long end = System.nanoTime();
            steps.add(new long[]{start, end, input.chunks().size(), input.tokenCount(), inner.lastPredictedNanos(),
                    cpuStart, threads.getCurrentThreadCpuTime()});
            return out;
        }

        int steps() { return steps.size(); }

        /**
         * For each step of a full batch that follows a full-batch step, one of: the wall time between the previous
         * execute's end and this one's start ({@code WALL}), the engine thread's CPU time in that gap
         * ({@code CPU}), or the step's predicted device time ({@code PREDICTED}). {@code decodeOnly} keeps the
         * steps in which every sequence decodes one token.
         */
        long[] measure(int batch, boolean decodeOnly, Measure what) {
            List<Long> values = new ArrayList<>();
            for (int i = 1; i < steps.size(); i++) {
                long[] prev = steps.get(i - 1);
                long[] cur = steps.get(i);
                if (prev[2] != batch || !selected(cur, batch, decodeOnly)) continue;
                values.add(switch (what) {
                    case WALL -> cur[0] - prev[1];
                    case CPU -> cur[5] - prev[6];
                    case PREDICTED -> cur[4];
                });
            }
            return values.stream().mapToLong(Long::longValue).sorted().toArray();
        }

        private static boolean selected(long[] step, int batch, boolean decodeOnly) {
            return step[2] == batch && (!decodeOnly || step[3] == batch);
        }
    }

    /** Token {@code i} is the text {@code " <i>"}; 0, 1, 2 are unk, BOS, EOS. Costs next to nothing to decode. */
    static final class NumberTokenizer implements Tokenizer {
        private final int vocabSize;

        NumberTokenizer(int vocabSize) { this.vocabSize = vocabSize; }

        @Override public int vocabSize() { return vocabSize; }
        @Override public int[] encode(String text, boolean addSpecialTokens) { throw new IllegalStateException("the benchmark tokenizer only decodes: its requests are token ids"); }
        @Override public int[] encode(List<Segment> segments, boolean addSpecialTokens) { throw new IllegalStateException("the benchmark tokenizer only decodes: its requests are token ids"); }
        @Override public String decode(int[] ids, boolean skip) {
            StringBuilder sb = new StringBuilder();
            for (int id : ids) if (!isSpecial(id)) sb.append(' ').append(id);
            return sb.toString();
        }
        @Override public String tokenString(int id) { return " " + id; }
        @Override public int tokenId(String token) { return -1; }
        @Override public int bosId() { return 1; }
        @Override public int eosId() { return 2; }
        @Override public boolean addsBos() { return true; }
        @Override public boolean isSpecial(int id) { return id < 3; }

        @Override
        public IncrementalDecoder newDecoder() {
            return new IncrementalDecoder() {
                private final StringBuilder text = new StringBuilder();
                @Override public String append(int id) {
                    String s = isSpecial(id) ? "" : " " + id;
                    text.append(s);
                    return s;
                }
                @Override public String text() { return text.toString(); }
                @Override public String finish() { return ""; }
            };
        }
    }

    private static double mean(long[] values) {
        return Arrays.stream(values).average().orElse(0);
    }

    /** Random ordinary token ids (3 and up: not unk, BOS or EOS). Shared with the GPU benchmark. */
    static int[] tokens(Random r, int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 3 + r.nextInt(vocab - 3);
        return t;
    }

    /** The value after {@code name} on the command line, or {@code def}. Shared with the GPU benchmark. */
    static String arg(String[] args, String name, String def) {
        for (int i = 0; i + 1 < args.length; i++) if (args[i].equals(name)) return args[i + 1];
        return def;
    }

    private static int intArg(String[] args, String name, int def) {
        return Integer.parseInt(arg(args, name, String.valueOf(def)));
    }
}
