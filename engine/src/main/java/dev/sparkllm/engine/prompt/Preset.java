package dev.sparkllm.engine.prompt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkllm.engine.sampling.SamplingSettings;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A named bundle of prompt and sampling settings, kept as a plain JSON file a user can copy and edit:
 * <pre>{@code
 * {
 *   "description": "what it is for (optional)",
 *   "template": "llama-2-chat",          // optional: a template name or file, as --template takes
 *   "system_prompt": "You are ...",      // optional
 *   "sampling": {"temperature": 0.7, "top_p": 0.95, "repetition_penalty": 1.15, "max_new_tokens": 512}
 * }
 * }</pre>
 * Sampling keys are the Hugging Face / vLLM names that {@link SamplingSettings#fromMap} reads; a preset sets only
 * what it names, and anything given on the command line or per row overrides it.
 *
 * <p>Where presets are found: a path to a file; otherwise {@code NAME.json} in the presets directory
 * ({@code -Dsparkllm.presets.dir}, else {@code $SPARKLLM_PRESETS_DIR}, else {@code conf/presets} under the
 * working directory), and then the presets bundled in the engine jar.
 *
 * @param name         the preset's name (the file name without {@code .json})
 * @param template     template name or file path, or null to leave the template as it is
 * @param systemPrompt system prompt, or null to leave it as it is
 * @param sampling     sampling settings this preset sets
 */
public record Preset(String name, String template, String systemPrompt, SamplingSettings sampling) {

    static final String BUNDLED = "sparkllm/presets/";
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Set<String> KEYS = Set.of("name", "description", "template", "system_prompt", "sampling");
    private static final ObjectMapper JSON = new ObjectMapper();

    public Preset {
        if (sampling == null) sampling = SamplingSettings.none();
    }

    /**
     * @param nameOrPath a preset name ({@link #names()}) or the path of a preset file
     * @throws IllegalArgumentException naming the preset when it is not found or not a valid preset
     */
    public static Preset load(String nameOrPath) {
        if (nameOrPath == null || nameOrPath.isBlank()) throw new IllegalArgumentException("preset name is empty");
        Path file = Path.of(nameOrPath);
        if (Files.isRegularFile(file)) return parse(baseName(file.getFileName().toString()), read(file), file.toString());
        if (NAME.matcher(nameOrPath).matches()) {
            Path inDir = presetsDir().resolve(nameOrPath + ".json");
            if (Files.isRegularFile(inDir)) return parse(nameOrPath, read(inDir), inDir.toString());
            String resource = BUNDLED + nameOrPath + ".json";
            try (InputStream in = Preset.class.getClassLoader().getResourceAsStream(resource)) {
                if (in != null) {
                    return parse(nameOrPath, new String(in.readAllBytes(), StandardCharsets.UTF_8), "bundled preset " + nameOrPath);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read bundled preset " + nameOrPath, e);
            }
        }
        throw new IllegalArgumentException("preset '" + nameOrPath + "' is neither a preset name " + names()
                + " nor an existing file (presets directory: " + presetsDir() + ")");
    }

    /** Names of the presets in the presets directory and in the jar, sorted. */
    public static List<String> names() {
        Set<String> names = new TreeSet<>();
        Path dir = presetsDir();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.list(dir)) {
                files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json")).map(Preset::baseName).forEach(names::add);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list presets in " + dir, e);
            }
        }
        names.addAll(bundledNames(Preset.class.getClassLoader()));
        return List.copyOf(names);
    }

    /** The prompt options with this preset's template and system prompt where it sets them. */
    public PromptOptions applyTo(PromptOptions options) {
        PromptOptions out = options;
        if (template != null) out = out.withTemplate(template);
        if (systemPrompt != null) out = out.withSystemPrompt(systemPrompt);
        return out;
    }

    static Path presetsDir() {
        String dir = System.getProperty("sparkllm.presets.dir");
        if (dir == null || dir.isBlank()) dir = System.getenv("SPARKLLM_PRESETS_DIR");
        return dir == null || dir.isBlank() ? Path.of("conf", "presets") : Path.of(dir);
    }

    static Preset parse(String name, String json, String source) {
        Map<String, Object> fields;
        try {
            fields = JSON.readValue(json, new TypeReference<Map<String, Object>>() { });
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("preset " + source + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (fields == null) throw new IllegalArgumentException("preset " + source + " is empty; expected a JSON object");
        for (String key : fields.keySet()) {
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("preset " + source + " has unknown key '" + key + "'; expected "
                        + new TreeSet<>(KEYS));
            }
        }
        Object sampling = fields.get("sampling");
        if (sampling != null && !(sampling instanceof Map)) {
            throw new IllegalArgumentException("preset " + source + ": 'sampling' must be an object of sampling settings");
        }
        SamplingSettings settings;
        try {
            @SuppressWarnings("unchecked")
            Map<String, ?> values = sampling == null ? Map.of() : (Map<String, ?>) sampling;
            settings = SamplingSettings.fromMap(values);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("preset " + source + ": " + e.getMessage(), e);
        }
        return new Preset(text(fields, "name", name, source), text(fields, "template", null, source),
                text(fields, "system_prompt", null, source), settings);
    }

    private static String text(Map<String, Object> fields, String key, String fallback, String source) {
        Object v = fields.get(key);
        if (v == null) return fallback;
        if (!(v instanceof String s)) throw new IllegalArgumentException("preset " + source + ": '" + key + "' must be a string");
        return s;
    }

    /** Presets bundled under {@value #BUNDLED} on a class path, from a directory or from a jar. */
    static Set<String> bundledNames(ClassLoader loader) {
        Set<String> names = new TreeSet<>();
        URL url = loader.getResource(BUNDLED);
        if (url == null) return names;
        try {
            if (url.getProtocol().equals("file")) {
                try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
                    files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json")).map(Preset::baseName).forEach(names::add);
                }
            } else if (url.getProtocol().equals("jar")) {
                JarURLConnection connection = (JarURLConnection) url.openConnection();
                connection.setUseCaches(false);
                try (JarFile jarFile = connection.getJarFile()) {
                    for (Enumeration<JarEntry> e = jarFile.entries(); e.hasMoreElements(); ) {
                        String entry = e.nextElement().getName();
                        if (entry.startsWith(BUNDLED) && entry.endsWith(".json") && entry.indexOf('/', BUNDLED.length()) < 0) {
                            names.add(baseName(entry.substring(BUNDLED.length())));
                        }
                    }
                }
            }
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("cannot list the bundled presets at " + url + ": " + e.getMessage(), e);
        }
        return names;
    }

    private static String baseName(String fileName) {
        return fileName.endsWith(".json") ? fileName.substring(0, fileName.length() - 5) : fileName;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read preset " + file + ": " + e.getMessage(), e);
        }
    }
}
