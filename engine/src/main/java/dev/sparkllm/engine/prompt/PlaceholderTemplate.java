package dev.sparkllm.engine.prompt;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A single-turn template kept in a plain text file. Syntax:
 * <ul>
 *   <li>{@code {prompt}}: the user's message (required, once or more);</li>
 *   <li>{@code {system}}: the system message, empty when there is none;</li>
 *   <li>{@code {#system}...{/system}}: a section kept only when there is a system message (it may contain
 *       {@code {system}} and {@code {prompt}}; sections do not nest);</li>
 *   <li>{@code {{} and {@code }}}: literal braces; any other {@code {name}} is an error;</li>
 *   <li>everything else is template markup, so special-token strings in it ({@code <s>}, {@code </s>}) become
 *       the real control tokens;</li>
 *   <li>one final newline at the end of the file is ignored, since editors add it; end with two to keep one.</li>
 * </ul>
 * Example (Llama-2 chat, single turn): {@code <s>[INST] {#system}<<SYS>>\n{system}\n<</SYS>>\n\n{/system}{prompt} [/INST]}.
 * For conversations, use a Jinja file ({@code .jinja}) instead.
 */
final class PlaceholderTemplate implements ChatTemplate {

    /** A parsed part of the template. */
    private sealed interface Part {
    }

    private record Literal(String text) implements Part {
    }

    private record Placeholder(String name) implements Part {
    }

    private record SystemSection(List<Part> parts) implements Part {
    }

    private final String name;
    private final List<Part> parts;

    private PlaceholderTemplate(String name, List<Part> parts) {
        this.name = name;
        this.parts = parts;
    }

    static PlaceholderTemplate load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read template file " + file + ": " + e.getMessage(), e);
        }
        if (text.endsWith("\r\n")) text = text.substring(0, text.length() - 2);
        else if (text.endsWith("\n")) text = text.substring(0, text.length() - 1);
        return parse(file.toString(), text);
    }

    /** Parses template text; {@code name} is used in messages. */
    static PlaceholderTemplate parse(String name, String text) {
        List<Part> top = new ArrayList<>();
        List<Part> section = null;
        StringBuilder literal = new StringBuilder();
        boolean hasPrompt = false;
        int i = 0;
        while (i < text.length()) {
            if (text.startsWith("{{", i)) {
                literal.append('{');
                i += 2;
            } else if (text.startsWith("}}", i)) {
                literal.append('}');
                i += 2;
            } else if (text.charAt(i) == '{') {
                int close = text.indexOf('}', i);
                if (close < 0) throw badTemplate(name, "unclosed '{' at offset " + i);
                String tag = text.substring(i + 1, close);
                List<Part> target = section != null ? section : top;
                flush(literal, target);
                switch (tag) {
                    case "prompt" -> {
                        target.add(new Placeholder(tag));
                        hasPrompt = true;
                    }
                    case "system" -> target.add(new Placeholder(tag));
                    case "#system" -> {
                        if (section != null) throw badTemplate(name, "{#system} sections cannot nest (offset " + i + ")");
                        section = new ArrayList<>();
                    }
                    case "/system" -> {
                        if (section == null) throw badTemplate(name, "{/system} without {#system} (offset " + i + ")");
                        top.add(new SystemSection(List.copyOf(section)));
                        section = null;
                    }
                    default -> throw badTemplate(name, "unknown placeholder {" + tag + "} at offset " + i
                            + "; use {prompt}, {system}, {#system}...{/system}, or {{ and }} for literal braces");
                }
                i = close + 1;
            } else {
                literal.append(text.charAt(i++));
            }
        }
        if (section != null) throw badTemplate(name, "{#system} is never closed with {/system}");
        flush(literal, top);
        if (!hasPrompt) throw badTemplate(name, "it has no {prompt} placeholder for the user's message");
        return new PlaceholderTemplate(name, List.copyOf(top));
    }

    private static void flush(StringBuilder literal, List<Part> target) {
        if (literal.length() > 0) {
            target.add(new Literal(literal.toString()));
            literal.setLength(0);
        }
    }

    private static IllegalArgumentException badTemplate(String name, String problem) {
        return new IllegalArgumentException("template file " + name + ": " + problem);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        ConversationRules.requireSingleTurn(name, messages, true);
        String system = messages.size() == 2 ? messages.get(0).content() : null;
        String prompt = messages.get(messages.size() - 1).content();
        RenderedPrompt.Builder out = RenderedPrompt.builder();
        append(parts, system, prompt, out);
        return out.build();
    }

    private static void append(List<Part> parts, String system, String prompt, RenderedPrompt.Builder out) {
        for (Part part : parts) {
            if (part instanceof Literal l) out.markup(l.text());
            else if (part instanceof Placeholder p) out.content(p.name().equals("prompt") ? prompt : system == null ? "" : system);
            else if (part instanceof SystemSection s && system != null) append(s.parts(), system, prompt, out);
        }
    }
}
