package dev.sparkllm.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.model.LlamaWeights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * A model directory as Hugging Face lays it out: {@code config.json}, optional {@code generation_config.json},
 * GPTQ settings in {@code quantize_config.json} or {@code config.json}'s {@code quantization_config}, and
 * safetensors weights (single file, sharded, or named by {@code model_file_base_name}). {@link #open} reads and
 * validates the configs and every tensor header (shapes against the config) without reading weight data;
 * {@link #loadWeights()} reads the weights.
 */
public final class ModelDirectory implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ModelDirectory.class.getName());

    private final Path dir;
    private final LlamaConfig config;
    private final GenerationConfig generationConfig;
    private final QuantizationConfig quantization; // null when unquantised
    private final WeightFiles weights;
    private final String fingerprint;

    private ModelDirectory(Path dir, LlamaConfig config, GenerationConfig generationConfig,
                           QuantizationConfig quantization, WeightFiles weights, String fingerprint) {
        this.dir = dir;
        this.config = config;
        this.generationConfig = generationConfig;
        this.quantization = quantization;
        this.weights = weights;
        this.fingerprint = fingerprint;
    }

    /** Opens and validates the model directory {@code dir}. */
    public static ModelDirectory open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException(dir + ": not a directory; expected a Hugging Face model directory");
        }
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            throw new CheckpointException("config.json not found in " + dir + "; expected a Hugging Face model directory");
        }
        JsonNode configJson = JsonFiles.readObject(configFile);
        LlamaConfig config = LlamaConfigReader.read(configJson, configFile);
        QuantizationConfig quant = readQuantization(dir, configJson, configFile);
        GenerationConfig generation = GenerationConfigReader.read(dir.resolve("generation_config.json"));
        WeightFiles weights = WeightFiles.open(dir, quant == null ? null : quant.modelFileBaseName());
        try {
            new WeightLoader(config, quant, weights, true).load();
            return new ModelDirectory(dir, config, generation, quant, weights, fingerprint(dir, quant, weights));
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    public Path path() {
        return dir;
    }

    /** The model's shape from config.json. */
    public LlamaConfig config() {
        return config;
    }

    /** Sampling defaults from generation_config.json ({@link GenerationConfig#empty()} when absent). */
    public GenerationConfig generationConfig() {
        return generationConfig;
    }

    /** GPTQ settings, empty for an unquantised (fp16/bf16/f32) checkpoint. */
    public Optional<QuantizationConfig> quantization() {
        return Optional.ofNullable(quantization);
    }

    /** The safetensors files holding the weights, sorted by name. */
    public List<Path> weightFiles() {
        return weights.files().stream().map(SafetensorsFile::path).toList();
    }

    /** The header entry of tensor {@code name}, from whichever weights file holds it. */
    public TensorInfo tensor(String name) {
        return weights.info(name);
    }

    /** Maps tensor {@code name} read-only. */
    public MappedTensor mapTensor(String name) {
        return weights.map(name);
    }

    /**
     * Reads tensor {@code name}'s bytes from {@code offset} into {@code dst} until it is full (for backends that
     * stream weights to a device through a small buffer, without mapping the file).
     */
    public void readTensor(String name, long offset, ByteBuffer dst) {
        weights.read(name, offset, dst);
    }

    /**
     * A short stable hash (16 hex digits of SHA-256) of config.json, the quantisation settings and every
     * safetensors header. Two directories with the same fingerprint hold the same model; computing it
     * reads no weight data.
     */
    public String fingerprint() {
        return fingerprint;
    }

    /** Reads all weights (dense ones in checkpoint precision, GPTQ ones repacked for the CPU). */
    public LlamaWeights loadWeights() {
        return new WeightLoader(config, quantization, weights, false).load();
    }

    @Override
    public void close() {
        weights.close();
    }

    @Override
    public String toString() {
        return "ModelDirectory[" + dir + (quantization != null ? ", " + quantization.bits() + "-bit GPTQ g" + quantization.groupSize()
                + (quantization.descAct() ? " act-order" : "") : "") + "]";
    }

    private static QuantizationConfig readQuantization(Path dir, JsonNode configJson, Path configFile) {
        QuantizationConfig inConfig = null;
        JsonNode q = configJson.get("quantization_config");
        if (q != null && !q.isNull()) {
            if (!q.isObject()) {
                throw new CheckpointException(configFile + ": quantization_config must be an object");
            }
            inConfig = QuantizationConfig.read(q, configFile);
        }
        Path quantizeFile = dir.resolve("quantize_config.json");
        QuantizationConfig inFile = Files.isRegularFile(quantizeFile)
                ? QuantizationConfig.read(JsonFiles.readObject(quantizeFile), quantizeFile) : null;
        if (inConfig != null && inFile != null && !inConfig.sameSettings(inFile)) {
            LOG.log(System.Logger.Level.WARNING, "{0} and the quantization_config in {1} disagree; using {1} as transformers does",
                    quantizeFile, configFile);
        }
        if (inConfig != null) {
            // model_file_base_name usually lives only in quantize_config.json.
            if (inConfig.modelFileBaseName() == null && inFile != null && inFile.modelFileBaseName() != null) {
                return new QuantizationConfig(inConfig.bits(), inConfig.groupSize(), inConfig.descAct(), inConfig.sym(),
                        inConfig.format(), inFile.modelFileBaseName(), inConfig.source());
            }
            return inConfig;
        }
        return inFile;
    }

    private static String fingerprint(Path dir, QuantizationConfig quant, WeightFiles weights) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            update(sha, Files.readAllBytes(dir.resolve("config.json")));
            if (quant != null) {
                update(sha, (quant.bits() + "/" + quant.groupSize() + "/" + quant.descAct() + "/" + quant.sym() + "/"
                        + quant.format()).getBytes(StandardCharsets.UTF_8));
            }
            for (SafetensorsFile f : weights.files()) {
                update(sha, f.path().getFileName().toString().getBytes(StandardCharsets.UTF_8));
                update(sha, f.headerBytes());
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (IOException e) {
            throw new CheckpointException(dir + ": cannot read config.json for the fingerprint: " + e, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** Adds a length-prefixed chunk, so that boundaries between the parts cannot shift unnoticed. */
    private static void update(MessageDigest sha, byte[] bytes) {
        for (int i = 7; i >= 0; i--) sha.update((byte) ((long) bytes.length >>> (8 * i)));
        sha.update(bytes);
    }
}
