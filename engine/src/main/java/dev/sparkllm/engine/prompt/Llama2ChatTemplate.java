package dev.sparkllm.engine.prompt;

import java.util.List;

/**
 * Meta's Llama-2 chat format, exactly as the {@code chat_template} of Meta's Llama-2 chat models renders it:
 * <pre>
 * &lt;s&gt;[INST] &lt;&lt;SYS&gt;&gt;\n{system}\n&lt;&lt;/SYS&gt;&gt;\n\n{user} [/INST] {assistant} &lt;/s&gt;&lt;s&gt;[INST] {user} [/INST]
 * </pre>
 * Each turn's text is stripped of surrounding whitespace the way that template does it: the system block and the
 * first user message are stripped together, as one string.
 */
final class Llama2ChatTemplate implements ChatTemplate {

    static final String NAME = "llama-2-chat";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        int first = ConversationRules.requireAlternating(NAME, messages);
        String system = first == 1 ? messages.get(0).content() : null;
        RenderedPrompt.Builder out = RenderedPrompt.builder();
        for (int i = first; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            RenderedPrompt.Builder turn = RenderedPrompt.builder();
            if (i == first && system != null) {
                turn.markup("<<SYS>>\n").content(system).markup("\n<</SYS>>\n\n");
            }
            turn.content(m.content()).strip();
            if (m.isUser()) {
                out.markup("<s>[INST] ").addAll(turn.build()).markup(" [/INST]");
            } else {
                out.markup(" ").addAll(turn.build()).markup(" </s>");
            }
        }
        // The format has no separate generation prompt: the reply follows " [/INST]" directly.
        return out.build();
    }
}
