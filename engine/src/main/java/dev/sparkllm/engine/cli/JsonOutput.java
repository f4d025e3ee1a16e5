package dev.sparkllm.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.prompt.ChatMessage;
import dev.sparkllm.engine.prompt.FormattedPrompt;
import dev.sparkllm.engine.prompt.PromptInput;
import dev.sparkllm.engine.tokenizer.Tokenizer;


/** The command line's JSON output: one object per prompt. */
final class JsonOutput {

    static final ObjectMapper MAPPER = new ObjectMapper();

    private JsonOutput() {
    }

    /** A generation: prompt, text, ids, finish reason, counts, and log-probabilities when asked. */
    static String result(PromptInput input, FormattedPrompt prompt, GenerationResult r, boolean showPrompt, Tokenizer tokenizer) {
        ObjectNode o = MAPPER.createObjectNode();
        putPrompt(o, input);
        if (showPrompt) o.put("rendered_prompt", prompt.renderedText());
        o.put("text", r.text());
        o.set("token_ids", ids(r.tokenIds()));
        o.set("prompt_token_ids", ids(r.promptTokenIds()));
        o.put("finish_reason", r.finishReason().wireName());
        o.put("prompt_tokens", r.promptTokenIds().length);
        o.put("completion_tokens", r.tokenIds().length);
        o.put("truncated", prompt.truncated());
        if (prompt.truncated()) o.put("truncated_tokens", prompt.truncatedTokens());
        if (r.logprobs() != null) {
            ArrayNode lps = o.putArray("logprobs");
            for (GenerationResult.TokenLogprob lp : r.logprobs()) {
                ObjectNode e = lps.addObject();
                e.put("token_id", lp.tokenId());
                e.put("token", tokenizer.tokenString(lp.tokenId()));
                e.put("logprob", lp.logprob());
                ArrayNode top = e.putArray("top");
                for (int k = 0; k < lp.topIds().length; k++) {
                    top.addObject().put("token_id", lp.topIds()[k]).put("logprob", lp.topLogprobs()[k]);
                }
            }
        }
        o.put("error", r.error());
        return o.toString();
    }

    /** A prompt that failed before generation (a row-level problem such as an unknown role). */
    static String error(PromptInput input, String message) {
        ObjectNode o = MAPPER.createObjectNode();
        putPrompt(o, input);
        o.put("text", "");
        o.putArray("token_ids");
        o.putArray("prompt_token_ids");
        o.put("finish_reason", "error");
        o.put("error", message);
        return o.toString();
    }

    private static void putPrompt(ObjectNode o, PromptInput input) {
        if (input instanceof PromptInput.Text t) {
            o.put("prompt", t.text());
        } else if (input instanceof PromptInput.Messages m) {
            ArrayNode arr = o.putArray("messages");
            for (ChatMessage msg : m.messages()) arr.addObject().put("role", msg.role()).put("content", msg.content());
        }
    }

    private static ArrayNode ids(int[] ids) {
        ArrayNode a = MAPPER.createArrayNode();
        for (int id : ids) a.add(id);
        return a;
    }
}
