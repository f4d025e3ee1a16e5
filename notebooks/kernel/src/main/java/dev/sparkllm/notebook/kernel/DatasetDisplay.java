package dev.sparkllm.notebook.kernel;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;

import java.util.ArrayList;
import java.util.List;

/**
 * Shows a Spark Dataset as a table of its first rows (HTML in a notebook, aligned text elsewhere), like a
 * DataFrame in other notebook kernels. Showing it runs a Spark job for those rows, as {@code show()} would.
 */
final class DatasetDisplay {

    /** Rows shown; the table says when there are more. */
    static final int MAX_ROWS = 20;
    /** Cells longer than this are cut with an ellipsis so one long generation does not swamp the table. */
    static final int MAX_CELL_CHARS = 200;

    private DatasetDisplay() {
    }

    static void register(Renderer renderer) {
        renderer.createRegistration(Dataset.class)
                .preferring(MIMEType.TEXT_HTML, MIMEType.TEXT_PLAIN)
                .supporting(MIMEType.TEXT_HTML, MIMEType.TEXT_PLAIN)
                .register((ds, ctx) -> {
                    Table t = Table.of(ds);
                    ctx.renderIfRequested(MIMEType.TEXT_HTML, t::html);
                    ctx.renderIfRequested(MIMEType.TEXT_PLAIN, t::text);
                });
    }

    /** The first rows of a Dataset as strings. */
    record Table(List<String> columns, List<List<String>> rows, boolean more) {

        static Table of(Dataset<?> ds) {
            Dataset<Row> df = ds.toDF();
            List<Row> taken = df.limit(MAX_ROWS + 1).collectAsList();
            List<List<String>> rows = new ArrayList<>();
            for (Row r : taken.subList(0, Math.min(MAX_ROWS, taken.size()))) {
                List<String> cells = new ArrayList<>(r.size());
                for (int i = 0; i < r.size(); i++) cells.add(cell(r.get(i)));
                rows.add(cells);
            }
            return new Table(List.of(df.columns()), rows, taken.size() > MAX_ROWS);
        }

        private static String cell(Object v) {
            String s = v == null ? "null" : v.toString();
            return s.length() <= MAX_CELL_CHARS ? s : s.substring(0, MAX_CELL_CHARS - 1) + "…";
        }

        String html() {
            StringBuilder b = new StringBuilder("<table>\n<thead><tr>");
            for (String c : columns) b.append("<th>").append(escape(c)).append("</th>");
            b.append("</tr></thead>\n<tbody>\n");
            for (List<String> row : rows) {
                b.append("<tr>");
                for (String c : row) b.append("<td style=\"text-align:left\">").append(escape(c)).append("</td>");
                b.append("</tr>\n");
            }
            b.append("</tbody>\n</table>\n");
            if (more) b.append("<p>only the first ").append(MAX_ROWS).append(" rows are shown</p>\n");
            return b.toString();
        }

        String text() {
            int[] width = new int[columns.size()];
            for (int i = 0; i < width.length; i++) width[i] = columns.get(i).length();
            for (List<String> row : rows) {
                for (int i = 0; i < width.length; i++) width[i] = Math.max(width[i], oneLine(row.get(i)).length());
            }
            StringBuilder b = new StringBuilder();
            line(b, columns, width);
            for (List<String> row : rows) line(b, row, width);
            if (more) b.append("only the first ").append(MAX_ROWS).append(" rows are shown\n");
            return b.toString();
        }

        private static void line(StringBuilder b, List<String> cells, int[] width) {
            for (int i = 0; i < width.length; i++) {
                String c = oneLine(cells.get(i));
                b.append(i == 0 ? "" : " | ").append(c).append(" ".repeat(width[i] - c.length()));
            }
            b.append('\n');
        }

        private static String oneLine(String s) {
            return s.replace("\n", "\\n");
        }

        private static String escape(String s) {
            return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
        }
    }
}
