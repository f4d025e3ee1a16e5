package dev.sparkllm.job;

import dev.sparkllm.udf.GenerationColumns;
import dev.sparkllm.udf.LlmGeneration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.IntegralType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static dev.sparkllm.job.InputFormats.BAD_RECORD;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.instr;
import static org.apache.spark.sql.functions.is_valid_utf8;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.when;

/**
 * The prompts table as the job sees it: read in its format, checked (columns, types) on the driver, reduced to
 * the columns the job needs. Problems stop the job here with a message naming them.
 *
 * <p><b>Ids.</b> The id column (--id-column, else an input column named {@code id}) keeps its name and its Spark
 * type; string, integer and decimal ids are accepted (exact values that compare and hash reliably). Without one,
 * ids are derived as strings "FILE:N": the input file's path below --input and the row's position in that file,
 * counting from 0. Null and repeated ids are checked on the staged copy ({@link #checkIds}).
 *
 * <p><b>Bytes that are not UTF-8</b> (one rule for every format; {@link InputFormats} keeps the bytes): a row
 * whose prompt, messages, kept columns or row-parameter columns hold such bytes becomes an error row under its
 * id, naming the columns; its text is written with U+FFFD in their place. A row whose id cannot be read (its
 * bytes are not UTF-8, or its JSON line does not parse) stops the job naming the file and line; with derived ids
 * a JSON line that does not parse is an error row under its "FILE:N" id.
 */
final class InputTable {

    /** Name of derived ids when the input has no id column. */
    static final String DERIVED_ID = "id";
    /** Hidden staged columns: the row's file (URI), and why its id cannot be read ("bytes", "json") or null. */
    static final String FILE = "__sparkllm_file";
    static final String BAD_ID = "__sparkllm_bad_id";
    static final String INPUT_ERROR = GenerationColumns.INPUT_ERROR;
    private static final String POSITION = "__sparkllm_position";
    private static final String RELATIVE = "__sparkllm_relative";
    private static final String FIRST = "__sparkllm_first";
    private static final String REPLACEMENT = "\uFFFD";

    /**
     * The reduced input.
     *
     * @param rows      id column first, then prompt or messages, kept columns, row-parameter columns, and the
     *                  hidden {@link #INPUT_ERROR}, {@link #BAD_ID}, {@link #FILE} columns
     * @param idColumn  the id column's name (the input's, or {@link #DERIVED_ID})
     * @param derived   whether ids were derived from file and position
     * @param format    the input format
     */
    record Table(Dataset<Row> rows, String idColumn, boolean derived, String format) {
        /** The id, prompt and kept columns with their types, as they will appear in the output. */
        String outputColumnTypes(JobOptions o) {
            List<String> parts = new ArrayList<>();
            for (String c : outputInputColumns(o, idColumn)) {
                parts.add(c + " " + rows.schema().apply(c).dataType().simpleString());
            }
            return String.join(", ", parts);
        }
    }

    private InputTable() {
    }

    /** The format named by --input-format, else inferred from the path's (or its first data file's) extension. */
    static String format(SparkSession spark, JobOptions o) throws IOException {
        if (o.inputFormat != null) return o.inputFormat;
        Path p = new Path(o.input);
        FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
        FileStatus[] matches = fs.globStatus(p); // a plain path, or a pattern such as prompts/*.jsonl
        if (matches == null || matches.length == 0) {
            throw new IllegalArgumentException("input " + o.input + (isGlob(o.input) ? " matches no files" : " does not exist"));
        }
        p = matches[0].getPath();
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

    static boolean isGlob(String path) {
        return path.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '{');
    }

    /**
     * Reads and checks the input's columns and reduces it; nothing is counted or checked row by row yet.
     *
     * @param outputNames the result columns of the output table, which input columns copied to it must not shadow
     */
    static Table load(SparkSession spark, JobOptions o, List<String> outputNames) throws IOException {
        String format = format(spark, o);
        Dataset<Row> raw;
        try {
            raw = InputFormats.read(spark, o, format);
        } catch (Exception e) { // Spark's AnalysisException is checked but undeclared
            if (e instanceof RuntimeException re) throw re;
            throw new IllegalArgumentException("cannot read input " + o.input + " as " + format + ": " + e.getMessage(), e);
        }
        List<String> columns = new ArrayList<>(Arrays.asList(raw.columns()));
        columns.remove(BAD_RECORD);
        if (columns.isEmpty()) {
            throw new IllegalArgumentException("input " + o.input + " has no columns: its " + format + " files are empty "
                    + "or their rows have no fields, so there is nothing to generate");
        }
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
        if (source != null) checkIdType(raw.schema(), source, o.idColumn == null);
        String idColumn = source != null ? source : DERIVED_ID;
        checkNoClash(o, idColumn, outputNames);

        Dataset<Row> marked = raw.withColumn(INPUT_ERROR, inputError(raw.schema(), o))
                .withColumn(BAD_ID, source == null ? lit(null).cast("string") : badId(raw.schema(), source))
                .withColumn(FILE, functions.input_file_name());
        Dataset<Row> withId = source != null ? marked : derivedIds(spark, marked, o);
        Set<String> keep = new LinkedHashSet<>();
        keep.add(idColumn);
        keep.add(o.promptColumn != null ? o.promptColumn : o.messagesColumn);
        keep.addAll(o.keepColumns);
        keep.addAll(o.rowParams.values());
        keep.addAll(List.of(INPUT_ERROR, BAD_ID, FILE));
        Dataset<Row> table = withId.select(keep.stream().map(Columns::col).toArray(Column[]::new));
        return new Table(table, idColumn, source == null, format);
    }

    /** Ids must be exact values: strings, integers or decimals (floats compare badly; structs do not hash). */
    private static void checkIdType(StructType schema, String id, boolean implicit) {
        DataType t = schema.apply(id).dataType();
        if (t instanceof StringType || t instanceof IntegralType || t instanceof DecimalType) return;
        throw new IllegalArgumentException("id column '" + id + "'" + (implicit ? " (an input column named id is the row "
                + "id when --id-column is not given)" : "") + " has type " + t.simpleString() + "; ids must be strings, "
                + "integers or decimals, exact values that compare reliably: cast the column, or pass --id-column with "
                + "another column");
    }

    /** Input columns copied to the output must not take the name of a result column. */
    private static void checkNoClash(JobOptions o, String idColumn, List<String> outputNames) {
        for (String c : outputInputColumns(o, idColumn)) {
            for (String r : outputNames) {
                if (c.equalsIgnoreCase(r)) {
                    throw new IllegalArgumentException("input column '" + c + "' is copied to the output, which has a "
                            + "result column named '" + r + "' (" + String.join(", ", outputNames) + "); rename the "
                            + "input column or leave it out of --keep-columns");
                }
            }
        }
    }

    /** Why the row cannot be generated before it gets to the engine, or null. */
    private static Column inputError(StructType schema, JobOptions o) {
        List<Column> bad = new ArrayList<>();
        List<String> checked = new ArrayList<>();
        if (o.promptColumn != null) checked.add(o.promptColumn);
        checked.addAll(o.keepColumns);
        checked.addAll(o.rowParams.values());
        for (String c : new LinkedHashSet<>(checked)) {
            if (schema.apply(c).dataType() instanceof StringType) bad.add(when(badText(Columns.col(c)), lit("'" + c + "'")));
        }
        if (o.messagesColumn != null) bad.add(when(badMessages(o.messagesColumn), lit("'" + o.messagesColumn + "'")));
        Column names = bad.isEmpty() ? lit("") : concat_ws(", ", bad.toArray(Column[]::new));
        return when(Columns.col(BAD_RECORD).equalTo("json"), lit("the input line is not valid JSON; fix the line"))
                .when(names.notEqual(""), concat(names, lit(" holds bytes that are not valid UTF-8; the job reads text as "
                        + "UTF-8 and never guesses another encoding: re-encode the input as UTF-8")));
    }

    /** Bytes that are not UTF-8: still in the value (Parquet, text, CSV) or replaced by a lenient JSON re-read. */
    private static Column badText(Column c) {
        return not(coalesce(is_valid_utf8(c), lit(true)))
                .or(Columns.col(BAD_RECORD).equalTo("bytes").and(coalesce(instr(c, REPLACEMENT).gt(0), lit(false))));
    }

    private static Column badMessages(String column) {
        String m = Columns.quote(column);
        String reread = Columns.quote(BAD_RECORD) + " = 'bytes'";
        String field = "(NOT coalesce(is_valid_utf8(x.%1$s), true) OR (" + reread + " AND coalesce(instr(x.%1$s, '"
                + REPLACEMENT + "') > 0, false)))";
        return expr("coalesce(exists(" + m + ", x -> " + String.format(field, "role") + " OR "
                + String.format(field, "content") + "), false)");
    }

    private static Column badId(StructType schema, String id) {
        Column bytes = schema.apply(id).dataType() instanceof StringType ? badText(Columns.col(id)) : lit(false);
        Column lost = Columns.col(BAD_RECORD).isNotNull().and(Columns.col(id).isNull());
        return when(bytes, lit("bytes")).when(lost, Columns.col(BAD_RECORD));
    }

    static GenerationColumns columns(JobOptions o, String idColumn) {
        return new GenerationColumns(o.promptColumn, o.messagesColumn, idColumn, o.rowParams);
    }

    /**
     * Ids "FILE:N" from the input file's path below --input and the row's position in that file, so the same file
     * read again gets the same ids, whatever other files the input gains or loses. Positions follow the read
     * order, in which Spark keeps each file's rows in file order.
     */
    private static Dataset<Row> derivedIds(SparkSession spark, Dataset<Row> marked, JobOptions o) throws IOException {
        Path rootPath = new Path(o.input);
        FileSystem fs = rootPath.getFileSystem(spark.sparkContext().hadoopConfiguration());
        // A pattern's files are named by their path below the pattern's fixed part.
        while (isGlob(rootPath.toString()) && rootPath.getParent() != null) rootPath = rootPath.getParent();
        String root = fs.makeQualified(rootPath).toUri().getPath();
        boolean single = fs.exists(rootPath) && fs.getFileStatus(rootPath).isFile();
        StructType schema = marked.schema().add(RELATIVE, DataTypes.StringType, false).add(POSITION, DataTypes.LongType, false);
        int fileIdx = marked.schema().fieldIndex(FILE);
        JavaRDD<Row> rows = marked.javaRDD().zipWithIndex().map(t -> {
            Row r = t._1();
            Object[] v = new Object[r.length() + 2];
            for (int i = 0; i < r.length(); i++) v[i] = r.get(i);
            v[r.length()] = relative(r.getString(fileIdx), root, single);
            v[r.length() + 1] = t._2();
            return RowFactory.create(v);
        });
        Dataset<Row> indexed = spark.createDataFrame(rows, schema);
        Dataset<Row> firsts = indexed.groupBy(Columns.col(RELATIVE)).agg(functions.min(POSITION).as(FIRST));
        return indexed.join(functions.broadcast(firsts), RELATIVE)
                .withColumn(DERIVED_ID, concat(Columns.col(RELATIVE), lit(":"),
                        Columns.col(POSITION).minus(Columns.col(FIRST)).cast("string")))
                .drop(RELATIVE, POSITION, FIRST);
    }

    /** A data file's path below the input root ("part-1.jsonl", "day=2/part-1.jsonl"); its name for a file input. */
    static String relative(String fileUri, String root, boolean single) {
        String p;
        try {
            p = java.net.URI.create(fileUri).getPath();
        } catch (IllegalArgumentException e) {
            p = new Path(fileUri).toUri().getPath();
        }
        String name = p.substring(p.lastIndexOf('/') + 1);
        if (single || !p.startsWith(root + "/")) return name;
        return p.substring(root.length() + 1);
    }

    /**
     * Stops the job when an id cannot be read, is null, or repeats: each names how many rows and one example.
     * Runs on the staged copy (one Parquet pass each instead of re-reading the input).
     */
    static void checkIds(Dataset<Row> staged, String idColumn, JobOptions o, FileSystem fs, String format) throws IOException {
        Column id = Columns.col(idColumn);
        Dataset<Row> unreadable = staged.where(Columns.col(BAD_ID).isNotNull());
        List<Row> bad = unreadable.select(Columns.col(FILE), Columns.col(BAD_ID)).limit(1).collectAsList();
        if (!bad.isEmpty()) {
            long n = unreadable.count();
            String file = bad.get(0).getString(0);
            String why = bad.get(0).getString(1);
            throw new IllegalArgumentException(n + " input row" + (n == 1 ? " has" : "s have") + " an id that cannot be read, e.g. "
                    + InputLines.describe(fs, file, why, format) + "; fix or remove "
                    + (n == 1 ? "that row" : "those rows") + " (the job stops rather than lose a row's id)");
        }
        String implicit = o.idColumn == null ? " (an input column named id is the row id when --id-column is not given)" : "";
        Dataset<Row> nulls = staged.where(id.isNull());
        List<Row> example = nulls.select(Columns.col(FILE)).limit(1).collectAsList();
        if (!example.isEmpty()) {
            long n = nulls.count();
            throw new IllegalArgumentException("id column '" + idColumn + "'" + implicit + " is null in " + n + " row"
                    + (n == 1 ? "" : "s") + ", e.g. in " + InputLines.name(example.get(0).getString(0))
                    + "; every row needs an id: fill them in, or pass --id-column with a column that has one per row");
        }
        Dataset<Row> repeated = staged.groupBy(id).count().where("count > 1");
        List<Row> dup = repeated.orderBy(functions.desc("count")).limit(1).collectAsList();
        if (!dup.isEmpty()) {
            long total = repeated.count();
            throw new IllegalArgumentException(total + " id" + (total == 1 ? " occurs" : "s occur") + " more than once in column '"
                    + idColumn + "'" + implicit + ", e.g. '" + dup.get(0).get(0) + "' (" + dup.get(0).getLong(1)
                    + " rows); ids must be unique, one output row per id: remove or renumber the repeated rows");
        }
    }

    /** The input columns copied to the output: id, prompt or messages, kept columns. */
    static List<String> outputInputColumns(JobOptions o, String idColumn) {
        List<String> c = new ArrayList<>();
        c.add(idColumn);
        String text = o.promptColumn != null ? o.promptColumn : o.messagesColumn;
        if (!c.contains(text)) c.add(text);
        for (String k : o.keepColumns) if (!c.contains(k)) c.add(k);
        return c;
    }
}
