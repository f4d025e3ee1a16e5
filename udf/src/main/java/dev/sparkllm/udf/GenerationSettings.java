package dev.sparkllm.udf;

import dev.sparkllm.engine.tokenizer.TokenizerMode;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Everything an executor needs to turn rows into generations: which model and device, how to render prompts,
 * how to sample, what to return. Built on the driver, validated there, broadcast to executors (through Kryo,
 * see {@link SparkLlmKryoRegistrator}). Plain mutable fields with a no-argument constructor so Kryo's field
 * serializer can copy it; treat an instance as frozen once it is broadcast.
 */
public final class GenerationSettings implements Serializable {

    /** The engine-backed binding; named, not referenced, so fakes can replace it without loading it. */
    public static final String DEFAULT_BINDING = "dev.sparkllm.udf.EngineBinding";

    private String modelUri;
    private String device = "auto";
    private Map<String, String> engineOptions = new TreeMap<>();
    private String bindingClass = DEFAULT_BINDING;
    private String template;
    private String systemPrompt;
    private String preset;
    private boolean failTooLongPrompts;
    private boolean allowSpecialTokensInContent;
    /** Job-level sampling options by their {@code bin/llm generate} names without dashes, e.g. "max_new_tokens". */
    private Map<String, String> sampling = new TreeMap<>();
    private Long jobSeed;
    private int logprobs = -1;
    private boolean includeTokenIds;
    /** Requests one task keeps in flight in the shared engine; several tasks together fill one batch. */
    private int window = 64;
    private String modelFingerprint;

    public GenerationSettings() {
    }

    public GenerationSettings(String modelUri) {
        this.modelUri = Objects.requireNonNull(modelUri, "modelUri");
    }

    public String modelUri() { return modelUri; }
    public String device() { return device; }
    public Map<String, String> engineOptions() { return engineOptions; }
    public String bindingClass() { return bindingClass; }
    public String template() { return template; }
    public String systemPrompt() { return systemPrompt; }
    public String preset() { return preset; }
    public boolean failTooLongPrompts() { return failTooLongPrompts; }
    public boolean allowSpecialTokensInContent() { return allowSpecialTokensInContent; }
    public Map<String, String> sampling() { return sampling; }
    public Long jobSeed() { return jobSeed; }
    public int logprobs() { return logprobs; }
    public boolean includeTokenIds() { return includeTokenIds; }
    public int window() { return window; }
    public String modelFingerprint() { return modelFingerprint; }

    public GenerationSettings modelUri(String v) { modelUri = v; return this; }
    public GenerationSettings device(String v) { device = v; return this; }
    public GenerationSettings engineOptions(Map<String, String> v) { engineOptions = new TreeMap<>(v); return this; }
    public GenerationSettings bindingClass(String v) { bindingClass = v; return this; }
    public GenerationSettings template(String v) { template = v; return this; }
    public GenerationSettings systemPrompt(String v) { systemPrompt = v; return this; }
    public GenerationSettings preset(String v) { preset = v; return this; }
    public GenerationSettings failTooLongPrompts(boolean v) { failTooLongPrompts = v; return this; }
    public GenerationSettings allowSpecialTokensInContent(boolean v) { allowSpecialTokensInContent = v; return this; }
    public GenerationSettings sampling(Map<String, String> v) { sampling = new TreeMap<>(v); return this; }
    public GenerationSettings jobSeed(Long v) { jobSeed = v; return this; }
    public GenerationSettings logprobs(int v) { logprobs = v; return this; }
    public GenerationSettings includeTokenIds(boolean v) { includeTokenIds = v; return this; }
    public GenerationSettings modelFingerprint(String v) { modelFingerprint = v; return this; }

    public GenerationSettings window(int v) {
        if (v < 1) throw new IllegalArgumentException("window must be at least 1 request in flight per task, got " + v);
        window = v;
        return this;
    }

    /** The binding this settings object names, instantiated (its class must have a public no-arg constructor). */
    public GenerationBinding binding() {
        try {
            return (GenerationBinding) Class.forName(bindingClass, true, Thread.currentThread().getContextClassLoader())
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | ClassCastException | LinkageError e) {
            throw new IllegalArgumentException("cannot create generation binding " + bindingClass + " (" + e
                    + "); it must be on the classpath and implement " + GenerationBinding.class.getName()
                    + " with a public no-arg constructor", e);
        }
    }

    /**
     * What decides the generated text besides the model and the rows: compared when a run resumes, so a
     * resumed output never mixes two settings. Device, window and engine tuning options are left out: they
     * change speed, not results; the tokenizer mode, an engine option too, changes the prompt ids and is in.
     */
    public Map<String, Object> resultDefiningParameters() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("template", template);
        p.put("system_prompt", systemPrompt);
        p.put("preset", preset);
        p.put("fail_too_long_prompts", failTooLongPrompts);
        p.put("allow_special_tokens_in_content", allowSpecialTokensInContent);
        p.put("sampling", new TreeMap<>(sampling));
        p.put("seed", jobSeed);
        p.put("logprobs", logprobs);
        p.put("include_token_ids", includeTokenIds);
        p.put("tokenizer_mode", TokenizerMode.fromOptions(engineOptions).wireName()); // the prompt ids depend on it
        return p;
    }

    @Override
    public String toString() {
        return "GenerationSettings{model=" + modelUri + ", device=" + device + ", " + resultDefiningParameters() + "}";
    }
}
