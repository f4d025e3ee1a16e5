package dev.sparkllm.udf;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Generation as a Dataset transform: appends one result column ({@link GenerationOutput} struct) to every row,
 * one output row per input row, in input order within each partition. Each task streams its partition through
 * the executor's shared engine (see {@link WindowedGeneration}).
 */
public final class LlmGeneration {

    private LlmGeneration() {
    }

    /** Checks the columns exist with usable types; the message names the column. Runs on the driver. */
    public static void validateSchema(StructType schema, GenerationColumns cols) {
        if (cols.promptColumn() != null) {
            requireType(schema, cols.promptColumn(), "prompt column", t -> t instanceof StringType, "string");
        } else {
            requireType(schema, cols.messagesColumn(), "messages column", LlmGeneration::isMessages,
                    "array<struct<role: string, content: string>>");
        }
        if (cols.idColumn() != null) {
            requireType(schema, cols.idColumn(), "id column",
                    t -> t instanceof StringType || t instanceof NumericType, "string or integer");
        }
        if (cols.optionsColumn() != null) {
            requireType(schema, cols.optionsColumn(), "options column", t -> t instanceof org.apache.spark.sql.types.MapType m
                    && m.keyType() instanceof StringType, "map<string, string>");
        }
        for (Map.Entry<String, String> p : cols.rowParams().entrySet()) {
            requireType(schema, p.getValue(), "row parameter " + p.getKey(),
                    t -> t instanceof NumericType || t instanceof StringType || t == DataTypes.BooleanType,
                    "number, string or boolean");
        }
    }

    private static boolean isMessages(DataType t) {
        if (!(t instanceof ArrayType a) || !(a.elementType() instanceof StructType s)) return false;
        // Any field order (JSON schema inference sorts fields); further fields are ignored.
        List<String> names = Arrays.asList(s.fieldNames());
        return names.contains("role") && names.contains("content")
                && s.apply("role").dataType() instanceof StringType && s.apply("content").dataType() instanceof StringType;
    }

    private static void requireType(StructType schema, String column, String what,
                                    java.util.function.Predicate<DataType> ok, String expected) {
        if (!Arrays.asList(schema.fieldNames()).contains(column)) {
            throw new IllegalArgumentException(what + " '" + column + "' is not in the input; its columns are "
                    + String.join(", ", schema.fieldNames()));
        }
        DataType t = schema.apply(column).dataType();
        if (!ok.test(t)) {
            throw new IllegalArgumentException(what + " '" + column + "' has type " + t.simpleString()
                    + "; expected " + expected);
        }
    }

    /**
     * Appends {@code outputColumn} (the result struct) to every row of {@code input}.
     *
     * @param settings checked on the driver already (see {@link GenerationBinding#checkOnDriver})
     */
    public static Dataset<Row> generate(Dataset<Row> input, GenerationColumns cols, GenerationSettings settings,
                                        String outputColumn) {
        validateSchema(input.schema(), cols);
        if (Arrays.asList(input.schema().fieldNames()).contains(outputColumn)) {
            throw new IllegalArgumentException("output column '" + outputColumn + "' already exists in the input");
        }
        StructType outSchema = input.schema().add(outputColumn, GenerationOutput.schema(settings), false);
        Dataset<Row> withBytes = cols.promptColumn() == null ? input
                : input.withColumn(InputRowReader.PROMPT_BYTES,
                        functions.col("`" + cols.promptColumn().replace("`", "``") + "`").cast("binary")); // "a.b" is a name
        Broadcast<GenerationSettings> shared = JavaSparkContext.fromSparkContext(input.sparkSession().sparkContext())
                .broadcast(settings);
        InputRowReader reader = new InputRowReader(withBytes.schema(), cols);
        int keep = input.schema().size();
        return withBytes.mapPartitions(new PartitionFunction(shared, reader, keep), Encoders.row(outSchema));
    }

    /** The task-side function: serialised with the closure, the settings through the (Kryo) broadcast. */
    private record PartitionFunction(Broadcast<GenerationSettings> settings, InputRowReader reader, int keepColumns)
            implements MapPartitionsFunction<Row, Row> {

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            var task = org.apache.spark.TaskContext.get();
            String prefix = task == null ? "row-" : "p" + task.partitionId() + "-";
            return new WindowedGeneration(rows, reader, settings.value(), (in, result) -> {
                Object[] v = new Object[keepColumns + 1];
                for (int i = 0; i < keepColumns; i++) v[i] = in.get(i);
                v[keepColumns] = result;
                return RowFactory.create(v);
            }, prefix);
        }
    }
}
