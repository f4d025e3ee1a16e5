package dev.sparkllm.engine.sampling;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkllm.engine.tokenizer.IncrementalDecoder;
import dev.sparkllm.engine.tokenizer.Tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Test double: the bundled model's vocabulary with the Llama decoder pipeline its tokenizer.json declares
 * (Replace "▁" by " ", ByteFallback, Fuse, Strip one leading space), special tokens skipped. Decoding only:
 * tests spell their outputs as token ids. Stands in for the real tokenizer, written in parallel.
 */
final class VocabularyOnlyTokenizer implements Tokenizer {

    private final List<String> pieces = new ArrayList<>();   // [vocab] token strings by id
    private final Map<String, Integer> ids = new HashMap<>();
    private final boolean[] special;                          // [vocab]

    VocabularyOnlyTokenizer(Path tokenizerJson) {
        try {
            JsonNode root = new ObjectMapper().readTree(tokenizerJson.toFile());
            JsonNode vocab = root.path("model").path("vocab");
            vocab.fields().forEachRemaining(e -> ids.put(e.getKey(), e.getValue().asInt()));
            for (int i = 0; i < ids.size(); i++) pieces.add(null);
            ids.forEach((piece, id) -> pieces.set(id, piece));
            special = new boolean[pieces.size()];
            for (JsonNode added : root.path("added_tokens")) {
                if (added.path("special").asBoolean()) special[added.path("id").asInt()] = true;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + tokenizerJson, e);
        }
    }

    /** Ids of the given token strings, failing loudly when one is not in the vocabulary. */
    int[] ids(String... tokenStrings) {
        int[] out = new int[tokenStrings.length];
        for (int i = 0; i < out.length; i++) {
            Integer id = ids.get(tokenStrings[i]);
            if (id == null) throw new IllegalArgumentException("token " + tokenStrings[i] + " not in the vocabulary");
            out[i] = id;
        }
        return out;
    }

    /** Byte-fallback ids spelling {@code text} byte by byte in UTF-8. */
    int[] byteIds(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] out = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = ids.get(String.format("<0x%02X>", bytes[i] & 0xFF));
        return out;
    }

    @Override public int vocabSize() { return pieces.size(); }

    @Override public int[] encode(String text, boolean addSpecialTokens) {
        throw new UnsupportedOperationException("test tokenizer decodes only; spell inputs with ids()/byteIds()");
    }

    @Override public int[] encode(List<Segment> segments, boolean addSpecialTokens) {
        throw new UnsupportedOperationException("test tokenizer decodes only; spell inputs with ids()/byteIds()");
    }

    @Override public String decode(int[] tokenIds, boolean skipSpecialTokens) {
        String text = new String(bytesOf(tokenIds, tokenIds.length, skipSpecialTokens), StandardCharsets.UTF_8);
        return text.startsWith(" ") ? text.substring(1) : text;
    }

    @Override public String tokenString(int id) { return pieces.get(id); }

    @Override public int tokenId(String token) { return ids.getOrDefault(token, -1); }

    @Override public int bosId() { return ids.get("<s>"); }

    @Override public int eosId() { return ids.get("</s>"); }

    @Override public boolean addsBos() { return true; }

    @Override public boolean isSpecial(int id) { return special[id]; }

    /** Re-decodes the whole sequence each time and returns what grew, holding back an incomplete final character. */
    @Override public IncrementalDecoder newDecoder() {
        return new IncrementalDecoder() {
            private final List<Integer> sequence = new ArrayList<>();
            private String shown = "";

            @Override public String append(int tokenId) {
                sequence.add(tokenId);
                int[] all = sequence.stream().mapToInt(Integer::intValue).toArray();
                byte[] bytes = bytesOf(all, all.length, true);
                int complete = bytes.length - incompleteTail(bytes);
                String text = new String(bytes, 0, complete, StandardCharsets.UTF_8);
                if (text.startsWith(" ")) text = text.substring(1);
                String delta = text.substring(shown.length());
                shown = text;
                return delta;
            }

            @Override public String text() { return shown; }

            @Override public String finish() {
                String all = decode(sequence.stream().mapToInt(Integer::intValue).toArray(), true);
                String delta = all.substring(shown.length());
                shown = all;
                return delta;
            }
        };
    }

    private byte[] bytesOf(int[] tokenIds, int length, boolean skipSpecial) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < length; i++) {
            int id = tokenIds[i];
            if (skipSpecial && special[id]) continue;
            String piece = pieces.get(id);
            if (piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
                out.write(Integer.parseInt(piece.substring(3, 5), 16));
            } else {
                out.writeBytes(piece.replace('▁', ' ').getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }

    /** Number of trailing bytes that start a UTF-8 character not yet complete. */
    private static int incompleteTail(byte[] bytes) {
        for (int back = 1; back <= Math.min(3, bytes.length); back++) {
            int b = bytes[bytes.length - back] & 0xFF;
            if ((b & 0xC0) == 0x80) continue;  // continuation byte: look further back
            int needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return needed > back ? back : 0;
        }
        return 0;
    }
}
