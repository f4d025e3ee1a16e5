package dev.sparkllm.udf;

import java.util.List;
import java.util.Map;

/**
 * One row's generation input as read from its columns.
 *
 * @param id        the row's id (seeds derive from it)
 * @param prompt    the prompt text, or null when the row carries messages
 * @param messages  chat messages, or null when the row carries a prompt
 * @param rowParams per-row sampling values by option name (e.g. "max_new_tokens" -> 32), null values left out
 */
public record RowInput(String id, String prompt, List<ChatTurn> messages, Map<String, Object> rowParams) {

    /** One message of a chat: role ("system", "user", "assistant") and content. */
    public record ChatTurn(String role, String content) {
    }
}
