package dev.sparkllm.engine.prompt;

import java.util.List;

/** The prompt exactly as given, for base models and for prompts already formatted upstream. */
final class RawTemplate implements ChatTemplate {

    static final String NAME = "raw";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        ConversationRules.requireSingleTurn(NAME, messages, false);
        return RenderedPrompt.builder().content(messages.get(0).content()).build();
    }

    @Override
    public boolean supportsSystem() {
        return false;
    }
}
