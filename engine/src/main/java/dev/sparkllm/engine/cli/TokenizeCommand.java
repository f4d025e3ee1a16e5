package dev.sparkllm.engine.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sparkllm.engine.tokenizer.Tokenizer;
import dev.sparkllm.engine.tokenizer.TokenizerLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code llm tokenize}: the ids a model's tokenizer makes for raw text, with BOS/EOS as the tokenizer is
 * configured (Hugging Face's {@code encode(text)}). Needs only the tokenizer files.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print token ids for texts (--text, or lines of standard input).")
final class TokenizeCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "directory with tokenizer.json or tokenizer.model")
    Path model;

    @Option(names = "--text", paramLabel = "TEXT", description = "a text (repeatable); without it, each line of standard input")
    List<String> texts = new ArrayList<>();

    @Option(names = "--no-special-tokens", description = "do not add BOS/EOS (add_special_tokens=False)")
    boolean noSpecialTokens;

    @Option(names = "--json", description = "one JSON object per text with ids and tokens")
    boolean json;

    @Mixin
    TokenizerModeFlag tokenizerMode;

    @Override
    public Integer call() throws Exception {
        Tokenizer tokenizer = TokenizerLoader.load(model, tokenizerMode.mode());
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        if (!texts.isEmpty()) {
            for (String t : texts) print(out, tokenizer, t);
        } else {
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null; ) print(out, tokenizer, line);
        }
        return 0;
    }

    private void print(PrintStream out, Tokenizer tokenizer, String text) {
        int[] ids = tokenizer.encode(text, !noSpecialTokens);
        if (!json) {
            StringBuilder sb = new StringBuilder();
            for (int id : ids) sb.append(sb.length() == 0 ? "" : " ").append(id);
            out.println(sb);
            return;
        }
        ObjectNode o = JsonOutput.MAPPER.createObjectNode();
        o.put("text", text);
        ArrayNode idArray = o.putArray("ids");
        ArrayNode tokens = o.putArray("tokens");
        for (int id : ids) {
            idArray.add(id);
            tokens.add(tokenizer.tokenString(id));
        }
        out.println(o);
    }
}
