package dev.sparkllm.job;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.is_valid_utf8;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

/**
 * Reads the input in each format so that text arrives with the bytes the file holds, never repaired on the way:
 * the job then applies one rule for bytes that are not UTF-8 whatever the format (see {@link InputTable}).
 * <ul>
 *   <li>Parquet and text: Spark keeps a string's bytes as they are.</li>
 *   <li>CSV: Spark's CSV reader replaces bad bytes with U+FFFD, so the file is read as ISO-8859-1 (every byte
 *       one character, and CSV's delimiters and quotes are ASCII, which UTF-8 never uses inside a multi-byte
 *       character) and each value is turned back into its original bytes.</li>
 *   <li>JSON lines: a line with bad bytes fails Spark's strict parser as a whole; its raw text is kept in a
 *       corrupt-record column and parsed again leniently (bad bytes as U+FFFD), so its fields, its id among them,
 *       are still read. {@link #BAD_RECORD} marks such rows: "bytes" (not UTF-8) or "json" (not JSON at all).</li>
 * </ul>
 */
final class InputFormats {

    /** Null for a row read normally; "bytes" or "json" for a JSON line read again leniently. */
    static final String BAD_RECORD = "__sparkllm_bad_record";
    private static final String CORRUPT = "__sparkllm_corrupt_record";

    private InputFormats() {
    }

    static Dataset<Row> read(SparkSession spark, JobOptions o, String format) {
        Dataset<Row> raw = switch (format) {
            case "parquet" -> spark.read().parquet(o.input);
            case "json" -> json(spark, o.input);
            case "csv" -> csv(spark, o.input);
            case "text" -> spark.read().text(o.input)
                    .withColumnRenamed("value", o.promptColumn == null ? "prompt" : o.promptColumn);
            default -> throw new IllegalArgumentException("unknown input format " + format);
        };
        return Arrays.asList(raw.columns()).contains(BAD_RECORD) ? raw
                : raw.withColumn(BAD_RECORD, lit(null).cast("string"));
    }

    private static Dataset<Row> json(SparkSession spark, String input) {
        Dataset<Row> raw = spark.read().option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", CORRUPT)
                .json(input);
        List<String> names = Arrays.asList(raw.columns());
        if (!names.contains(CORRUPT)) return raw;
        StructType fields = new StructType();
        for (StructField f : raw.schema().fields()) if (!f.name().equals(CORRUPT)) fields = fields.add(f);
        if (fields.isEmpty()) {
            // Not one line parsed: a pretty-printed JSON document, or not JSON at all.
            String file = raw.select(org.apache.spark.sql.functions.input_file_name()).first().getString(0);
            throw new IllegalArgumentException("input " + input + " has no line that parses as a JSON object, e.g. "
                    + InputLines.describe(FileSystemOf.of(spark, file), file, "json", "json") + "; JSON input is "
                    + "JSON lines: one object per line");
        }
        Column bad = col(CORRUPT).isNotNull();
        Column reread = from_json(col(CORRUPT), fields);
        List<Column> out = new ArrayList<>();
        for (StructField f : fields.fields()) {
            out.add(when(bad, reread.getField(f.name())).otherwise(Columns.col(f.name())).as(f.name()));
        }
        out.add(when(bad, when(is_valid_utf8(col(CORRUPT)), lit("json")).otherwise(lit("bytes"))).as(BAD_RECORD));
        return raw.select(out.toArray(Column[]::new));
    }

    private static Dataset<Row> csv(SparkSession spark, String input) {
        Dataset<Row> latin1 = spark.read().option("header", "true").option("multiLine", "true").option("escape", "\"")
                .option("encoding", "ISO-8859-1").csv(input);
        List<Column> out = new ArrayList<>();
        String[] names = latin1.columns();
        for (int i = 0; i < names.length; i++) {
            String name = new String(names[i].getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            if (i == 0 && name.startsWith("\uFEFF")) name = name.substring(1); // a UTF-8 byte-order mark
            // encode(.., ISO-8859-1) gives back the file's bytes; the cast keeps them as they are.
            out.add(org.apache.spark.sql.functions.encode(Columns.col(names[i]), "ISO-8859-1").cast("string").as(name));
        }
        return latin1.select(out.toArray(Column[]::new));
    }
}
