package dev.sparkllm.engine.prompt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Templates are programs: rendering gets a time limit and an output-size limit, each a row error naming the engine
 * option that raises it. Before the limits, the nested-loop template below rendered for minutes (three loops over
 * range(1000) are 10^9 iterations) and the doubling one ran out of memory.
 */
class RenderLimitsTest {

    /** Loops 10^9 times for a message starting "loop", renders quickly otherwise. */
    private static final String NESTED_LOOPS = "{% for m in messages %}{% if m.content.startswith('loop') %}"
            + "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}{% endfor %}{% endfor %}{% endfor %}"
            + "{% endif %}[{{ m.role }}] {{ m.content }}\n{% endfor %}";

    /** Prints a message starting "big" a million times. */
    private static final String REPEATING = "{% for m in messages %}{% if m.content.startswith('big') %}"
            + "{% for a in range(1000) %}{% for b in range(1000) %}{{ m.content }}{% endfor %}{% endfor %}"
            + "{% else %}{{ m.content }}{% endif %}{% endfor %}";

    /** Doubles a string built from a message starting "double" 40 times (a terabyte) before printing it. */
    private static final String DOUBLING = "{% for m in messages %}{% set ns = namespace(s=m.content) %}"
            + "{% if m.content.startswith('double') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{% endif %}"
            + "{{ ns.s }}{% endfor %}";

    @TempDir
    Path dir;

    private PromptFormatter formatter(String template, RenderLimits limits) throws Exception {
        Path file = dir.resolve("t" + template.hashCode() + ".jinja");
        Files.writeString(file, template);
        return new PromptFormatter(new CharTokenizer(true), null,
                PromptOptions.defaults().withTemplate(file.toString()).withRenderLimits(limits));
    }

    @Test
    void nestedLoopsStopAtTheTimeLimit() throws Exception {
        PromptFormatter f = formatter(NESTED_LOOPS, new RenderLimits(300, RenderLimits.DEFAULT_MAX_CHARS));
        assertTrue(f.render(PromptInput.text("hello")).contains("[user] hello"));
        long start = System.nanoTime();
        PromptException e = assertThrows(PromptException.class, () -> f.format(PromptInput.text("loop forever"), 1, 1 << 20));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < 5_000, "stopped after " + millis + " ms");
        assertTrue(e.getMessage().contains("longer than 300 ms") && e.getMessage().contains("template_timeout_ms"), e.getMessage());
        // The same conversation with a later message that loops, and the rows after it are unaffected.
        assertThrows(PromptException.class, () -> f.format(PromptInput.messages(List.of(ChatMessage.user("hi"),
                ChatMessage.assistant("ok"), ChatMessage.user("loop again"))), 1, 1 << 20));
        assertTrue(f.format(PromptInput.text("fine"), 1, 1 << 20).renderedText().contains("fine"));
    }

    @Test
    void theDefaultTimeLimitStopsTheLoopToo() throws Exception {
        PromptFormatter f = formatter(NESTED_LOOPS, RenderLimits.defaults());
        long start = System.nanoTime();
        PromptException e = assertThrows(PromptException.class, () -> f.format(PromptInput.text("loop"), 1, 1 << 20));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < RenderLimits.DEFAULT_TIMEOUT_MILLIS + 3_000, "stopped after " + millis + " ms");
        assertTrue(e.getMessage().contains(RenderLimits.DEFAULT_TIMEOUT_MILLIS + " ms"), e.getMessage());
    }

    @Test
    void outputGrowingPastTheSizeLimitIsARowError() throws Exception {
        PromptFormatter f = formatter(REPEATING, new RenderLimits(60_000, 100_000));
        assertEquals("small", f.render(PromptInput.text("small")));
        PromptException e = assertThrows(PromptException.class, () -> f.format(PromptInput.text("big text"), 1, 1 << 20));
        assertTrue(e.getMessage().contains("more than 100000 characters") && e.getMessage().contains("template_max_chars"),
                e.getMessage());
    }

    @Test
    void aStringBuiltPastTheSizeLimitIsARowErrorNotAnOutOfMemory() throws Exception {
        PromptFormatter f = formatter(DOUBLING, new RenderLimits(60_000, 1_000_000));
        assertEquals("plain", f.render(PromptInput.text("plain")));
        PromptException e = assertThrows(PromptException.class, () -> f.format(PromptInput.text("double me"), 1, 1 << 20));
        assertTrue(e.getMessage().contains("template_max_chars"), e.getMessage());
    }

    @Test
    void aTemplateThatCannotRenderAnyConversationIsRefusedUpFront() throws Exception {
        String always = "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}{% endfor %}"
                + "{% endfor %}{% endfor %}{{ messages[0].content }}";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> formatter(always, new RenderLimits(200, RenderLimits.DEFAULT_MAX_CHARS)));
        assertTrue(e.getMessage().contains("cannot render a one-message conversation")
                && e.getMessage().contains("template_timeout_ms"), e.getMessage());
    }

    @Test
    void everyTemplateIsHeldToTheSizeLimit() {
        PromptFormatter raw = new PromptFormatter(new CharTokenizer(true), null,
                PromptOptions.defaults().withRenderLimits(new RenderLimits(1_000, 50)));
        assertEquals("x".repeat(50), raw.render(PromptInput.text("x".repeat(50))));
        PromptException e = assertThrows(PromptException.class, () -> raw.format(PromptInput.text("x".repeat(51)), 1, 1 << 20));
        assertTrue(e.getMessage().contains("template raw rendered more than 50 characters"), e.getMessage());
        PromptFormatter chat = new PromptFormatter(new CharTokenizer(true), null,
                PromptOptions.defaults().withTemplate("llama-2-chat").withRenderLimits(new RenderLimits(1_000, 50)));
        assertThrows(PromptException.class, () -> chat.format(PromptInput.text("y".repeat(40)), 1, 1 << 20));
    }

    @Test
    void engineOptionsSetTheLimitsAndBadValuesAreNamed() {
        assertEquals(RenderLimits.defaults(), RenderLimits.fromOptions(Map.of("threads", "2")));
        assertEquals(new RenderLimits(250, 1234), RenderLimits.fromOptions(Map.of("template_timeout_ms", "250", "template_max_chars", " 1234 ")));
        for (String bad : List.of("0", "-5", "ten", "1.5")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> RenderLimits.fromOptions(Map.of("template_timeout_ms", bad)));
            assertTrue(e.getMessage().contains("template_timeout_ms") && e.getMessage().contains(bad), e.getMessage());
        }
        assertTrue(dev.sparkllm.engine.Engines.OPTION_NAMES.containsAll(List.of("template_timeout_ms", "template_max_chars", "tokenizer_mode")));
    }
}
