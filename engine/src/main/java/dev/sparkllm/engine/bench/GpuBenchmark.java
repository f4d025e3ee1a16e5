package dev.sparkllm.engine.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.checkpoint.QuantizationConfig;
import dev.sparkllm.engine.core.Engine;
import dev.sparkllm.engine.core.EngineOptions;
import dev.sparkllm.engine.cuda.CudaBackend;
import dev.sparkllm.engine.cuda.GpuKernelTimings;
import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.sampling.SamplingParams;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static dev.sparkllm.engine.bench.SchedulerOverheadBenchmark.arg;
import static dev.sparkllm.engine.bench.SchedulerOverheadBenchmark.tokens;

/**
 * {@code llm bench gpu}: the CUDA backend on a model with random GPTQ weights made on the GPU, at Llama-2 7B, 13B
 * or 70B shape (any bits, group and act-order, with a non-trivial g_idx): single-stream decode, batched
 * throughput through the engine (128-token prompts, 256 new tokens, EOS ignored, generated tokens over wall time
 * including prefill), prefill tokens/s and TFLOP/s, each GPTQ product's time and bandwidth per 70B layer shape and
 * batch, the card's read bandwidth, and a per-kernel breakdown of a decode step at batch 1 and 256. Writes one
 * JSON file (BENCHMARKS.md says how the results were run); peer figures measured in the same call by
 * {@code engine/src/test/scripts/gpu_peers.py} are merged in with {@code --peers FILE}.
 */
public final class GpuBenchmark {

    private GpuBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        String shape = arg(args, "--shape", "70b");
        int bits = Integer.parseInt(arg(args, "--bits", "4"));
        int group = Integer.parseInt(arg(args, "--group", "128"));
        boolean actOrder = Boolean.parseBoolean(arg(args, "--act-order", "true"));
        int[] batches = ints(arg(args, "--batches", "1,16,64,256"));
        int[] breakdownBatches = ints(arg(args, "--breakdown", "1,256"));
        int prompt = Integer.parseInt(arg(args, "--prompt", "128"));
        int newTokens = Integer.parseInt(arg(args, "--new", "256"));
        int prefill = Integer.parseInt(arg(args, "--prefill", "2048"));
        boolean kernels = !Boolean.parseBoolean(arg(args, "--no-kernels", "false"));
        String device = arg(args, "--device", "cuda:0");
        Path out = Path.of(arg(args, "--out", "gpu-bench.json"));
        String peers = arg(args, "--peers", null);
        String model = arg(args, "--model", null);
        String layers = arg(args, "--layers", null);
        double memoryShare = Double.parseDouble(arg(args, "--gpu-memory-utilization", "0.85"));
        if (Arrays.asList(args).contains("--help")) {
            System.out.println("llm bench gpu [--model CHECKPOINT_DIR | --shape 7b|13b|70b [--bits 4|3] [--group 128|64|32|-1]"
                    + " [--act-order true|false]]"
                    + " [--batches 1,16,64,256] [--breakdown 1,256] [--prompt 128] [--new 256] [--prefill 2048 (0: none)]"
                    + " [--no-kernels true] [--layers N (random shapes: fewer layers, e.g. for a profiler)]"
                    + " [--gpu-memory-utilization 0.85]"
                    + " [--device cuda:0] [--out FILE] [--peers FILE] [--commit SHA]");
            return;
        }
        ModelDirectory dir = model != null ? ModelDirectory.open(Path.of(model)) : null;
        if (dir != null) {
            QuantizationConfig q = dir.quantization().orElseThrow(() -> new IllegalArgumentException(
                    model + " is not a GPTQ checkpoint; bench gpu measures GPTQ models"));
            shape = dir.path().getFileName().toString();
            bits = q.bits();
            group = q.groupSize();
            actOrder = q.descAct();
        }
        LlamaConfig c = dir != null ? dir.config() : shape(shape);
        if (layers != null) {
            if (dir != null) throw new IllegalArgumentException("--layers applies to random shapes, not to --model");
            c = withLayers(c, Integer.parseInt(layers));
        }
        if (!(memoryShare > 0 && memoryShare <= 1)) {
            throw new IllegalArgumentException("--gpu-memory-utilization must be in (0, 1], got " + memoryShare);
        }
        int maxBatch = Math.max(Arrays.stream(batches).max().orElse(1), Arrays.stream(breakdownBatches).max().orElse(1));
        int maxRows = Math.max(prefill, Math.max(2048, maxBatch));
        int context = Math.max(prompt + newTokens, prefill) + 16;
        ObjectMapper json = new ObjectMapper();
        ObjectNode r = json.createObjectNode();
        r.put("commit", arg(args, "--commit", "unknown"));
        r.put("command", "llm bench gpu " + String.join(" ", args));
        r.put("date", Instant.now().toString());
        r.put("shape", shape);
        r.put("bits", bits);
        r.put("group_size", group);
        r.put("act_order", actOrder);
        r.put("kernel_variants", CudaBackend.kernelVariants());

        int ordinal = Integer.parseInt(device.substring(5));
        try (CudaBackend backend = dir != null ? CudaBackend.open(dir, ordinal, maxRows, 16, memoryShare, 0, context)
                : CudaBackend.openRandom(c, bits, group, actOrder, ordinal, maxRows, 16, memoryShare, context)) {
            r.put("device", backend.describe());
            if (dir != null) {
                r.put("model", dir.path().toString());
                r.put("load_seconds", backend.loadSeconds());
                r.put("load_gb_s", backend.loadGbPerSecond());
                double rssGb = peakResidentBytes() / 1e9;  // read right after the load, before the benchmark's own use
                r.put("load_rss_gb", rssGb);
                System.out.printf("loaded %s in %.1f s (%.2f GB/s), peak resident memory %.2f GB%n", dir.path(),
                        backend.loadSeconds(), backend.loadGbPerSecond(), rssGb);
            }
            r.put("weights_gb", backend.weightBytes() / 1e9);
            r.put("kv_blocks", backend.kvBlockCount());
            double readTbs = GpuKernelTimings.readBandwidth(backend, 2L << 30);
            r.put("read_tb_s", readTbs);
            System.out.printf("%s: %s, weights %.1f GB, read bandwidth %.2f TB/s%n", shape, backend.describe(), backend.weightBytes() / 1e9, readTbs);

            if (kernels) {
                int h = c.hiddenSize();
                List<Object[]> shapes = List.of(new Object[]{"qkv", h, c.qDim() + 2 * c.kvDim()}, new Object[]{"o", c.qDim(), h},
                        new Object[]{"gate_up", h, 2 * c.intermediateSize()}, new Object[]{"down", c.intermediateSize(), h});
                ArrayNode rows = r.putArray("kernels");
                for (GpuKernelTimings.ProductTiming t : GpuKernelTimings.products(backend, shapes, new int[]{1, 16, 64, 128, 256},
                        bits, group, actOrder, 20, 4)) {
                    rows.addObject().put("shape", t.shape()).put("k", t.in()).put("n", t.out()).put("batch", t.batch())
                            .put("ms", t.ms()).put("tb_s", t.tbPerSecond());
                    System.out.printf("  product %-8s batch %3d: %.4f ms, %.2f TB/s%n", t.shape(), t.batch(), t.ms(), t.tbPerSecond());
                }
            }

            Engine engine = new Engine(backend, new SchedulerOverheadBenchmark.NumberTokenizer(c.vocabSize()),
                    new EngineOptions(maxBatch, Math.max(2048, maxBatch), Math.max(prefill, 512), 4096, false, context));
            // prefill: one long prompt, one new token; the time to it is the prefill
            if (prefill > 0) {
                prefillRun(engine, c, prefill, 1); // warm-up
                double prefillSeconds = prefillRun(engine, c, prefill, 1);
                double flops = 2.0 * parameters(c) * prefill + attentionFlops(c, prefill);
                r.put("prefill_tokens", prefill);
                r.put("prefill_tok_s", prefill / prefillSeconds);
                r.put("prefill_tflops", flops / prefillSeconds / 1e12);
                System.out.printf("  prefill %d tokens: %.3f s, %.0f tok/s, %.0f TFLOP/s%n", prefill, prefillSeconds, prefill / prefillSeconds,
                        flops / prefillSeconds / 1e12);
            }

            ObjectNode decode = r.putObject("decode_tok_s");
            for (int b : batches) {
                double[] res = decodeRun(engine, c, b, prompt, newTokens);
                decode.put(String.valueOf(b), res[0]);
                System.out.printf("  %3d in flight: %.1f tok/s generated over wall time (decode only %.1f tok/s)%n", b, res[0], res[1]);
                if (b == 1) r.put("single_stream_decode_tok_s", res[1]);
            }

            ObjectNode breakdown = r.putObject("breakdown");
            for (int b : breakdownBatches) {
                StepInput step = decodeStep(backend, b, prompt + newTokens / 2);
                long t0 = System.nanoTime();
                backend.execute(step);
                double stepMs = (System.nanoTime() - t0) / 1e6;
                Map<String, double[]> k = GpuKernelTimings.breakdown(backend, step);
                ObjectNode node = breakdown.putObject(String.valueOf(b));
                node.put("step_ms_graph", stepMs);
                double total = 0;
                ObjectNode per = node.putObject("kernels_ms");
                for (Map.Entry<String, double[]> e : k.entrySet()) {
                    per.put(e.getKey(), e.getValue()[0]);
                    total += e.getValue()[0];
                }
                node.put("kernels_total_ms", total);
                System.out.printf("  breakdown at batch %d: step %.2f ms (graph), kernels %.2f ms: %s%n", b, stepMs, total, per);
            }
            engine.close();
        } finally {
            if (dir != null) dir.close();
        }
        if (peers != null && Files.exists(Path.of(peers))) {
            JsonNode p = json.readTree(Path.of(peers).toFile());
            r.set("peers", p);
            addPeerTimes(r.path("kernels"), p.path("kernels"));
        }
        json.writerWithDefaultPrettyPrinter().writeValue(out.toFile(), r);
        System.out.println("wrote " + out);
    }

    /**
     * Puts the peers' times at the same shape and batch ({@code fp16_ms}: fp16 {@code torch.matmul}, {@code int4_ms}:
     * torch's int4 kernel, both timed in the same call by gpu_peers.py) into each of our kernel rows, so a row reads
     * as a comparison on its own.
     */
    static void addPeerTimes(JsonNode ours, JsonNode theirs) {
        for (JsonNode row : ours) {
            for (JsonNode peer : theirs) {
                if (peer.path("shape").asText().equals(row.path("shape").asText()) && peer.path("batch").asInt() == row.path("batch").asInt()
                        && peer.path("k").asInt() == row.path("k").asInt() && peer.path("n").asInt() == row.path("n").asInt()) {
                    for (String key : List.of("fp16_ms", "int4_ms")) {
                        if (peer.hasNonNull(key)) ((ObjectNode) row).put(key, peer.get(key).asDouble());
                    }
                }
            }
        }
    }

    /** Seconds from submitting {@code n} prompts of {@code length} tokens to their first (only) token. */
    private static double prefillRun(Engine engine, LlamaConfig c, int length, int n) throws InterruptedException {
        Random rnd = new Random(length);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < n; i++) requests.add(new GenerationRequest("p" + i, tokens(rnd, length, c.vocabSize()), params(1)));
        long t0 = System.nanoTime();
        engine.generate(requests);
        return (System.nanoTime() - t0) / 1e9;
    }

    /** {generated tokens per second of wall time including prefill, decode-only tokens per second}. */
    private static double[] decodeRun(Engine engine, LlamaConfig c, int batch, int prompt, int newTokens) throws InterruptedException {
        Random rnd = new Random(batch);
        List<GenerationRequest> requests = new ArrayList<>();
        for (int i = 0; i < batch; i++) requests.add(new GenerationRequest("d" + i, tokens(rnd, prompt, c.vocabSize()), params(newTokens)));
        // time to the first tokens (prefill) from a run with one new token, then the full run
        long t0 = System.nanoTime();
        List<GenerationResult> results = engine.generate(requests);
        double seconds = (System.nanoTime() - t0) / 1e9;
        long generated = results.stream().mapToLong(x -> x.tokenIds().length).sum();
        double prefillSeconds = prefillRun(engine, c, prompt, batch);
        double decodeSeconds = Math.max(1e-9, seconds - prefillSeconds);
        return new double[]{generated / seconds, batch * (newTokens - 1) / decodeSeconds};
    }

    /** The process's peak resident memory (VmHWM), or 0 where /proc is not there. */
    static long peakResidentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux: nothing to report
        }
        return 0;
    }

    private static int[] ints(String list) {
        return list.isBlank() ? new int[0] : Arrays.stream(list.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    private static SamplingParams params(int newTokens) {
        return new SamplingParams(0, 0, 1, 0, 1, 0, 0, newTokens, 0, List.of(), new int[0], true, null, -1);
    }

    /** A decode step of {@code batch} sequences at position {@code position}, each with its own blocks. */
    private static StepInput decodeStep(CudaBackend backend, int batch, int position) {
        int bs = backend.kvBlockSize();
        int blocks = position / bs + 1;
        List<StepInput.SequenceChunk> chunks = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            int[] table = new int[blocks];
            for (int j = 0; j < blocks; j++) table[j] = (i * blocks + j) % backend.kvBlockCount();
            chunks.add(new StepInput.SequenceChunk(i, new int[]{5 + i}, position, table, StepInput.Logits.LAST));
        }
        return new StepInput(chunks);
    }

    static long parameters(LlamaConfig c) {
        long perLayer = (long) c.hiddenSize() * (c.qDim() + 2L * c.kvDim()) + (long) c.qDim() * c.hiddenSize()
                + 3L * c.hiddenSize() * c.intermediateSize();
        return perLayer * c.numLayers() + (long) c.hiddenSize() * c.vocabSize();
    }

    /** Attention's matrix products over a causal prompt: QKᵀ and PV, half the square. */
    static double attentionFlops(LlamaConfig c, int n) {
        return 2.0 * 2 * c.numLayers() * c.qDim() * (double) n * n / 2;
    }

    /**
     * The shape with {@code n} layers: every kernel keeps its launch shape, the model its per-layer work, and a
     * profiler that saves and restores device memory around each replayed kernel has little to save.
     */
    static LlamaConfig withLayers(LlamaConfig c, int n) {
        if (n < 1 || n > c.numLayers()) throw new IllegalArgumentException("--layers must be 1.." + c.numLayers() + ", got " + n);
        return new LlamaConfig(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), n, c.numHeads(), c.numKvHeads(), c.headDim(),
                c.maxPositionEmbeddings(), c.rmsNormEps(), c.rope(), c.tieWordEmbeddings(), c.bosTokenId(), c.eosTokenIds());
    }

    static LlamaConfig shape(String name) {
        LlamaConfig.RopeConfig rope = LlamaConfig.RopeConfig.plain(10000);
        return switch (name) {
            case "7b" -> new LlamaConfig(32000, 4096, 11008, 32, 32, 32, 128, 4096, 1e-5f, rope, false, 1, new int[]{2});
            case "13b" -> new LlamaConfig(32000, 5120, 13824, 40, 40, 40, 128, 4096, 1e-5f, rope, false, 1, new int[]{2});
            case "70b" -> new LlamaConfig(32000, 8192, 28672, 80, 64, 8, 128, 4096, 1e-5f, rope, false, 1, new int[]{2});
            default -> throw new IllegalArgumentException("unknown shape '" + name + "'; choose 7b, 13b or 70b");
        };
    }
}
