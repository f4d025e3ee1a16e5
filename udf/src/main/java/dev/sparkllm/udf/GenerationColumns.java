package dev.sparkllm.udf;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which input columns feed generation.
 *
 * @param promptColumn   a string column with the prompt, or null when {@code messagesColumn} is used
 * @param messagesColumn an array of {@code struct<role: string, content: string>}, or null
 * @param idColumn       a string or integer id column (seeds derive from it), or null for position-based ids
 * @param rowParams      per-row sampling options: option name (e.g. "max_new_tokens") to column name
 */
public record GenerationColumns(String promptColumn, String messagesColumn, String idColumn,
                                Map<String, String> rowParams) implements Serializable {

    public GenerationColumns {
        if ((promptColumn == null) == (messagesColumn == null)) {
            throw new IllegalArgumentException("give exactly one of a prompt column and a messages column");
        }
        rowParams = rowParams == null ? Map.of() : new LinkedHashMap<>(rowParams);
    }

    public static GenerationColumns prompt(String promptColumn) {
        return new GenerationColumns(promptColumn, null, null, Map.of());
    }

    public GenerationColumns withId(String id) {
        return new GenerationColumns(promptColumn, messagesColumn, id, rowParams);
    }

    public GenerationColumns withRowParams(Map<String, String> params) {
        return new GenerationColumns(promptColumn, messagesColumn, idColumn, params);
    }
}
