package dev.sparkllm.udf;

import dev.sparkllm.engine.api.EngineMetrics;
import dev.sparkllm.engine.api.GenerationEngine;
import org.apache.spark.SparkEnv;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The engines of this executor JVM: one per (model, device), opened on first use by whichever task gets there
 * first, shared by every later task, closed by {@link SparkLlmPlugin}'s executor plugin when the executor stops.
 * Never broadcast: engine state stays in the JVM that made it.
 *
 * <p>Every creation logs a line starting with {@link #CREATED_LOG_PREFIX} and bumps a counter (also a plugin
 * metric), which is how the cluster test counts engines per executor.
 */
public final class EngineHolder {

    public static final String CREATED_LOG_PREFIX = "sparkllm engine created";
    private static final Logger LOG = LoggerFactory.getLogger(EngineHolder.class);
    private static final Map<Key, Entry> ENGINES = new ConcurrentHashMap<>();
    private static final AtomicInteger CREATIONS = new AtomicInteger();

    private EngineHolder() {
    }

    /**
     * What tasks get: the engine, and row renderers made for it, one per distinct set of result-defining settings
     * (jobs in one application may share an engine with different templates or sampling).
     */
    public record Entry(GenerationEngine engine, GenerationBinding binding, Path localModelDir, String device,
                        Throwable failure, Map<Map<String, Object>, RowRequestFactory> renderers) {

        public RowRequestFactory requests(GenerationSettings settings) {
            return renderers.computeIfAbsent(settings.resultDefiningParameters(), k -> {
                try {
                    return binding.requestFactory(engine, localModelDir, settings);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot prepare prompts for " + settings.modelUri(), e);
                }
            });
        }
    }

    private record Key(String modelUri, String device, String binding, Map<String, String> options) {
    }

    /** The shared engine for these settings on this executor, opened now if this is the first use. */
    public static Entry get(GenerationSettings settings) {
        String device = ExecutorDevice.resolve(settings.device());
        Key key = new Key(settings.modelUri(), device, settings.bindingClass(), Map.copyOf(settings.engineOptions()));
        Entry entry = ENGINES.computeIfAbsent(key, k -> open(settings, device));
        if (entry.failure() != null) {
            throw new dev.sparkllm.engine.api.EngineFailedException("the engine for " + key.modelUri() + " on "
                    + device + " failed earlier on this executor and was closed; this executor takes no more of "
                    + "this work, Spark retries the task elsewhere", entry.failure());
        }
        return entry;
    }

    /**
     * Closes and retires an engine that failed beyond recovery; later tasks on this executor fail fast so Spark
     * reschedules them on other executors.
     */
    public static void retire(Entry entry, Throwable cause) {
        ENGINES.replaceAll((k, e) -> e == entry ? new Entry(null, null, e.localModelDir(), e.device(), cause, Map.of()) : e);
        try {
            entry.engine().close();
        } catch (RuntimeException e) {
            LOG.warn("closing failed engine on {}", entry.device(), e);
        }
    }

    private static Entry open(GenerationSettings settings, String device) {
        long start = System.nanoTime();
        GenerationBinding binding = settings.binding();
        try {
            Path local = new ModelCache(ModelCache.defaultRoot(), hadoopConf()).localize(settings.modelUri());
            GenerationEngine engine = binding.openEngine(local, device, settings.engineOptions());
            int n = CREATIONS.incrementAndGet();
            LOG.info("{} #{} on executor {}: model {} on device {} in {} ms", CREATED_LOG_PREFIX, n, executorId(),
                    settings.modelUri(), device, (System.nanoTime() - start) / 1_000_000);
            return new Entry(engine, binding, local, device, null, new ConcurrentHashMap<>());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open model " + settings.modelUri() + " on " + device, e);
        }
    }

    private static org.apache.hadoop.conf.Configuration hadoopConf() {
        SparkEnv env = SparkEnv.get();
        return env == null ? new org.apache.hadoop.conf.Configuration()
                : SparkHadoopUtil.get().newConfiguration(env.conf());
    }

    static String executorId() {
        SparkEnv env = SparkEnv.get();
        return env == null ? "none" : env.executorId();
    }

    /** Engines opened by this JVM since it started. */
    public static int creations() {
        return CREATIONS.get();
    }

    /** Metrics of every live engine. */
    public static List<EngineMetrics> metrics() {
        List<EngineMetrics> out = new ArrayList<>();
        for (Entry e : ENGINES.values()) if (e.engine() != null) out.add(e.engine().metrics());
        return out;
    }

    /** Closes every engine; the executor is stopping. */
    public static void closeAll() {
        for (Entry e : ENGINES.values()) {
            if (e.engine() == null) continue;
            try {
                e.engine().close();
            } catch (RuntimeException ex) {
                LOG.warn("closing engine on {}", e.device(), ex);
            }
        }
        ENGINES.clear();
    }
}
