package dev.sparkllm.udf;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@link RowInput} from a Spark row and rejects what no template can render: null, empty or blank
 * prompts, text that is not valid UTF-8, unpaired UTF-16 surrogates, messages without role or content.
 * Column positions are resolved once on the driver.
 */
final class InputRowReader implements Serializable {

    /** Hidden column with the prompt's raw bytes: Spark decodes invalid UTF-8 silently, bytes cannot hide it. */
    static final String PROMPT_BYTES = "__sparkllm_prompt_bytes";
    static final String INPUT_ERROR = GenerationColumns.INPUT_ERROR;

    private final int prompt;
    private final int promptBytes;
    private final int messages;
    private final int id;
    private final String[] paramNames;
    private final int[] paramColumns;
    private final int options;
    private final int inputError;

    InputRowReader(StructType schema, GenerationColumns cols) {
        prompt = cols.promptColumn() == null ? -1 : schema.fieldIndex(cols.promptColumn());
        promptBytes = cols.promptColumn() == null || !List.of(schema.fieldNames()).contains(PROMPT_BYTES)
                ? -1 : schema.fieldIndex(PROMPT_BYTES);
        messages = cols.messagesColumn() == null ? -1 : schema.fieldIndex(cols.messagesColumn());
        id = cols.idColumn() == null ? -1 : schema.fieldIndex(cols.idColumn());
        options = cols.optionsColumn() == null ? -1 : schema.fieldIndex(cols.optionsColumn());
        inputError = List.of(schema.fieldNames()).contains(INPUT_ERROR) ? schema.fieldIndex(INPUT_ERROR) : -1;
        paramNames = cols.rowParams().keySet().toArray(new String[0]);
        paramColumns = new int[paramNames.length];
        for (int i = 0; i < paramNames.length; i++) paramColumns[i] = schema.fieldIndex(cols.rowParams().get(paramNames[i]));
    }

    /** The row's id: its id column, else a position-based fallback. */
    String id(Row row, String fallback) {
        if (id < 0 || row.isNullAt(id)) return fallback;
        return idText(row.get(id));
    }

    /**
     * An id value as text, as Spark casts it to a string (seeds derive from this text, so an integer id 7 and a
     * string id "7" give the same seed): decimals in plain notation with their scale, never "1E+3".
     */
    static String idText(Object id) {
        return id instanceof java.math.BigDecimal d ? d.toPlainString() : String.valueOf(id);
    }

    RowInput read(Row row, String id) throws RowInputException {
        if (inputError >= 0 && !row.isNullAt(inputError)) throw new RowInputException(row.getString(inputError));
        Map<String, Object> params = new LinkedHashMap<>();
        if (options >= 0 && !row.isNullAt(options)) {
            for (Map.Entry<Object, Object> e : row.<Object, Object>getJavaMap(options).entrySet()) {
                if (e.getValue() != null) params.put(String.valueOf(e.getKey()), e.getValue());
            }
        }
        for (int i = 0; i < paramNames.length; i++) {
            if (!row.isNullAt(paramColumns[i])) params.put(paramNames[i], row.get(paramColumns[i]));
        }
        if (prompt >= 0) {
            if (promptBytes >= 0 && !row.isNullAt(promptBytes)) checkUtf8((byte[]) row.get(promptBytes), "prompt");
            String text = row.isNullAt(prompt) ? null : row.getString(prompt);
            checkText(text, "prompt");
            return new RowInput(id, text, null, params);
        }
        if (row.isNullAt(messages)) throw new RowInputException("messages is null; the row needs at least one message");
        List<Row> list = row.getList(messages);
        if (list.isEmpty()) throw new RowInputException("messages is empty; the row needs at least one message");
        List<RowInput.ChatTurn> turns = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            Row m = list.get(i);
            if (m == null) throw new RowInputException("message " + i + " is null");
            int r = m.fieldIndex("role");
            int c = m.fieldIndex("content");
            String role = m.isNullAt(r) ? null : m.getString(r);
            String content = m.isNullAt(c) ? null : m.getString(c);
            if (role == null || role.isBlank()) throw new RowInputException("message " + i + " has no role");
            checkSurrogates(content, "message " + i + " content");
            if (content == null) throw new RowInputException("message " + i + " (" + role + ") has null content");
            turns.add(new RowInput.ChatTurn(role, content));
        }
        return new RowInput(id, null, turns, params);
    }

    static void checkText(String text, String what) throws RowInputException {
        if (text == null) throw new RowInputException(what + " is null");
        if (text.isEmpty()) throw new RowInputException(what + " is empty");
        if (text.isBlank()) throw new RowInputException(what + " is only whitespace");
        checkSurrogates(text, what);
    }

    static void checkSurrogates(String text, String what) throws RowInputException {
        if (text == null) return;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new RowInputException(what + " has an unpaired UTF-16 surrogate U+"
                        + Integer.toHexString(c).toUpperCase() + " at char " + i + "; fix the text's encoding");
            }
        }
    }

    static void checkUtf8(byte[] bytes, String what) throws RowInputException {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
        } catch (CharacterCodingException e) {
            throw new RowInputException(what + " is not valid UTF-8 (" + e.getMessage()
                    + "); re-encode the input as UTF-8");
        }
    }
}
