package dev.sparkllm.udf;

import dev.sparkllm.udf.testing.FakeBinding;
import dev.sparkllm.udf.testing.LocalSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LlmTransformerTest {

    static SparkSession spark;
    @TempDir
    static Path tmp;
    static Path model;

    @BeforeAll
    static void start() throws Exception {
        spark = LocalSpark.builder(2).getOrCreate();
        model = LocalSpark.fakeModel(tmp);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    LlmTransformer transformer() {
        return new LlmTransformer().setModelPath(model.toString()).setBinding(FakeBinding.class.getName())
                .setDevice("cpu").setInputCol("question").setIdCol("id").setMaxNewTokens(5).setSeed(11);
    }

    @Test
    void appendsTheResultStructWithTheParamsApplied() {
        Dataset<Row> df = spark.sql("SELECT CAST(id AS STRING) AS id, concat('who begat ', id) AS question FROM range(40)");
        List<Row> out = transformer().transform(df).collectAsList();
        assertEquals(40, out.size());
        for (Row r : out) {
            Row g = r.getStruct(2);
            long seed = RowSeeds.derive(11, r.getString(0));
            assertEquals(LlmGenerationTest.expected(r.getString(1), seed, 5), g.getString(0));
            assertEquals(5, g.getStruct(6).<Integer>getAs("max_new_tokens"), "parameters is a struct");
            assertEquals(seed, g.getStruct(6).<Long>getAs("seed"));
        }
    }

    @Test
    void transformSchemaChecksOnTheDriver() {
        StructType wrong = new StructType().add("id", "string").add("question", "int");
        var e = assertThrows(IllegalArgumentException.class, () -> transformer().transformSchema(wrong));
        assertEquals("prompt column 'question' has type int; expected string", e.getMessage());
        var unset = assertThrows(IllegalArgumentException.class, () -> new LlmTransformer().transformSchema(wrong));
        assertTrue(unset.getMessage().contains("modelPath is not set"));
        assertThrows(IllegalArgumentException.class, () -> transformer().setWindow(0));
        StructType ok = new StructType().add("id", "string").add("question", "string");
        assertEquals(GenerationOutput.schema(false, false), transformer().transformSchema(ok).apply("generation").dataType());
    }

    @Test
    void savesAndLoadsItsParams() throws Exception {
        LlmTransformer t = transformer().setTemperature(0.25).setStop(new String[]{"\n\n"});
        String path = tmp.resolve("saved-transformer").toString();
        t.write().overwrite().save(path);
        LlmTransformer loaded = LlmTransformer.load(path);
        assertEquals(t.uid(), loaded.uid());
        assertEquals(0.25, (Double) loaded.getOrDefault(loaded.temperature()));
        assertArrayEquals(new String[]{"\n\n"}, loaded.getOrDefault(loaded.stop()));
        assertEquals(model.toString(), loaded.getOrDefault(loaded.modelPath()));
        assertEquals(t.settings().resultDefiningParameters(), loaded.settings().resultDefiningParameters());
    }
}
