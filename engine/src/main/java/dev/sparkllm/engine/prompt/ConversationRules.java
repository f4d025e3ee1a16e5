package dev.sparkllm.engine.prompt;

import java.util.List;

/** Order checks shared by the named templates, with messages that say what is wrong and where. */
final class ConversationRules {

    private ConversationRules() {
    }

    /**
     * An optional system message first, then user and assistant messages alternating from a user message.
     * Returns the index of the first non-system message.
     */
    static int requireAlternating(String template, List<ChatMessage> messages) {
        if (messages.isEmpty()) throw new PromptException("the conversation has no messages");
        int first = messages.get(0).isSystem() ? 1 : 0;
        for (int i = first; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            String expected = (i - first) % 2 == 0 ? ChatMessage.USER : ChatMessage.ASSISTANT;
            if (m.isSystem()) {
                throw new PromptException("message " + (i + 1) + " is a system message; template " + template
                        + " allows one system message, and only as the first message");
            }
            if (!m.role().equals(expected)) {
                throw new PromptException("message " + (i + 1) + " is a " + m.role() + " message where template "
                        + template + " needs a " + expected + " message: after an optional system message, user and"
                        + " assistant messages must alternate, starting with user");
            }
        }
        if (first == messages.size()) {
            throw new PromptException("the conversation has only a system message; add a user message");
        }
        return first;
    }

    /** A single user message, optionally preceded by one system message. */
    static void requireSingleTurn(String template, List<ChatMessage> messages, boolean systemAllowed) {
        int first = messages.size() == 2 && messages.get(0).isSystem() && systemAllowed ? 1 : 0;
        if (messages.size() != first + 1 || !messages.get(first).isUser()) {
            throw new PromptException("template " + template + " takes a single user message"
                    + (systemAllowed ? " (after an optional system message)" : "") + ", got roles "
                    + messages.stream().map(ChatMessage::role).toList()
                    + "; use llama-2-chat, system-user-assistant or model for conversations");
        }
    }
}
