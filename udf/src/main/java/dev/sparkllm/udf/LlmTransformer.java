package dev.sparkllm.udf;

import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Generation as a Spark ML {@code Transformer}: appends {@code outputCol}, the result struct of
 * {@link GenerationOutput}, to every row. Params are checked in {@link #transformSchema} on the driver before
 * any data moves. Saved and loaded with {@code DefaultParamsWritable}/{@code LlmTransformer.load(path)}.
 * <pre>
 *   new LlmTransformer().setModelPath("/models/llama-2-70b-chat-gptq").setInputCol("question")
 *       .setMaxNewTokens(64).setTemperature(0.7).setSeed(1).transform(df)
 * </pre>
 */
public final class LlmTransformer extends Transformer implements DefaultParamsWritable {

    private final String uid;
    // Params are created in the constructor, after uid: Spark's Param reads its parent's uid when made. Spark
    // finds them through the public accessors below (as it finds Scala vals).
    private final Param<String> modelPath;
    private final Param<String> device;
    private final Param<String> inputCol;
    private final Param<String> messagesCol;
    private final Param<String> idCol;
    private final Param<String> outputCol;
    private final Param<String> template;
    private final Param<String> systemPrompt;
    private final Param<String> preset;
    private final IntParam maxNewTokens;
    private final org.apache.spark.ml.param.DoubleParam temperature;
    private final org.apache.spark.ml.param.DoubleParam topP;
    private final IntParam topK;
    private final org.apache.spark.ml.param.LongParam seed;
    private final StringArrayParam stop;
    private final IntParam logprobs;
    private final BooleanParam includeTokenIds;
    private final StringArrayParam engineOptions;
    private final IntParam window;
    private final BooleanParam failTooLongPrompts;
    private final Param<String> binding;


    public LlmTransformer() {
        this(Identifiable$.MODULE$.randomUID("llm"));
    }

    public LlmTransformer(String uid) {
        this.uid = uid;
        modelPath = new Param<>(this, "modelPath",
            "model directory on any Hadoop filesystem (file:, hdfs:, s3a:); required");
        device = new Param<>(this, "device",
            "auto (the task's GPU when Spark assigns one, else cpu), cpu, cuda or cuda:N");
        inputCol = new Param<>(this, "inputCol", "string column with the prompt");
        messagesCol = new Param<>(this, "messagesCol",
            "array<struct<role, content>> column used instead of inputCol when set");
        idCol = new Param<>(this, "idCol",
            "string or integer id column; per-row seeds derive from it (empty: position in the partition)");
        outputCol = new Param<>(this, "outputCol", "result struct column to add");
        template = new Param<>(this, "template", "prompt template name (empty: the model's or the preset's)");
        systemPrompt = new Param<>(this, "systemPrompt", "system prompt (empty: none or the preset's)");
        preset = new Param<>(this, "preset", "generation preset name (empty: none)");
        maxNewTokens = new IntParam(this, "maxNewTokens",
            "most tokens to generate per row (0: the preset's or the model's default)", ParamValidators.gtEq(0));
        temperature = new org.apache.spark.ml.param.DoubleParam(this,
            "temperature", "sampling temperature, 0 for greedy (negative: the preset's or model's default)");
        topP = new org.apache.spark.ml.param.DoubleParam(this, "topP",
            "nucleus sampling mass in (0, 1] (negative: default)");
        topK = new IntParam(this, "topK", "keep the k most likely tokens (negative: default, 0: off)");
        seed = new org.apache.spark.ml.param.LongParam(this, "seed",
            "job seed; each row's seed derives from it and the row id (negative: unseeded)");
        stop = new StringArrayParam(this, "stop", "stop strings");
        logprobs = new IntParam(this, "logprobs",
            "-1: none; n >= 0: log-probability of each token and the n most likely alternatives", ParamValidators.gtEq(-1));
        includeTokenIds = new BooleanParam(this, "includeTokenIds", "add generated token ids");
        engineOptions = new StringArrayParam(this, "engineOptions",
            "engine settings as name=value, e.g. threads=8, max_batch=64");
        window = new IntParam(this, "window", "requests each task keeps in flight", ParamValidators.gtEq(1));
        failTooLongPrompts = new BooleanParam(this, "failTooLongPrompts",
            "fail rows whose prompt does not fit the context instead of dropping its start");
        binding = new Param<>(this, "binding", "expert: the GenerationBinding class");
        setDefault(device, "auto");
        setDefault(inputCol, "prompt");
        setDefault(messagesCol, "");
        setDefault(idCol, "");
        setDefault(outputCol, "generation");
        setDefault(template, "");
        setDefault(systemPrompt, "");
        setDefault(preset, "");
        setDefault(maxNewTokens, 0);
        setDefault(temperature, -1.0);
        setDefault(topP, -1.0);
        setDefault(topK, -1);
        setDefault(seed, -1L);
        setDefault(stop, new String[0]);
        setDefault(logprobs, -1);
        setDefault(includeTokenIds, false);
        setDefault(engineOptions, new String[0]);
        setDefault(window, 64);
        setDefault(failTooLongPrompts, false);
        setDefault(binding, GenerationSettings.DEFAULT_BINDING);
    }

    // Param accessors (documented by each Param's doc string above).
    public Param<String> modelPath() { return modelPath; }
    public Param<String> device() { return device; }
    public Param<String> inputCol() { return inputCol; }
    public Param<String> messagesCol() { return messagesCol; }
    public Param<String> idCol() { return idCol; }
    public Param<String> outputCol() { return outputCol; }
    public Param<String> template() { return template; }
    public Param<String> systemPrompt() { return systemPrompt; }
    public Param<String> preset() { return preset; }
    public IntParam maxNewTokens() { return maxNewTokens; }
    public org.apache.spark.ml.param.DoubleParam temperature() { return temperature; }
    public org.apache.spark.ml.param.DoubleParam topP() { return topP; }
    public IntParam topK() { return topK; }
    public org.apache.spark.ml.param.LongParam seed() { return seed; }
    public StringArrayParam stop() { return stop; }
    public IntParam logprobs() { return logprobs; }
    public BooleanParam includeTokenIds() { return includeTokenIds; }
    public StringArrayParam engineOptions() { return engineOptions; }
    public IntParam window() { return window; }
    public BooleanParam failTooLongPrompts() { return failTooLongPrompts; }
    public Param<String> binding() { return binding; }

    public static MLReader<LlmTransformer> read() {
        return new DefaultParamsReader<>();
    }

    public static LlmTransformer load(String path) {
        return read().load(path);
    }

    public LlmTransformer setModelPath(String v) { set(modelPath, v); return this; }
    public LlmTransformer setDevice(String v) { set(device, v); return this; }
    public LlmTransformer setInputCol(String v) { set(inputCol, v); return this; }
    public LlmTransformer setMessagesCol(String v) { set(messagesCol, v); return this; }
    public LlmTransformer setIdCol(String v) { set(idCol, v); return this; }
    public LlmTransformer setOutputCol(String v) { set(outputCol, v); return this; }
    public LlmTransformer setTemplate(String v) { set(template, v); return this; }
    public LlmTransformer setSystemPrompt(String v) { set(systemPrompt, v); return this; }
    public LlmTransformer setPreset(String v) { set(preset, v); return this; }
    public LlmTransformer setMaxNewTokens(int v) { set(maxNewTokens, v); return this; }
    public LlmTransformer setTemperature(double v) { set(temperature, v); return this; }
    public LlmTransformer setTopP(double v) { set(topP, v); return this; }
    public LlmTransformer setTopK(int v) { set(topK, v); return this; }
    public LlmTransformer setSeed(long v) { set(seed, v); return this; }
    public LlmTransformer setStop(String[] v) { set(stop, v); return this; }
    public LlmTransformer setLogprobs(int v) { set(logprobs, v); return this; }
    public LlmTransformer setIncludeTokenIds(boolean v) { set(includeTokenIds, v); return this; }
    public LlmTransformer setEngineOptions(String[] v) { set(engineOptions, v); return this; }
    public LlmTransformer setWindow(int v) { set(window, v); return this; }
    public LlmTransformer setFailTooLongPrompts(boolean v) { set(failTooLongPrompts, v); return this; }
    public LlmTransformer setBinding(String v) { set(binding, v); return this; }

    @Override
    public String uid() {
        return uid;
    }

    private GenerationColumns columns() {
        String messages = $(messagesCol);
        String id = $(idCol);
        return new GenerationColumns(messages.isEmpty() ? $(inputCol) : null, messages.isEmpty() ? null : messages,
                id.isEmpty() ? null : id, Map.of());
    }

    /** The settings these Params describe. */
    GenerationSettings settings() {
        if (!isDefined(modelPath) || $(modelPath).isBlank()) {
            throw new IllegalArgumentException("LlmTransformer: modelPath is not set; call setModelPath(<model directory>)");
        }
        Map<String, String> sampling = new TreeMap<>();
        if (i(maxNewTokens) > 0) sampling.put("max_new_tokens", String.valueOf(i(maxNewTokens)));
        if (d(temperature) >= 0) sampling.put("temperature", String.valueOf(d(temperature)));
        if (d(topP) >= 0) sampling.put("top_p", String.valueOf(d(topP)));
        if (i(topK) >= 0) sampling.put("top_k", String.valueOf(i(topK)));
        if ($(stop).length > 0) sampling.put("stop", String.join("\u0000", $(stop)));
        Map<String, String> engine = new LinkedHashMap<>();
        for (String kv : $(engineOptions)) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("LlmTransformer: engine option '" + kv + "' must be name=value");
            engine.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
        }
        return new GenerationSettings($(modelPath))
                .device($(device))
                .template(blankToNull($(template)))
                .systemPrompt(blankToNull($(systemPrompt)))
                .preset(blankToNull($(preset)))
                .sampling(sampling)
                .jobSeed((Long) $(seed) >= 0 ? (Long) $(seed) : null)
                .logprobs(i(logprobs))
                .includeTokenIds((Boolean) $(includeTokenIds))
                .engineOptions(engine)
                .window(i(window))
                .failTooLongPrompts((Boolean) $(failTooLongPrompts))
                .bindingClass($(binding));
    }

    // Scala's numeric Params are Param<Object> to Java.
    private int i(IntParam p) {
        return (Integer) $(p);
    }

    private double d(org.apache.spark.ml.param.DoubleParam p) {
        return (Double) $(p);
    }

    private static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        GenerationSettings s = settings();
        LlmGeneration.validateSchema(schema, columns());
        if (Arrays.asList(schema.fieldNames()).contains($(outputCol))) {
            throw new IllegalArgumentException("LlmTransformer: output column '" + $(outputCol) + "' already exists");
        }
        return schema.add($(outputCol), GenerationOutput.schema(s), false);
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        GenerationSettings s = settings();
        if (ModelCache.isLocal(s.modelUri())) {
            try {
                s.modelFingerprint(s.binding().checkOnDriver(Paths.get(s.modelUri().replaceFirst("^file:", "")), s));
            } catch (IOException e) {
                throw new UncheckedIOException("LlmTransformer: cannot read model " + s.modelUri(), e);
            }
        }
        return LlmGeneration.generate(dataset.toDF(), columns(), s, $(outputCol));
    }

    @Override
    public LlmTransformer copy(ParamMap extra) {
        return (LlmTransformer) defaultCopy(extra);
    }
}
