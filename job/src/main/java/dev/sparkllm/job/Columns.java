package dev.sparkllm.job;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.functions;

/**
 * Column references by exact name: an input column may be called "a.b" or "x`y", which {@code functions.col}
 * would read as a nested field or fail on.
 */
final class Columns {

    private Columns() {
    }

    static Column col(String name) {
        return functions.col(quote(name));
    }

    static String quote(String name) {
        return "`" + name.replace("`", "``") + "`";
    }
}
