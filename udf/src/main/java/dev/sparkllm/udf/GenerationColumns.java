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
 * @param optionsColumn  a {@code map<string, string>} column of further per-row sampling options, or null
 *                       ({@code llm_generate}'s second argument); named columns in rowParams win over it
 */
public record GenerationColumns(String promptColumn, String messagesColumn, String idColumn,
                                Map<String, String> rowParams, String optionsColumn) implements Serializable {

    /**
     * Optional input column: when a row's value is not null, the row is an error row with that message. Readers
     * that find a row's problem before generation (bytes that are not UTF-8, a line that is not JSON) put it here
     * so the row keeps its id.
     */
    public static final String INPUT_ERROR = "__sparkllm_input_error";

    public GenerationColumns(String promptColumn, String messagesColumn, String idColumn, Map<String, String> rowParams) {
        this(promptColumn, messagesColumn, idColumn, rowParams, null);
    }

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
        return new GenerationColumns(promptColumn, messagesColumn, id, rowParams, optionsColumn);
    }

    public GenerationColumns withRowParams(Map<String, String> params) {
        return new GenerationColumns(promptColumn, messagesColumn, idColumn, params, optionsColumn);
    }
}
