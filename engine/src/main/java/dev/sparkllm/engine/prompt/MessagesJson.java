package dev.sparkllm.engine.prompt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Conversations written as JSON, as chat APIs write them: a list of {@code {"role": ..., "content": ...}}
 * objects, or an object holding that list under {@code "messages"}. One conversation per line in a JSON lines
 * file ({@code bin/llm generate --messages-file}), or one per value in a table column.
 */
public final class MessagesJson {

    private static final ObjectMapper JSON = new ObjectMapper();

    private MessagesJson() {
    }

    /**
     * @throws PromptException when the text is not JSON or not a list of messages with string role and content
     */
    public static PromptInput.Messages parse(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new PromptException("messages are not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode list = root != null && root.isObject() ? root.get("messages") : root;
        if (list == null || !list.isArray()) {
            throw new PromptException("messages must be a JSON list of {\"role\": ..., \"content\": ...} objects"
                    + " (or an object with such a list under \"messages\")");
        }
        List<ChatMessage> messages = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            JsonNode role = m.get("role");
            JsonNode content = m.get("content");
            if (!m.isObject() || role == null || !role.isTextual() || content == null || !content.isTextual()) {
                throw new PromptException("message " + (i + 1) + " must be an object with string \"role\" and"
                        + " \"content\", got " + m);
            }
            messages.add(new ChatMessage(role.asText(), content.asText()));
        }
        return new PromptInput.Messages(messages);
    }

    /** One conversation per non-blank line; a bad line fails naming the file and line number. */
    public static List<PromptInput.Messages> readLines(Path file) {
        List<PromptInput.Messages> out = new ArrayList<>();
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int lineNumber = 0;
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                lineNumber++;
                if (line.isBlank()) continue;
                try {
                    out.add(parse(line));
                } catch (PromptException e) {
                    throw new PromptException(file + " line " + lineNumber + ": " + e.getMessage(), e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read messages file " + file + ": " + e.getMessage(), e);
        }
        return out;
    }
}
