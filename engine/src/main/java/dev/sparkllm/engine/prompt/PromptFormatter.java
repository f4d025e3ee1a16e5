package dev.sparkllm.engine.prompt;

import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.sampling.SamplingParams;
import dev.sparkllm.engine.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Turns a row's prompt (a text or a conversation) into the token ids the engine runs on: checks the
 * conversation, renders it with the chosen template, and tokenizes it so that data never becomes control tokens
 * while the template's own markers do. BOS is added once: by the template when it renders one, otherwise as the
 * tokenizer's {@code add_bos_token} says. Prompts that do not fit the context are truncated from the start of
 * their content, or rejected, as {@link PromptOptions#truncation()} says. Rendering is held to
 * {@link PromptOptions#renderLimits()}: a template that runs too long or renders too much fails the prompt with a
 * {@link PromptException} naming the limit.
 *
 * <p>Immutable and thread-safe: one formatter serves all rows of a partition, or of an executor.
 */
public final class PromptFormatter {

    private final Tokenizer tokenizer;
    private final PromptOptions options;
    private final ChatTemplate template;

    /**
     * @param tokenizer the model's tokenizer
     * @param modelDir  the model directory, for the model's own {@code chat_template} (tokenizer_config.json) and
     *                  its special tokens; may be null when the template is not {@code model}
     * @param options   template name or file path, system prompt, truncation, special tokens in content
     * @throws IllegalArgumentException naming the template when it is unknown, missing or malformed, or when it
     *                                  has no place for the system prompt
     */
    public PromptFormatter(Tokenizer tokenizer, Path modelDir, PromptOptions options) {
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.options = Objects.requireNonNull(options, "options");
        this.template = ChatTemplates.resolve(options.template(), modelDir, options.renderLimits());
        if (options.systemPrompt() != null && !template.supportsSystem()) {
            throw new IllegalArgumentException("template " + template.name() + " has no place for a system prompt;"
                    + " use llama-2-chat, system-user-assistant, model or a template file, or drop the system prompt");
        }
    }

    /** Names accepted as a template besides file paths: raw, llama-2-chat, system-user-assistant, model. */
    public static List<String> templateNames() {
        return ChatTemplates.names();
    }

    public PromptOptions options() {
        return options;
    }

    /** The resolved template's name. */
    public String templateName() {
        return template.name();
    }

    /**
     * Renders and tokenizes a prompt.
     *
     * @param input         a text or a conversation ending with a user message
     * @param maxNewTokens  tokens to reserve for the reply
     * @param contextLength the model's context length in tokens
     * @throws PromptException for a problem caused by the input: unknown role, an order the template cannot
     *                         express, an empty prompt, or a prompt too long under {@code FAIL}
     */
    public FormattedPrompt format(PromptInput input, int maxNewTokens, int contextLength) {
        List<ChatMessage> messages = conversation(input);
        int budget = contextLength - maxNewTokens;
        if (maxNewTokens < 0 || budget < 1) {
            throw new PromptException("max new tokens " + maxNewTokens + " leaves no room for a prompt in a context of "
                    + contextLength + " tokens; lower max_new_tokens");
        }
        Encoded full = encode(messages);
        if (full.ids().length == 0) throw new PromptException("the prompt renders to no tokens; it is empty");
        if (full.ids().length <= budget) return new FormattedPrompt(full.ids(), full.text(), false, 0);
        if (options.truncation() == PromptOptions.Truncation.FAIL) {
            throw new PromptException("the prompt is " + full.ids().length + " tokens, but a context of " + contextLength
                    + " tokens minus " + maxNewTokens + " new tokens leaves room for " + budget
                    + "; shorten it, lower max_new_tokens, or allow truncation (DROP_START_OF_CONTENT)");
        }
        Encoded cut = truncate(messages, budget, contextLength, maxNewTokens);
        return new FormattedPrompt(cut.ids(), cut.text(), true, full.ids().length - cut.ids().length);
    }

    /**
     * A request for the engine from a text or a conversation: formatted with room reserved for
     * {@code sampling.maxNewTokens()}, so the engine API takes messages as well as prompts.
     *
     * @throws PromptException as {@link #format} does
     */
    public GenerationRequest request(String id, PromptInput input, SamplingParams sampling, int contextLength) {
        FormattedPrompt prompt = format(input, sampling.maxNewTokens(), contextLength);
        return new GenerationRequest(id, prompt.tokenIds(), sampling);
    }

    /** Renders without tokenizing (what {@code --show-prompt} prints before tokenization). */
    public String render(PromptInput input) {
        return render(conversation(input)).text();
    }

    /** The template's output, held to the size limit whatever the template (Jinja ones also hold the time limit). */
    private RenderedPrompt render(List<ChatMessage> messages) {
        RenderedPrompt rendered = template.render(messages, true);
        long chars = 0;
        for (RenderedPrompt.Piece p : rendered.pieces()) chars += p.text().length();
        if (chars > options.renderLimits().maxChars()) throw options.renderLimits().sizeExceeded(template.name());
        return rendered;
    }

    /** The input as a checked conversation, with the configured system prompt when it has none. */
    private List<ChatMessage> conversation(PromptInput input) {
        List<ChatMessage> messages = new ArrayList<>();
        String system = options.systemPrompt();
        if (input instanceof PromptInput.Text t) {
            if (t.text().isBlank()) throw new PromptException("the prompt is empty");
            if (system != null) messages.add(ChatMessage.system(system));
            messages.add(ChatMessage.user(t.text()));
            return messages;
        }
        List<ChatMessage> given = ((PromptInput.Messages) input).messages();
        if (given.isEmpty()) throw new PromptException("the conversation has no messages");
        for (int i = 0; i < given.size(); i++) {
            String role = given.get(i).role();
            if (!ChatMessage.ROLES.contains(role)) {
                throw new PromptException("message " + (i + 1) + " has unknown role '" + role + "'; expected one of "
                        + ChatMessage.ROLES);
            }
        }
        ChatMessage last = given.get(given.size() - 1);
        if (!last.isUser()) {
            throw new PromptException("the conversation ends with a " + last.role() + " message; it must end with a"
                    + " user message, which the model answers");
        }
        if (system != null && !given.get(0).isSystem()) messages.add(ChatMessage.system(system));
        messages.addAll(given);
        return messages;
    }

    private record Encoded(int[] ids, String text) {
    }

    private Encoded encode(List<ChatMessage> messages) {
        RenderedPrompt rendered = render(messages);
        return new Encoded(tokenize(rendered), rendered.text());
    }

    /**
     * Token ids of a rendered prompt: markup parses special tokens, content only when allowed; never EOS. One
     * BOS: the template's own when it renders one (Llama-2 chat does), otherwise the tokenizer's
     * {@code add_bos_token}. (Hugging Face's {@code apply_chat_template} adds none for templates without BOS.)
     */
    int[] tokenize(RenderedPrompt rendered) {
        int[] ids = tokenizer.encode(rendered.segments(options.allowSpecialTokensInContent()), false);
        int bos = tokenizer.bosId();
        if (tokenizer.addsBos() && bos >= 0 && (ids.length == 0 || ids[0] != bos)) {
            int[] withBos = new int[ids.length + 1];
            withBos[0] = bos;
            System.arraycopy(ids, 0, withBos, 1, ids.length);
            ids = withBos;
        }
        return ids;
    }

    ChatTemplate template() {
        return template;
    }

    /**
     * Drops text from the start of the earliest non-system content until the prompt fits: emptying a message
     * moves on to the next one; the last user message keeps its end. The framing is re-rendered each time, so
     * the template stays intact.
     */
    private Encoded truncate(List<ChatMessage> messages, int budget, int contextLength, int maxNewTokens) {
        List<ChatMessage> work = new ArrayList<>(messages);
        for (int k = 0; k < work.size(); k++) {
            ChatMessage m = work.get(k);
            if (m.isSystem()) continue;
            String content = m.content();
            work.set(k, new ChatMessage(m.role(), ""));
            Encoded emptied = encode(work);
            if (emptied.ids().length > budget) continue;
            // Smallest cut (in code points, so no surrogate pair is split) that fits; cut = all of it fits.
            int lo = 0;
            int hi = content.codePointCount(0, content.length());
            Encoded best = emptied;
            while (hi - lo > 1) {
                int mid = (lo + hi) >>> 1;
                work.set(k, new ChatMessage(m.role(), content.substring(content.offsetByCodePoints(0, mid))));
                Encoded e = encode(work);
                if (e.ids().length <= budget) {
                    hi = mid;
                    best = e;
                } else {
                    lo = mid;
                }
            }
            return best;
        }
        throw new PromptException("the prompt does not fit even with all non-system content dropped: template "
                + template.name() + " and the system prompt alone need more than the " + budget + " tokens left in a"
                + " context of " + contextLength + " after " + maxNewTokens + " new tokens; shorten the system prompt"
                + " or lower max_new_tokens");
    }
}
