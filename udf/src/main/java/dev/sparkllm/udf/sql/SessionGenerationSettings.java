package dev.sparkllm.udf.sql;

import dev.sparkllm.udf.GenerationSettings;
import org.apache.spark.sql.SparkSession;

import java.util.Map;
import java.util.TreeMap;

/** Generation settings for {@code llm_generate} from the session's {@code spark.sparkllm.*} conf. */
final class SessionGenerationSettings {

    static final String PREFIX = "spark.sparkllm.";

    private SessionGenerationSettings() {
    }

    static GenerationSettings from(SparkSession session) {
        Map<String, String> conf = new TreeMap<>(scala.jdk.javaapi.CollectionConverters.asJava(session.conf().getAll()));
        String model = conf.get(PREFIX + "model");
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("llm_generate needs a model: SET spark.sparkllm.model=<model directory>");
        }
        GenerationSettings s = new GenerationSettings(model)
                .device(conf.getOrDefault(PREFIX + "device", "auto"))
                .template(conf.get(PREFIX + "template"))
                .systemPrompt(conf.get(PREFIX + "systemPrompt"))
                .preset(conf.get(PREFIX + "preset"));
        if (conf.containsKey(PREFIX + "binding")) s.bindingClass(conf.get(PREFIX + "binding"));
        if (conf.containsKey(PREFIX + "seed")) s.jobSeed(Long.parseLong(conf.get(PREFIX + "seed").trim()));
        if (conf.containsKey(PREFIX + "window")) s.window(Integer.parseInt(conf.get(PREFIX + "window").trim()));
        s.engineOptions(withPrefix(conf, PREFIX + "engine."));
        s.sampling(withPrefix(conf, PREFIX + "sampling."));
        return s;
    }

    private static Map<String, String> withPrefix(Map<String, String> conf, String prefix) {
        Map<String, String> out = new TreeMap<>();
        for (var e : conf.entrySet()) if (e.getKey().startsWith(prefix)) out.put(e.getKey().substring(prefix.length()), e.getValue());
        return out;
    }
}
