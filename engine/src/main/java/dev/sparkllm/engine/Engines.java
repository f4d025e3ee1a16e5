package dev.sparkllm.engine;

import dev.sparkllm.engine.api.GenerationEngine;
import dev.sparkllm.engine.backend.ModelBackend;
import dev.sparkllm.engine.backend.sim.Roofline;
import dev.sparkllm.engine.backend.sim.SimulatedGpuBackend;
import dev.sparkllm.engine.checkpoint.ModelDirectory;
import dev.sparkllm.engine.core.Engine;
import dev.sparkllm.engine.core.EngineOptions;
import dev.sparkllm.engine.cpu.CpuBackend;
import dev.sparkllm.engine.cuda.CudaBackend;
import dev.sparkllm.engine.cuda.CudaDevice;
import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.prompt.RenderLimits;
import dev.sparkllm.engine.tokenizer.Tokenizer;
import dev.sparkllm.engine.tokenizer.TokenizerLoader;
import dev.sparkllm.engine.tokenizer.TokenizerMode;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Opens a {@link GenerationEngine} for a model directory on a device: the one place that wires checkpoint,
 * tokenizer, backend and scheduler together, used by the CLI, the Spark executors and the notebooks.
 *
 * <p>Devices: {@code cpu} (the pure-Java backend); {@code cuda} or {@code cuda:N} (the CUDA backend on GPU 0 or
 * N as the driver numbers the visible GPUs); {@code auto} (GPU 0 when this build has kernels and the driver shows
 * a GPU, else the CPU); {@code simulated} (a test double that produces deterministic tokens at the speed a
 * roofline model of Llama-2-70B GPTQ on one H200 predicts, for measuring scheduling and Spark overhead; never a
 * default).
 *
 * <p>Options (all optional, strings so that Spark confs and command lines pass them through unchanged):
 * <ul>
 *   <li>{@code threads}: CPU backend threads (default: the machine's cores)</li>
 *   <li>{@code max_batch}: most sequences in one step (default 256)</li>
 *   <li>{@code max_step_tokens}: token budget per step (default 2048)</li>
 *   <li>{@code prefill_chunk}: most prompt tokens of one sequence per step (default 512)</li>
 *   <li>{@code queue}: requests waiting for admission before submit blocks (default 1024)</li>
 *   <li>{@code prefix_caching}: share KV blocks of common prompt prefixes (default true)</li>
 *   <li>{@code context_length}: tokens per sequence (default: the model's max_position_embeddings)</li>
 *   <li>{@code kv_block_size}: token positions per KV block (default 16)</li>
 *   <li>{@code kv_cache_mb}: memory for the KV cache; the block count follows (default on the CPU: enough for
 *       max_batch full-length sequences, capped at 512 MB, which the CPU backend holds on the Java heap; on a
 *       GPU: what gpu_memory_utilization leaves after weights and activations)</li>
 *   <li>{@code gpu_memory_utilization}: share of the GPU's memory the engine may take in all, weights,
 *       activations and KV cache (default 0.9, as vLLM's option of that name)</li>
 *   <li>{@code tokenizer_mode}: how the tokenizer files are read, {@code files} (default: as written) or
 *       {@code transformers5} (see {@link TokenizerMode})</li>
 *   <li>{@code template_timeout_ms}, {@code template_max_chars}: limits on rendering one prompt's template
 *       (default 5000 ms, 4,000,000 characters); read by the callers' {@code PromptFormatter} through
 *       {@link RenderLimits#fromOptions}, listed here so every engine option is in one place</li>
 * </ul>
 */
public final class Engines {

    public static final Set<String> OPTION_NAMES = Set.of("threads", "max_batch", "max_step_tokens", "prefill_chunk",
            "queue", "prefix_caching", "context_length", "kv_block_size", "kv_cache_mb", "gpu_memory_utilization",
            TokenizerMode.OPTION, RenderLimits.TIMEOUT_OPTION, RenderLimits.MAX_CHARS_OPTION);

    private static final long DEFAULT_KV_CAP_BYTES = 512L << 20;

    private Engines() {
    }

    /** Opens an engine; a bad directory, device or option throws with a message that names it. */
    public static GenerationEngine open(Path modelDir, String device, Map<String, String> options) {
        checkOptionNames(options);
        TokenizerMode tokenizerMode = TokenizerMode.fromOptions(options);
        if (isSimulated(device)) return openSimulated(TokenizerLoader.load(modelDir, tokenizerMode), options);
        return open(ModelDirectory.open(modelDir), TokenizerLoader.load(modelDir, tokenizerMode), device, options);
    }

    /** Opens an engine for a model directory and tokenizer the caller has already opened (in the options' tokenizer_mode). */
    public static GenerationEngine open(ModelDirectory model, Tokenizer tokenizer, String device, Map<String, String> options) {
        checkOptionNames(options);
        TokenizerMode.fromOptions(options); // bad values fail here too, naming the option
        RenderLimits.fromOptions(options);
        if (isSimulated(device)) return openSimulated(tokenizer, options);
        EngineOptions engineOptions = engineOptions(options);
        LlamaConfig config = model.config();
        int context = engineOptions.contextLength() > 0 ? engineOptions.contextLength() : config.maxPositionEmbeddings();
        ModelBackend backend = openBackend(model, device, options, engineOptions.maxStepTokens(), context,
                engineOptions.maxBatchSequences());
        return new Engine(backend, tokenizer, engineOptions);
    }

    /**
     * Opens the backend alone (for callers that drive it directly, such as perplexity).
     *
     * @param maxStepTokens  most tokens one step computes
     * @param contextLength  longest sequence
     * @param sequences      sequences the default CPU KV cache is sized for
     */
    public static ModelBackend openBackend(ModelDirectory model, String device, Map<String, String> options, int maxStepTokens,
                                           int contextLength, int sequences) {
        checkOptionNames(options);
        String dev = resolveDevice(device);
        int blockSize = intOption(options, "kv_block_size", 16);
        if (blockSize < 1) throw new IllegalArgumentException("engine option kv_block_size must be at least 1");
        if (dev.startsWith("cuda:")) {
            double fraction = fractionOption(options, "gpu_memory_utilization", 0.9);
            long kvBytes = options.containsKey("kv_cache_mb") ? (long) intOption(options, "kv_cache_mb", 0) << 20 : 0;
            return CudaBackend.open(model, Integer.parseInt(dev.substring(5)), maxStepTokens, blockSize, fraction, kvBytes,
                    contextLength);
        }
        long bytesPerBlock = 2L * model.config().numLayers() * blockSize * model.config().kvDim() * Float.BYTES;
        int blocks = kvBlocks(options, bytesPerBlock, blockSize, contextLength, sequences);
        int threads = intOption(options, "threads", Runtime.getRuntime().availableProcessors());
        return new CpuBackend(model.loadWeights(), blockSize, blocks, threads);
    }

    /**
     * {@code cpu} or {@code cuda:N} for a device name: {@code cuda} is GPU 0; {@code auto} is GPU 0 when this build
     * has kernels and the driver shows a GPU, else the CPU.
     */
    public static String resolveDevice(String device) {
        String dev = device == null ? "cpu" : device.trim().toLowerCase(Locale.ROOT);
        if (dev.equals("cpu")) return dev;
        if (dev.equals("cuda")) return "cuda:0";
        if (dev.equals("auto")) return CudaDevice.hasKernels() && CudaDevice.deviceCount() > 0 ? "cuda:0" : "cpu";
        if (dev.matches("cuda:[0-9]{1,3}")) return dev;
        throw new IllegalArgumentException("unknown device '" + device + "': expected cpu, cuda, cuda:N (N a GPU number), auto"
                + " (the GPU when there is one, else the CPU) or simulated (a test backend)");
    }

    private static boolean isSimulated(String device) {
        String dev = device == null ? "" : device.trim().toLowerCase(Locale.ROOT);
        return dev.equals("simulated") || dev.startsWith("simulated:");
    }

    private static GenerationEngine openSimulated(Tokenizer tokenizer, Map<String, String> options) {
        int blockSize = intOption(options, "kv_block_size", 16);
        LlamaConfig shape = SimulatedGpuBackend.llama2_70bConfig();
        Roofline roofline = Roofline.llama2_70bGptq4bitOnH200();
        // Size the simulated cache as the real one would be on a 141 GB H200 after the 36 GB of weights.
        int blocks = SimulatedGpuBackend.kvBlocksFitting(roofline, 141e9, 0.1, blockSize);
        ModelBackend backend = new SimulatedGpuBackend(shape, blockSize, blocks, roofline, 0.0);
        return new Engine(backend, tokenizer, engineOptions(options));
    }

    static EngineOptions engineOptions(Map<String, String> o) {
        EngineOptions d = EngineOptions.defaults();
        return new EngineOptions(
                intOption(o, "max_batch", d.maxBatchSequences()),
                intOption(o, "max_step_tokens", Math.max(d.maxStepTokens(), intOption(o, "max_batch", d.maxBatchSequences()))),
                intOption(o, "prefill_chunk", d.prefillChunkTokens()),
                intOption(o, "queue", d.queueCapacity()),
                boolOption(o, "prefix_caching", d.prefixCaching()),
                intOption(o, "context_length", d.contextLength()));
    }

    private static int kvBlocks(Map<String, String> o, long bytesPerBlock, int blockSize, int context, int maxBatch) {
        if (o.containsKey("kv_cache_mb")) {
            long bytes = (long) intOption(o, "kv_cache_mb", 0) << 20;
            int blocks = (int) Math.min(Integer.MAX_VALUE, bytes / bytesPerBlock);
            int perSequence = (context + blockSize - 1) / blockSize;
            if (blocks < perSequence) {
                throw new IllegalArgumentException("kv_cache_mb=" + o.get("kv_cache_mb") + " holds " + blocks
                        + " KV blocks, fewer than one full-length sequence needs (" + perSequence + "); raise it");
            }
            return blocks;
        }
        long wanted = (long) maxBatch * ((context + blockSize - 1) / blockSize);
        long capped = Math.min(wanted, DEFAULT_KV_CAP_BYTES / bytesPerBlock);
        return (int) Math.max(capped, (context + blockSize - 1) / blockSize);
    }

    private static void checkOptionNames(Map<String, String> options) {
        Set<String> unknown = new TreeSet<>(options.keySet());
        unknown.removeAll(OPTION_NAMES);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown engine option(s) " + unknown + "; known: " + new TreeSet<>(OPTION_NAMES));
        }
    }

    private static int intOption(Map<String, String> o, String name, int fallback) {
        String v = o.get(name);
        if (v == null || v.isBlank()) return fallback;
        try {
            int n = Integer.parseInt(v.trim());
            if (n < 0) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("engine option " + name + " must be a non-negative whole number, got '" + v + "'");
        }
    }

    private static double fractionOption(Map<String, String> o, String name, double fallback) {
        String v = o.get(name);
        if (v == null || v.isBlank()) return fallback;
        try {
            double f = Double.parseDouble(v.trim());
            if (!(f > 0 && f <= 1)) throw new NumberFormatException();
            return f;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("engine option " + name + " must be a fraction in (0, 1], got '" + v + "'");
        }
    }

    private static boolean boolOption(Map<String, String> o, String name, boolean fallback) {
        String v = o.get(name);
        if (v == null || v.isBlank()) return fallback;
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true", "on", "yes", "1" -> true;
            case "false", "off", "no", "0" -> false;
            default -> throw new IllegalArgumentException("engine option " + name + " must be true or false, got '" + v + "'");
        };
    }
}
