package dev.sparkllm.engine.prompt;

import java.util.List;

/** Turns a conversation into the text a model was trained on, marking which parts are data. */
public interface ChatTemplate {

    /** The template's name as the user chose it (a name, {@code model}, or a file path). */
    String name();

    /**
     * Renders a conversation.
     *
     * @param messages            the conversation, roles already checked to be system, user or assistant
     * @param addGenerationPrompt end with the framing that starts the assistant's reply
     * @throws PromptException when the template cannot express the conversation (order, roles, count)
     */
    RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt);

    /** Whether the template has a place for a system message. */
    default boolean supportsSystem() {
        return true;
    }
}
