package dev.sparkllm.engine.prompt;

import java.io.Serializable;
import java.util.List;

/**
 * One message of a conversation. Roles are checked when the conversation is formatted, so a row with a bad
 * role fails as that row's error, not when it is read.
 *
 * @param role    {@code system}, {@code user} or {@code assistant}
 * @param content the message text; always data, never template markup
 */
public record ChatMessage(String role, String content) implements Serializable {

    public static final String SYSTEM = "system";
    public static final String USER = "user";
    public static final String ASSISTANT = "assistant";

    /** The roles every template understands. */
    public static final List<String> ROLES = List.of(SYSTEM, USER, ASSISTANT);

    public ChatMessage {
        if (role == null) throw new PromptException("message role is null; expected one of " + ROLES);
        if (content == null) throw new PromptException("content of a '" + role + "' message is null");
    }

    public static ChatMessage system(String content) { return new ChatMessage(SYSTEM, content); }

    public static ChatMessage user(String content) { return new ChatMessage(USER, content); }

    public static ChatMessage assistant(String content) { return new ChatMessage(ASSISTANT, content); }

    public boolean isSystem() { return SYSTEM.equals(role); }

    public boolean isUser() { return USER.equals(role); }

    public boolean isAssistant() { return ASSISTANT.equals(role); }
}
