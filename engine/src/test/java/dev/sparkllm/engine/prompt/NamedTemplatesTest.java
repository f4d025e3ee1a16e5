package dev.sparkllm.engine.prompt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.sparkllm.engine.prompt.ChatMessage.assistant;
import static dev.sparkllm.engine.prompt.ChatMessage.system;
import static dev.sparkllm.engine.prompt.ChatMessage.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rendering of the named and file templates, checked against the formats as their sources document them. */
class NamedTemplatesTest {

    private static String contentOf(RenderedPrompt r) {
        StringBuilder sb = new StringBuilder();
        for (RenderedPrompt.Piece p : r.pieces()) if (p.content()) sb.append('[').append(p.text()).append(']');
        return sb.toString();
    }

    @Test
    void llama2ChatSingleTurnWithSystem() {
        RenderedPrompt r = new Llama2ChatTemplate().render(List.of(system("Be kind."), user("Hi there")), true);
        assertEquals("<s>[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\nHi there [/INST]", r.text());
        assertEquals("[Be kind.][Hi there]", contentOf(r));
    }

    @Test
    void llama2ChatMultiTurn() {
        RenderedPrompt r = new Llama2ChatTemplate().render(List.of(system("S"), user("u1"), assistant("a1"), user("u2")), true);
        assertEquals("<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nu1 [/INST] a1 </s><s>[INST] u2 [/INST]", r.text());
        assertEquals("[S][u1][a1][u2]", contentOf(r));
    }

    @Test
    void llama2ChatWithoutSystemAndStrippedTurns() {
        RenderedPrompt r = new Llama2ChatTemplate().render(List.of(user("  u1 \n"), assistant("\ta1 "), user(" u2")), true);
        assertEquals("<s>[INST] u1 [/INST] a1 </s><s>[INST] u2 [/INST]", r.text());
    }

    @Test
    void llama2ChatStripsSystemBlockAndFirstUserTogether() {
        // Meta's template strips '<<SYS>>\n' + system + '\n<</SYS>>\n\n' + user as one string: the system text
        // and the user's leading whitespace stay, the user's trailing whitespace goes.
        RenderedPrompt r = new Llama2ChatTemplate().render(List.of(system(" S "), user("  u  ")), true);
        assertEquals("<s>[INST] <<SYS>>\n S \n<</SYS>>\n\n  u [/INST]", r.text());
    }

    @Test
    void systemUserAssistantAsOnTheModelCard() {
        RenderedPrompt r = new SystemUserAssistantTemplate().render(List.of(system("Be kind."), user("Hi")), true);
        assertEquals("SYSTEM: Be kind.\nUSER: Hi\nASSISTANT:", r.text());
        assertEquals("[Be kind.][Hi]", contentOf(r));
        RenderedPrompt multi = new SystemUserAssistantTemplate().render(List.of(user("u1"), assistant("a1"), user("u2")), true);
        assertEquals("USER: u1\nASSISTANT: a1\nUSER: u2\nASSISTANT:", multi.text());
    }

    @Test
    void rawIsTheTextAsIs() {
        RenderedPrompt r = new RawTemplate().render(List.of(user(" <s>x\n")), true);
        assertEquals(" <s>x\n", r.text());
        assertEquals("[ <s>x\n]", contentOf(r));
        assertThrows(PromptException.class, () -> new RawTemplate().render(List.of(system("s"), user("u")), true));
        assertThrows(PromptException.class, () -> new RawTemplate().render(List.of(user("u"), assistant("a"), user("u")), true));
    }

    @Test
    void badOrdersNameThePosition() {
        ChatTemplate t = new Llama2ChatTemplate();
        PromptException twoUsers = assertThrows(PromptException.class, () -> t.render(List.of(user("a"), user("b")), true));
        assertTrue(twoUsers.getMessage().contains("message 2"), twoUsers.getMessage());
        PromptException lateSystem = assertThrows(PromptException.class,
                () -> t.render(List.of(user("a"), assistant("b"), system("c"), user("d")), true));
        assertTrue(lateSystem.getMessage().contains("message 3 is a system message"), lateSystem.getMessage());
        assertThrows(PromptException.class, () -> t.render(List.of(assistant("a"), user("b")), true));
        assertThrows(PromptException.class, () -> t.render(List.of(system("only")), true));
        assertThrows(PromptException.class, () -> new SystemUserAssistantTemplate().render(List.of(), true));
    }

    @Test
    void placeholderFileWithSystemSection(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("llama2.txt");
        Files.writeString(file, "<s>[INST] {#system}<<SYS>>\n{system}\n<</SYS>>\n\n{/system}{prompt} [/INST] {{literal}}\n");
        ChatTemplate t = ChatTemplates.resolve(file.toString(), null);
        RenderedPrompt withSystem = t.render(List.of(system("S"), user("P")), true);
        assertEquals("<s>[INST] <<SYS>>\nS\n<</SYS>>\n\nP [/INST] {literal}", withSystem.text());
        assertEquals("[S][P]", contentOf(withSystem));
        assertEquals("<s>[INST] P [/INST] {literal}", t.render(List.of(user("P")), true).text());
        assertThrows(PromptException.class, () -> t.render(List.of(user("a"), assistant("b"), user("c")), true));
    }

    @Test
    void placeholderFileErrorsNameTheFile(@TempDir Path dir) throws Exception {
        Path unknown = dir.resolve("unknown.txt");
        Files.writeString(unknown, "Q: {question}\nA:");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChatTemplates.resolve(unknown.toString(), null));
        assertTrue(e.getMessage().contains(unknown.toString()) && e.getMessage().contains("{question}"), e.getMessage());
        Path noPrompt = dir.resolve("noprompt.txt");
        Files.writeString(noPrompt, "SYSTEM: {system}\n");
        assertThrows(IllegalArgumentException.class, () -> ChatTemplates.resolve(noPrompt.toString(), null));
        Path unclosed = dir.resolve("unclosed.txt");
        Files.writeString(unclosed, "{#system}{system} {prompt}");
        assertThrows(IllegalArgumentException.class, () -> ChatTemplates.resolve(unclosed.toString(), null));
    }

    @Test
    void unknownNameAndMissingFile() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChatTemplates.resolve("llama-9-chat", null));
        assertTrue(e.getMessage().contains("llama-9-chat") && e.getMessage().contains("llama-2-chat"), e.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> ChatTemplates.resolve("/nonexistent/template.jinja", null));
        assertTrue(missing.getMessage().contains("/nonexistent/template.jinja"), missing.getMessage());
    }
}
