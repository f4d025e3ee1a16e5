package dev.sparkllm.udf;

import com.esotericsoftware.kryo.Kryo;
import org.apache.spark.serializer.KryoRegistrator;

/**
 * Registers every class sparkllm moves between JVMs through Spark's serializer (the broadcast settings and
 * what they hold), so jobs run with {@code spark.kryo.registrationRequired=true}. Add new classes here.
 */
public final class SparkLlmKryoRegistrator implements KryoRegistrator {

    @Override
    public void registerClasses(Kryo kryo) {
        kryo.register(GenerationSettings.class);
        kryo.register(java.util.TreeMap.class);
        kryo.register(java.util.HashMap.class);
        kryo.register(java.util.LinkedHashMap.class);
        kryo.register(java.util.ArrayList.class);
    }
}
