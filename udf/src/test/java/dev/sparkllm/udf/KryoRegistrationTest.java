package dev.sparkllm.udf;

import dev.sparkllm.udf.testing.LocalSpark;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Settings reach executors through Kryo with registration required, and that path is really the one taken. */
class KryoRegistrationTest {

    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = LocalSpark.builder(2).getOrCreate();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Not registered on purpose. */
    static final class Unregistered implements Serializable {
        int value = 7;
    }

    @Test
    void theSessionSerialisesWithKryoRequiringRegistration() {
        SparkConf conf = spark.sparkContext().getConf();
        assertEquals(KryoSerializer.class.getName(), conf.get("spark.serializer"));
        assertEquals("true", conf.get("spark.kryo.registrationRequired"));
        assertInstanceOf(KryoSerializer.class, SparkEnv.get().serializer());
    }

    @Test
    void settingsRoundTripThroughTheRegisteredKryo() {
        SerializerInstance kryo = SparkEnv.get().serializer().newInstance();
        GenerationSettings s = new GenerationSettings("hdfs://nn/models/m").device("cuda").template("llama-2-chat")
                .sampling(Map.of("temperature", "0.7", "stop", "a\u0000b")).engineOptions(Map.of("max_batch", "64"))
                .jobSeed(3L).logprobs(2).includeTokenIds(true).window(17).modelFingerprint("abc");
        GenerationSettings back = kryo.deserialize(kryo.serialize(s, scala.reflect.ClassTag$.MODULE$.apply(GenerationSettings.class)),
                scala.reflect.ClassTag$.MODULE$.apply(GenerationSettings.class));
        assertEquals(s.toString(), back.toString());
        assertEquals(s.resultDefiningParameters(), back.resultDefiningParameters());
        assertEquals(s.engineOptions(), back.engineOptions());
        assertEquals(17, back.window());
        assertEquals("abc", back.modelFingerprint());
    }

    @Test
    void broadcastsTakeTheKryoPath() {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<GenerationSettings> ok = jsc.broadcast(new GenerationSettings("/m").window(5));
        List<Integer> windows = jsc.parallelize(List.of(1, 2, 3), 3).map(i -> ok.value().window()).collect();
        assertEquals(List.of(5, 5, 5), windows);
        // The same broadcast with a class the registrator does not know fails: the broadcast really is Kryo's.
        Exception e = assertThrows(Exception.class, () -> jsc.broadcast(new Unregistered()));
        assertTrue(LlmGenerationTest.stackText(e).contains("Class is not registered"), LlmGenerationTest.stackText(e));
    }
}
