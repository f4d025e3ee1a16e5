package dev.sparkllm.engine.core;

import dev.sparkllm.engine.tokenizer.IncrementalDecoder;
import dev.sparkllm.engine.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * A tokenizer for engine tests: id {@code i >= 3} is the word {@code "w<i> "}; 0, 1 and 2 are the special
 * tokens unk, BOS and EOS (no text). Enough for streaming and stop-condition bookkeeping; the engine never
 * encodes text.
 */
final class WordTokenizer implements Tokenizer {

    private final int vocabSize;

    WordTokenizer(int vocabSize) {
        this.vocabSize = vocabSize;
    }

    @Override public int vocabSize() { return vocabSize; }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        List<Integer> ids = new ArrayList<>();
        if (addSpecialTokens) ids.add(1);
        for (String w : text.trim().split("\\s+")) if (!w.isEmpty()) ids.add(tokenId(w + " "));
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public int[] encode(List<Segment> segments, boolean addSpecialTokens) {
        StringBuilder sb = new StringBuilder();
        for (Segment s : segments) sb.append(s.text());
        return encode(sb.toString(), addSpecialTokens);
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) if (!isSpecial(id)) sb.append(tokenString(id));
        return sb.toString();
    }

    @Override
    public String tokenString(int id) {
        return switch (id) {
            case 0 -> "<unk>";
            case 1 -> "<s>";
            case 2 -> "</s>";
            default -> "w" + id + " ";
        };
    }

    @Override
    public int tokenId(String token) {
        if (token.matches("w\\d+ ")) {
            int id = Integer.parseInt(token.substring(1, token.length() - 1));
            return id < vocabSize ? id : 0;
        }
        return switch (token) {
            case "<s>" -> 1;
            case "</s>" -> 2;
            default -> 0;
        };
    }

    @Override public int bosId() { return 1; }
    @Override public int eosId() { return 2; }
    @Override public boolean addsBos() { return true; }
    @Override public boolean isSpecial(int id) { return id < 3; }

    @Override
    public IncrementalDecoder newDecoder() {
        return new IncrementalDecoder() {
            private final StringBuilder text = new StringBuilder();

            @Override
            public String append(int tokenId) {
                String s = isSpecial(tokenId) ? "" : tokenString(tokenId);
                text.append(s);
                return s;
            }

            @Override public String text() { return text.toString(); }
            @Override public String finish() { return ""; }
        };
    }
}
