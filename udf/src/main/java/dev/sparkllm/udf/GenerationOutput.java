package dev.sparkllm.udf;

import dev.sparkllm.engine.api.GenerationResult;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The result struct every face of generation returns (Dataset transform, Transformer, {@code llm_generate}):
 * <pre>
 * generation        string   generated text; null for error rows
 * finish_reason     string   stop | length | error
 * prompt_tokens     int      prompt length in tokens after templating and truncation (null for error rows
 *                            that never got a prompt)
 * completion_tokens int      generated tokens
 * truncated         boolean  the prompt was cut to fit the context window
 * error             string   why the row failed; null when it succeeded
 * parameters        struct   the row's resolved sampling parameters ({@link #PARAMETERS}: temperature, top_k,
 *                            top_p, ..., seed), so SQL reads {@code parameters.temperature}; null for rows that
 *                            failed before their parameters were resolved
 * token_ids         array&lt;int&gt;   generated ids (only with include token ids)
 * logprobs          array&lt;struct&gt; per generated token: token_id, logprob, top_ids, top_logprobs (only with logprobs)
 * </pre>
 */
public final class GenerationOutput {

    private GenerationOutput() {
    }

    public static final StructType LOGPROB = new StructType()
            .add("token_id", DataTypes.IntegerType, false)
            .add("logprob", DataTypes.FloatType, false)
            .add("top_ids", DataTypes.createArrayType(DataTypes.IntegerType, false))
            .add("top_logprobs", DataTypes.createArrayType(DataTypes.FloatType, false));

    /**
     * The resolved sampling parameters of a row, by their Hugging Face / vLLM names (see SamplingSettings). A
     * fixed struct rather than a map or JSON text: typed for Parquet readers and addressable in SQL.
     */
    public static final StructType PARAMETERS = new StructType()
            .add("temperature", DataTypes.DoubleType)
            .add("top_k", DataTypes.IntegerType)
            .add("top_p", DataTypes.DoubleType)
            .add("min_p", DataTypes.DoubleType)
            .add("repetition_penalty", DataTypes.DoubleType)
            .add("presence_penalty", DataTypes.DoubleType)
            .add("frequency_penalty", DataTypes.DoubleType)
            .add("max_new_tokens", DataTypes.IntegerType)
            .add("min_new_tokens", DataTypes.IntegerType)
            .add("stop", DataTypes.createArrayType(DataTypes.StringType, false))
            .add("stop_token_ids", DataTypes.createArrayType(DataTypes.IntegerType, false))
            .add("ignore_eos", DataTypes.BooleanType)
            .add("seed", DataTypes.LongType)
            .add("logprobs", DataTypes.IntegerType);

    /** The result struct for these settings. */
    public static StructType schema(boolean tokenIds, boolean logprobs) {
        List<StructField> f = new ArrayList<>(List.of(
                DataTypes.createStructField("generation", DataTypes.StringType, true),
                DataTypes.createStructField("finish_reason", DataTypes.StringType, false),
                DataTypes.createStructField("prompt_tokens", DataTypes.IntegerType, true),
                DataTypes.createStructField("completion_tokens", DataTypes.IntegerType, false),
                DataTypes.createStructField("truncated", DataTypes.BooleanType, false),
                DataTypes.createStructField("error", DataTypes.StringType, true),
                DataTypes.createStructField("parameters", PARAMETERS, true)));
        if (tokenIds) f.add(DataTypes.createStructField("token_ids", DataTypes.createArrayType(DataTypes.IntegerType, false), true));
        if (logprobs) f.add(DataTypes.createStructField("logprobs", DataTypes.createArrayType(LOGPROB, false), true));
        return DataTypes.createStructType(f);
    }

    public static StructType schema(GenerationSettings s) {
        return schema(s.includeTokenIds(), s.logprobs() >= 0);
    }

    /** An error row: the row's own fault, generation null. */
    static Row error(GenerationSettings s, Integer promptTokens, String message, Map<String, ?> parameters) {
        return row(s, null, "error", promptTokens, 0, false, message, parameters, null, null);
    }

    /** A row from the engine's result. */
    static Row of(GenerationSettings s, GenerationResult r, boolean truncated, Map<String, ?> parameters) {
        boolean failed = r.finishReason() == dev.sparkllm.engine.api.FinishReason.ERROR;
        List<Row> logprobs = null;
        if (r.logprobs() != null) {
            logprobs = new ArrayList<>(r.logprobs().size());
            for (GenerationResult.TokenLogprob lp : r.logprobs()) {
                logprobs.add(RowFactory.create(lp.tokenId(), lp.logprob(), ints(lp.topIds()), floats(lp.topLogprobs())));
            }
        }
        return row(s, failed ? null : r.text(), r.finishReason().wireName(), r.promptTokenIds().length,
                r.tokenIds().length, truncated, failed ? r.error() : null, parameters, ints(r.tokenIds()), logprobs);
    }

    private static Row row(GenerationSettings s, String text, String reason, Integer promptTokens, int completionTokens,
                           boolean truncated, String error, Map<String, ?> parameters, Object tokenIds, List<Row> logprobs) {
        List<Object> v = new ArrayList<>(9);
        v.add(text);
        v.add(reason);
        v.add(promptTokens);
        v.add(completionTokens);
        v.add(truncated);
        v.add(error);
        v.add(parameters(parameters));
        if (s.includeTokenIds()) v.add(tokenIds);
        if (s.logprobs() >= 0) v.add(logprobs == null ? null : seq(logprobs));
        return RowFactory.create(v.toArray());
    }

    /**
     * The {@link #PARAMETERS} row for resolved parameters by name; names outside the struct are left out, values
     * are converted to the field's type (numbers of any width, lists of strings or ids).
     */
    static Row parameters(Map<String, ?> values) {
        if (values == null) return null;
        Object[] v = new Object[PARAMETERS.size()];
        for (int i = 0; i < v.length; i++) {
            StructField f = PARAMETERS.fields()[i];
            Object x = values.get(f.name());
            if (x == null) continue;
            DataType t = f.dataType();
            if (t == DataTypes.DoubleType) v[i] = ((Number) x).doubleValue();
            else if (t == DataTypes.IntegerType) v[i] = ((Number) x).intValue();
            else if (t == DataTypes.LongType) v[i] = ((Number) x).longValue();
            else if (t == DataTypes.BooleanType) v[i] = x instanceof Boolean b ? b : Boolean.parseBoolean(String.valueOf(x));
            else if (x instanceof int[] ids) v[i] = ints(ids);
            else if (x instanceof List<?> l && ((ArrayType) t).elementType() == DataTypes.IntegerType) {
                List<Object> ids = new ArrayList<>(l.size());
                for (Object o : l) ids.add(((Number) o).intValue());
                v[i] = seq(ids);
            } else if (x instanceof List<?> l) {
                List<Object> strings = new ArrayList<>(l.size());
                for (Object o : l) strings.add(String.valueOf(o));
                v[i] = seq(strings);
            } else {
                throw new IllegalArgumentException("sampling parameter " + f.name() + " has value " + x + " of "
                        + x.getClass().getSimpleName() + "; expected " + t.simpleString());
            }
        }
        return RowFactory.create(v);
    }

    // Row encoders take Scala sequences for array columns.
    private static scala.collection.immutable.Seq<Object> ints(int[] a) {
        if (a == null) return null;
        List<Object> l = new ArrayList<>(a.length);
        for (int x : a) l.add(x);
        return seq(l);
    }

    private static scala.collection.immutable.Seq<Object> floats(float[] a) {
        if (a == null) return null;
        List<Object> l = new ArrayList<>(a.length);
        for (float x : a) l.add(x);
        return seq(l);
    }

    private static <T> scala.collection.immutable.Seq<T> seq(List<T> l) {
        return scala.jdk.javaapi.CollectionConverters.asScala(l).toList();
    }
}
