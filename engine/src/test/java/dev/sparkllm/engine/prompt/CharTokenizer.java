package dev.sparkllm.engine.prompt;

import dev.sparkllm.engine.tokenizer.IncrementalDecoder;
import dev.sparkllm.engine.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * A tokenizer simple enough to reason about in tests: one token per code point (id = code point + 3), and the
 * special tokens {@code <unk>}=0, {@code <s>}=1, {@code </s>}=2 recognised only in segments that parse special
 * tokens, as the {@link Tokenizer} contract says. Token counts are therefore character counts.
 */
final class CharTokenizer implements Tokenizer {

    static final int BOS = 1;
    static final int EOS = 2;
    private static final List<String> SPECIALS = List.of("<unk>", "<s>", "</s>");

    private final boolean addsBos;

    CharTokenizer(boolean addsBos) {
        this.addsBos = addsBos;
    }

    static int id(int codePoint) {
        return codePoint + 3;
    }

    @Override
    public int vocabSize() {
        return 0x110000 + 3;
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        return encode(List.of(Segment.markup(text)), addSpecialTokens);
    }

    @Override
    public int[] encode(List<Segment> segments, boolean addSpecialTokens) {
        List<Integer> ids = new ArrayList<>();
        if (addSpecialTokens && addsBos) ids.add(BOS);
        for (Segment s : segments) {
            String t = s.text();
            int i = 0;
            outer:
            while (i < t.length()) {
                if (s.parseSpecial()) {
                    for (int k = 0; k < SPECIALS.size(); k++) {
                        if (t.startsWith(SPECIALS.get(k), i)) {
                            ids.add(k);
                            i += SPECIALS.get(k).length();
                            continue outer;
                        }
                    }
                }
                int cp = t.codePointAt(i);
                ids.add(id(cp));
                i += Character.charCount(cp);
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (id < 3) {
                if (!skipSpecialTokens) sb.append(SPECIALS.get(id));
            } else {
                sb.appendCodePoint(id - 3);
            }
        }
        return sb.toString();
    }

    @Override
    public String tokenString(int id) {
        return id < 3 ? SPECIALS.get(id) : new String(Character.toChars(id - 3));
    }

    @Override
    public int tokenId(String token) {
        int k = SPECIALS.indexOf(token);
        if (k >= 0) return k;
        return token.codePointCount(0, token.length()) == 1 ? id(token.codePointAt(0)) : -1;
    }

    @Override
    public int bosId() {
        return BOS;
    }

    @Override
    public int eosId() {
        return EOS;
    }

    @Override
    public boolean addsBos() {
        return addsBos;
    }

    @Override
    public boolean isSpecial(int id) {
        return id < 3;
    }

    @Override
    public IncrementalDecoder newDecoder() {
        throw new UnsupportedOperationException("not needed by prompt tests");
    }
}
