package dev.sparkllm.job;

import dev.sparkllm.udf.GenerationColumns;
import dev.sparkllm.udf.LlmGeneration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The prompts table as the job sees it: read in its format, checked (columns, types, ids) on the driver, reduced
 * to the columns the job needs, with a string id column. Problems stop the job here with a message naming them.
 */
final class InputTable {

    /** Name of derived ids when the input has no id column. */
    static final String DERIVED_ID = "id";

    private InputTable() {
    }

    /** The format named by --input-format, else inferred from the path's (or its first data file's) extension. */
    static String format(SparkSession spark, JobOptions o) throws IOException {
        if (o.inputFormat != null) return o.inputFormat;
        Path p = new Path(o.input);
        FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
        if (!fs.exists(p)) throw new IllegalArgumentException("input " + o.input + " does not exist");
        String name = p.getName();
        if (fs.getFileStatus(p).isDirectory()) {
            name = null;
            for (FileStatus f : fs.listStatus(p)) {
                String n = f.getPath().getName();
                if (f.isFile() && !n.startsWith("_") && !n.startsWith(".")) {
                    name = n;
                    break;
                }
            }
            if (name == null) throw new IllegalArgumentException("input directory " + o.input + " has no data files");
        }
        String n = name.toLowerCase(Locale.ROOT).replaceAll("\\.(gz|bz2|zst|snappy|lz4)$", "");
        if (n.endsWith(".parquet")) return "parquet";
        if (n.endsWith(".jsonl") || n.endsWith(".json") || n.endsWith(".ndjson")) return "json";
        if (n.endsWith(".csv")) return "csv";
        if (n.endsWith(".txt")) return "text";
        throw new IllegalArgumentException("cannot infer the format of input " + o.input + " from '" + name
                + "'; pass --input-format parquet|json|csv|text");
    }

    /** Reads, checks and reduces the input; the result has the id column first. */
    static Dataset<Row> load(SparkSession spark, JobOptions o, String idColumn) throws IOException {
        String format = format(spark, o);
        Dataset<Row> raw = switch (format) {
            case "parquet" -> spark.read().parquet(o.input);
            case "json" -> spark.read().json(o.input);
            case "csv" -> spark.read().option("header", "true").option("multiLine", "true").option("escape", "\"")
                    .csv(o.input);
            case "text" -> spark.read().text(o.input).withColumnRenamed("value", o.promptColumn == null ? "prompt" : o.promptColumn);
            default -> throw new IllegalArgumentException("unknown input format " + format);
        };
        List<String> columns = Arrays.asList(raw.columns());
        for (String k : o.keepColumns) {
            if (!columns.contains(k)) {
                throw new IllegalArgumentException("--keep-columns names '" + k + "', which is not in the input; its columns are "
                        + String.join(", ", columns));
            }
        }
        // Without --id-column, an input column named "id" is the row id (checked like a given one); only an
        // input without one gets ids derived from file and position.
        String source = o.idColumn != null ? o.idColumn : columns.contains(DERIVED_ID) ? DERIVED_ID : null;
        LlmGeneration.validateSchema(raw.schema(), columns(o, source));
        Dataset<Row> withId = source != null
                ? raw.withColumn(idColumn, functions.col(source).cast(DataTypes.StringType))
                : derivedIds(spark, raw);
        Set<String> keep = new LinkedHashSet<>();
        keep.add(idColumn);
        keep.add(o.promptColumn != null ? o.promptColumn : o.messagesColumn);
        keep.addAll(o.keepColumns);
        keep.addAll(o.rowParams.values());
        Dataset<Row> table = withId.select(keep.stream().map(functions::col).toArray(Column[]::new));
        checkIds(table, idColumn);
        return table;
    }

    static GenerationColumns columns(JobOptions o, String idColumn) {
        return new GenerationColumns(o.promptColumn, o.messagesColumn, idColumn, o.rowParams);
    }

    /**
     * Ids made from the input file's name and the row's position in the read order, before any repartitioning,
     * so the same input read again gets the same ids: "prompts.jsonl:17".
     */
    private static Dataset<Row> derivedIds(SparkSession spark, Dataset<Row> raw) {
        Dataset<Row> withFile = raw.withColumn("__file", functions.element_at(
                functions.split(functions.input_file_name(), "/"), -1));
        StructType schema = withFile.schema().add(DERIVED_ID, DataTypes.StringType, false);
        int fileIdx = withFile.schema().fieldIndex("__file");
        JavaRDD<Row> rows = withFile.javaRDD().zipWithIndex().map(t -> {
            Row r = t._1();
            Object[] v = new Object[r.length() + 1];
            for (int i = 0; i < r.length(); i++) v[i] = r.get(i);
            v[r.length()] = r.getString(fileIdx) + ":" + t._2();
            return RowFactory.create(v);
        });
        return spark.createDataFrame(rows, schema).drop("__file");
    }

    /** Null or duplicate ids stop the job, listing some. */
    private static void checkIds(Dataset<Row> table, String idColumn) {
        long nulls = table.where(functions.col(idColumn).isNull()).count();
        if (nulls > 0) throw new IllegalArgumentException("id column '" + idColumn + "' is null in " + nulls + " rows; every row needs an id");
        List<Row> dups = table.groupBy(idColumn).count().where("count > 1").limit(10).collectAsList();
        if (!dups.isEmpty()) {
            long total = table.groupBy(idColumn).count().where("count > 1").count();
            String list = dups.stream().map(r -> "'" + r.getString(0) + "' (" + r.getLong(1) + " rows)")
                    .collect(Collectors.joining(", "));
            throw new IllegalArgumentException(total + " ids occur more than once in column '" + idColumn + "', e.g. "
                    + list + "; ids must be unique");
        }
    }

    static List<String> outputInputColumns(JobOptions o, String idColumn) {
        List<String> c = new ArrayList<>();
        c.add(idColumn);
        c.add(o.promptColumn != null ? o.promptColumn : o.messagesColumn);
        for (String k : o.keepColumns) if (!c.contains(k)) c.add(k);
        return c;
    }
}
