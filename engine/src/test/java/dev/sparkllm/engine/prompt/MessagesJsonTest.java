package dev.sparkllm.engine.prompt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MessagesJsonTest {

    @Test
    void listOrObject() {
        List<ChatMessage> expected = List.of(ChatMessage.system("s"), ChatMessage.user("u \"q\""));
        assertEquals(expected, MessagesJson.parse("[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"u \\\"q\\\"\"}]").messages());
        assertEquals(expected, MessagesJson.parse("{\"messages\": [{\"role\":\"system\",\"content\":\"s\"},"
                + "{\"role\":\"user\",\"content\":\"u \\\"q\\\"\", \"name\": \"ignored\"}]}").messages());
    }

    @Test
    void badShapesArePromptErrors() {
        assertThrows(PromptException.class, () -> MessagesJson.parse("[{\"role\":\"user\""));
        assertThrows(PromptException.class, () -> MessagesJson.parse("\"hello\""));
        assertThrows(PromptException.class, () -> MessagesJson.parse("[{\"role\":\"user\",\"content\":3}]"));
        assertThrows(PromptException.class, () -> MessagesJson.parse("[{\"content\":\"x\"}]"));
        assertThrows(PromptException.class, () -> MessagesJson.parse("{\"prompt\": \"x\"}"));
    }

    @Test
    void jsonLinesNameTheBadLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.jsonl");
        Files.writeString(file, "[{\"role\":\"user\",\"content\":\"a\"}]\n\n[{\"role\":\"user\",\"content\":\"b\"}]\n");
        assertEquals(2, MessagesJson.readLines(file).size());
        Files.writeString(file, "[{\"role\":\"user\",\"content\":\"a\"}]\n[oops\n");
        PromptException e = assertThrows(PromptException.class, () -> MessagesJson.readLines(file));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    }
}
