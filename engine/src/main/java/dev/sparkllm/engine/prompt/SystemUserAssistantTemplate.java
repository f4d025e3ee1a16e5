package dev.sparkllm.engine.prompt;

import java.util.List;

/**
 * The plain form printed on the model card of TheBloke's Llama-2-70B-chat-GPTQ:
 * <pre>
 * SYSTEM: {system}
 * USER: {prompt}
 * ASSISTANT:
 * </pre>
 * The SYSTEM line is left out when there is no system message. Conversations continue the same way, one line
 * per turn: {@code ASSISTANT: {reply}\nUSER: {prompt}\nASSISTANT:}.
 */
final class SystemUserAssistantTemplate implements ChatTemplate {

    static final String NAME = "system-user-assistant";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        int first = ConversationRules.requireAlternating(NAME, messages);
        RenderedPrompt.Builder out = RenderedPrompt.builder();
        if (first == 1) out.markup("SYSTEM: ").content(messages.get(0).content()).markup("\n");
        for (int i = first; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            out.markup(m.isUser() ? "USER: " : "ASSISTANT: ").content(m.content()).markup("\n");
        }
        if (addGenerationPrompt) out.markup("ASSISTANT:");
        return out.build();
    }
}
