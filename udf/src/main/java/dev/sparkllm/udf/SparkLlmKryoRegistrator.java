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
        // Schemas travel in task results when Spark reads the output back (footer schema jobs) and in staged
        // input reads; Spark does not register its own type classes.
        kryo.register(org.apache.spark.sql.types.StructType.class);
        kryo.register(org.apache.spark.sql.types.StructField.class);
        kryo.register(org.apache.spark.sql.types.StructField[].class);
        kryo.register(org.apache.spark.sql.types.ArrayType.class);
        kryo.register(org.apache.spark.sql.types.MapType.class);
        kryo.register(org.apache.spark.sql.types.Metadata.class);
        for (String singleton : new String[]{"StringType$", "IntegerType$", "LongType$", "BooleanType$", "FloatType$",
                "DoubleType$", "BinaryType$", "ShortType$", "ByteType$", "NullType$", "DateType$", "TimestampType$"}) {
            kryo.register(type("org.apache.spark.sql.types." + singleton));
        }
        kryo.register(type("scala.collection.immutable.Map$EmptyMap$"));
    }

    private static Class<?> type(String name) {
        try {
            return Class.forName(name);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("Spark class " + name + " is missing; is this the Spark version sparkllm was built for?", e);
        }
    }
}
