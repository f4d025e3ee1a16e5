package dev.sparkllm.job;

import dev.sparkllm.engine.prompt.Preset;
import dev.sparkllm.udf.EngineBinding;
import dev.sparkllm.udf.GenerationSettings;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Everything that decides a row's output besides the row itself, as the run record keeps it: the model (its
 * fingerprint, a sample of the weights' bytes), the tokenizer and config files by content, the template and preset
 * by content (not by name or path), the resolved job settings and the engine options. A rerun whose fingerprint
 * differs in any part is refused unless --force, naming the part, so an output never mixes prompts rendered or
 * tokenized two ways.
 */
final class RunFingerprint {

    /** Files of the model directory that decide tokens or prompts, hashed by content when present. */
    static final List<String> MODEL_FILES = List.of("config.json", "generation_config.json", "quantize_config.json",
            "tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
            "chat_template.jinja", "chat_template.json");
    /** Engine options that change speed only; every other option (tokenizer_mode among them) is in the fingerprint. */
    static final Set<String> SPEED_ONLY_OPTIONS = Set.of("threads", "queue");
    /** Windows of each weight file hashed: enough to see a re-quantised or retrained file, cheap on any size. */
    private static final int SAMPLES = 16;
    private static final int SAMPLE_BYTES = 4096;

    private RunFingerprint() {
    }

    static Map<String, Object> of(Path modelDir, GenerationSettings s, String modelFingerprint) throws IOException {
        Map<String, Object> id = new LinkedHashMap<>();
        id.put("model_fingerprint", modelFingerprint);
        Map<String, Object> files = new TreeMap<>();
        for (String name : MODEL_FILES) {
            Path p = modelDir.resolve(name);
            files.put(name, Files.isRegularFile(p) ? sha(Files.readAllBytes(p)) : "absent");
        }
        id.put("model_files", files);
        id.put("weights", weights(modelDir));
        Preset preset = s.preset() == null ? null : Preset.load(s.preset());
        if (preset != null) {
            Map<String, Object> content = new LinkedHashMap<>();
            content.put("template", preset.template());
            content.put("system_prompt", preset.systemPrompt());
            content.put("sampling", preset.sampling().toMap());
            id.put("preset_content", content);
        }
        String template = s.template() != null ? s.template() : preset == null ? null : preset.template();
        id.put("template_file", fileContent(template));
        id.put("parameters", s.resultDefiningParameters());
        Map<String, String> options = new TreeMap<>(s.engineOptions());
        options.keySet().removeAll(SPEED_ONLY_OPTIONS);
        id.put("engine_options", options);
        return id;
    }

    /** A template given as a file: the hash of its bytes (the file is read again on executors). */
    private static String fileContent(String template) throws IOException {
        if (template == null || template.isBlank()) return null;
        Path p;
        try {
            p = Path.of(template.strip());
        } catch (RuntimeException e) {
            return null;
        }
        return Files.isRegularFile(p) ? sha(Files.readAllBytes(p)) : null;
    }

    /**
     * The weights' names, sizes and sampled bytes; for a remote model the driver has only the listing (names and
     * sizes) it wrote beside the small files.
     */
    private static String weights(Path dir) throws IOException {
        Path listing = dir.resolve(EngineBinding.REMOTE_LISTING);
        if (Files.exists(listing)) return "listing:" + sha(Files.readAllBytes(listing));
        MessageDigest sha = digest();
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> {
                String n = p.getFileName().toString();
                return Files.isRegularFile(p) && (n.endsWith(".safetensors") || n.endsWith(".bin"));
            }).sorted().toList();
        }
        byte[] window = new byte[SAMPLE_BYTES];
        for (Path f : files) {
            sha.update(f.getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "r")) {
                long size = r.length();
                sha.update(Long.toString(size).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                for (int i = 0; i < SAMPLES; i++) {
                    long at = size <= SAMPLE_BYTES ? 0 : (size - SAMPLE_BYTES) * i / (SAMPLES - 1);
                    r.seek(at);
                    int n = r.read(window, 0, (int) Math.min(SAMPLE_BYTES, size));
                    if (n > 0) sha.update(window, 0, n);
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest(), 0, 8);
    }

    static String sha(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes), 0, 8);
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
