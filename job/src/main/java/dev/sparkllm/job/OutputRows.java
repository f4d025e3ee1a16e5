package dev.sparkllm.job;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

/**
 * The output table's committed rows, always read with the run's own output schema: what a format happened to
 * write (JSON leaves out null fields; an all-failed run has no prompt_tokens values) never changes the columns or
 * the id's type the job computes with. Also the id accounting that resume and the summary rest on: which input
 * ids have an output row, which output rows have ids no longer in the input.
 */
final class OutputRows {

    static final String CHUNK = "chunk";

    private OutputRows() {
    }

    /** The rows of every committed chunk, with the {@code chunk} column. */
    static Dataset<Row> committed(SparkSession spark, ChunkedOutput out, String format, StructType schema, int chunks)
            throws IOException {
        StructType withChunk = schema.add(CHUNK, DataTypes.IntegerType);
        List<String> paths = new ArrayList<>();
        for (int k = 0; k < chunks; k++) if (out.committed(k)) paths.add(out.chunk(k).toString());
        if (paths.isEmpty()) return spark.createDataFrame(List.of(), withChunk);
        return spark.read().schema(withChunk).format(format).option("basePath", out.root.toString())
                .load(paths.toArray(String[]::new));
    }

    /** One committed chunk's rows (no {@code chunk} column). */
    static Dataset<Row> chunk(SparkSession spark, ChunkedOutput out, String format, StructType schema, int k) {
        return spark.read().schema(schema).format(format).load(out.chunk(k).toString());
    }

    /** A writer that writes every column of every row, nulls included (JSON would leave null fields out). */
    static DataFrameWriter<Row> writer(Dataset<Row> rows, String format) {
        return rows.write().mode(org.apache.spark.sql.SaveMode.Overwrite).format(format).option("ignoreNullFields", "false");
    }

    /**
     * Per chunk: input ids, input ids with no committed row ("missing"), input ids whose committed row is an error
     * row, and committed rows whose id is not in the input ("extra").
     */
    record ChunkIds(long input, long missing, long errors, long extra) {
        static final ChunkIds NONE = new ChunkIds(0, 0, 0, 0);
    }

    static Map<Integer, ChunkIds> perChunk(Dataset<Row> staged, Dataset<Row> committed, String idColumn) {
        Dataset<Row> joined = joined(staged, committed, idColumn, null);
        Column chunk = coalesce(col("__ik"), col("__ok"));
        Map<Integer, ChunkIds> m = new HashMap<>();
        for (Row r : joined.groupBy(chunk.as("__k")).agg(count(col("__iid")),
                sum(when(col("__iid").isNotNull().and(col("__oid").isNull()), 1).otherwise(0)),
                sum(when(col("__iid").isNotNull().and(col("__fr").equalTo("error")), 1).otherwise(0)),
                sum(when(col("__iid").isNull(), 1).otherwise(0))).collectAsList()) {
            m.put(r.getInt(0), new ChunkIds(r.getLong(1), r.getLong(2), r.getLong(3), r.getLong(4)));
        }
        return m;
    }

    /**
     * Input ids against committed rows: one row per (input id, its output rows) pair, full outer; with
     * {@code textColumn}, also the input's and the output's prompt (or messages) and the input's row error.
     */
    static Dataset<Row> joined(Dataset<Row> staged, Dataset<Row> committed, String idColumn, String textColumn) {
        List<Column> inCols = new ArrayList<>(List.of(Columns.col(idColumn).as("__iid"),
                col(ChunkedOutput.CHUNK_COLUMN).as("__ik")));
        List<Column> outCols = new ArrayList<>(List.of(Columns.col(idColumn).as("__oid"), col(CHUNK).as("__ok"),
                col("finish_reason").as("__fr"), col("prompt_tokens").as("__pt"), col("completion_tokens").as("__ct")));
        if (textColumn != null) {
            inCols.add(Columns.col(textColumn).as("__it"));
            inCols.add(Columns.col(InputTable.INPUT_ERROR).as("__ie"));
            outCols.add(Columns.col(textColumn).as("__ot"));
        }
        Dataset<Row> in = staged.select(inCols.toArray(Column[]::new));
        Dataset<Row> out = committed.select(outCols.toArray(Column[]::new));
        return in.join(out, in.col("__iid").eqNullSafe(out.col("__oid")), "full_outer");
    }

    /**
     * Counts for the summary: see {@link RunSummary}. {@code changedText}: output rows for input ids whose prompt
     * (or messages) differs from the input's now; resume is keyed by ids, so they are kept and reported.
     */
    record Totals(long outputRows, long outputRowsForInput, long missing, long extra, long failed, long promptTokens,
                  long completionTokens, long duplicateIds, Object extraExample, Object missingExample,
                  long changedText, Object changedExample) {
    }

    static Totals totals(Dataset<Row> staged, Dataset<Row> committed, String idColumn, String textColumn) {
        Dataset<Row> j = joined(staged, committed, idColumn, textColumn);
        Column forInput = col("__iid").isNotNull().and(col("__oid").isNotNull());
        Column changed = forInput.and(col("__ie").isNull()).and(not(col("__it").eqNullSafe(col("__ot"))));
        Row r = j.agg(count(col("__oid")), sum(when(forInput, 1).otherwise(0)),
                sum(when(col("__oid").isNull(), 1).otherwise(0)), sum(when(col("__iid").isNull(), 1).otherwise(0)),
                sum(when(forInput.and(col("__fr").equalTo("error")), 1).otherwise(0)),
                sum(when(forInput, col("__pt")).otherwise(lit(0))), sum(when(forInput, col("__ct")).otherwise(lit(0))),
                sum(when(changed, 1).otherwise(0)))
                .first();
        long duplicates = committed.groupBy(Columns.col(idColumn)).count().where(col("count").gt(1)).count();
        long extra = longAt(r, 3);
        long missing = longAt(r, 2);
        long changedText = longAt(r, 7);
        Object extraExample = extra == 0 ? null : j.where(col("__iid").isNull()).select("__oid").first().get(0);
        Object missingExample = missing == 0 ? null : j.where(col("__oid").isNull()).select("__iid").first().get(0);
        Object changedExample = changedText == 0 ? null : j.where(changed).select("__iid").first().get(0);
        return new Totals(longAt(r, 0), longAt(r, 1), missing, extra, longAt(r, 4), longAt(r, 5), longAt(r, 6),
                duplicates, extraExample, missingExample, changedText, changedExample);
    }

    private static long longAt(Row r, int i) {
        return r.isNullAt(i) ? 0 : ((Number) r.get(i)).longValue();
    }
}
