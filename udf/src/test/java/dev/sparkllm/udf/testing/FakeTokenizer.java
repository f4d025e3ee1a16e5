package dev.sparkllm.udf.testing;

import dev.sparkllm.engine.tokenizer.IncrementalDecoder;
import dev.sparkllm.engine.tokenizer.Tokenizer;

import java.util.List;

/** One token per character (code point mod 1000, shifted past the 3 specials); ids 60..99 decode as letters. */
public final class FakeTokenizer implements Tokenizer {

    @Override public int vocabSize() { return 1003; }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        int[] cps = text.codePoints().map(c -> 3 + c % 1000).toArray();
        if (!addSpecialTokens) return cps;
        int[] out = new int[cps.length + 1];
        out[0] = 1;
        System.arraycopy(cps, 0, out, 1, cps.length);
        return out;
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
        for (int id : ids) {
            if (id < 3) continue;
            sb.append((char) ('a' + (id - 60) % 26));
        }
        return sb.toString();
    }

    @Override public String tokenString(int id) { return decode(new int[]{id}, false); }
    @Override public int tokenId(String token) { return -1; }
    @Override public int bosId() { return 1; }
    @Override public int eosId() { return 2; }
    @Override public boolean addsBos() { return true; }
    @Override public boolean isSpecial(int id) { return id < 3; }
    @Override public IncrementalDecoder newDecoder() { throw new UnsupportedOperationException("not used by the fakes"); }
}
