package dev.sparkllm.udf;

import dev.sparkllm.engine.api.GenerationEngine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * How the Spark side reaches the engine: open one, turn rows into requests, check settings on the driver.
 * {@link EngineBinding} is the real one; tests plug in fakes by class name
 * ({@link GenerationSettings#bindingClass}), so the Spark plumbing is tested without a model.
 */
public interface GenerationBinding {

    /** Opens an engine; called once per (model, device) per executor JVM by {@link EngineHolder}. */
    GenerationEngine openEngine(Path localModelDir, String device, Map<String, String> options) throws IOException;

    /** A per-engine factory that renders rows into requests. */
    RowRequestFactory requestFactory(GenerationEngine engine, Path localModelDir, GenerationSettings settings)
            throws IOException;

    /**
     * Checks the settings against the model directory on the driver, before any executor work: the model is
     * readable, template, preset and sampling options exist and are in range. Returns the model's fingerprint.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    String checkOnDriver(Path localModelDir, GenerationSettings settings) throws IOException;
}
