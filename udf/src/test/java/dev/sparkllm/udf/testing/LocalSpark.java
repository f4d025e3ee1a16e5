package dev.sparkllm.udf.testing;

import dev.sparkllm.udf.GenerationSettings;
import dev.sparkllm.udf.SparkLlmKryoRegistrator;
import dev.sparkllm.udf.SparkLlmPlugin;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A local-mode session configured as production runs (plugin, Kryo with registration required) for tests. */
public final class LocalSpark {

    private LocalSpark() {
    }

    public static SparkSession.Builder builder(int threads) {
        return SparkSession.builder()
                .master("local[" + threads + "]")
                .appName("sparkllm-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.plugins", SparkLlmPlugin.class.getName())
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", SparkLlmKryoRegistrator.class.getName())
                .config("spark.kryo.registrationRequired", "true");
    }

    /** A directory the fake binding accepts as a model. */
    public static Path fakeModel(Path dir) throws IOException {
        Path model = Files.createDirectories(dir.resolve("fake-model"));
        Files.writeString(model.resolve("config.json"), "{\"model_type\":\"fake\"}");
        return model;
    }

    public static GenerationSettings fakeSettings(Path model) {
        return new GenerationSettings(model.toString()).bindingClass(FakeBinding.class.getName()).device("cpu");
    }
}
