package dev.sparkllm.engine.prompt;

import java.io.Serializable;
import java.util.List;

/** A row's prompt: a text, or a conversation whose next assistant message the model writes. */
public sealed interface PromptInput extends Serializable {

    /** A single user prompt; the template puts it where the user's message goes. */
    record Text(String text) implements PromptInput {
        public Text {
            if (text == null) throw new PromptException("prompt text is null");
        }
    }

    /** A conversation of system, user and assistant messages, in order. */
    record Messages(List<ChatMessage> messages) implements PromptInput {
        public Messages {
            if (messages == null) throw new PromptException("message list is null");
            for (int i = 0; i < messages.size(); i++) {
                if (messages.get(i) == null) throw new PromptException("message " + (i + 1) + " is null");
            }
            messages = List.copyOf(messages);
        }
    }

    static PromptInput text(String text) { return new Text(text); }

    static PromptInput messages(List<ChatMessage> messages) { return new Messages(messages); }
}
