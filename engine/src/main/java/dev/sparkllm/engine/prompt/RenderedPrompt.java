package dev.sparkllm.engine.prompt;

import dev.sparkllm.engine.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * A template's output as a sequence of pieces, each either template markup (whose special-token strings become
 * control tokens) or content from data (which is encoded as text). Concatenated, the pieces are the rendered
 * prompt.
 */
public final class RenderedPrompt {

    /** One run of text and where it came from. */
    public record Piece(String text, boolean content) {
    }

    private final List<Piece> pieces;

    private RenderedPrompt(List<Piece> pieces) {
        this.pieces = List.copyOf(pieces);
    }

    public static Builder builder() {
        return new Builder();
    }

    public List<Piece> pieces() {
        return pieces;
    }

    /** The whole rendered prompt. */
    public String text() {
        StringBuilder sb = new StringBuilder();
        for (Piece p : pieces) sb.append(p.text());
        return sb.toString();
    }

    /** Tokenizer segments; content parses special tokens only when {@code allowSpecialInContent}. */
    public List<Tokenizer.Segment> segments(boolean allowSpecialInContent) {
        List<Tokenizer.Segment> out = new ArrayList<>(pieces.size());
        for (Piece p : pieces) out.add(new Tokenizer.Segment(p.text(), !p.content() || allowSpecialInContent));
        return out;
    }

    @Override
    public String toString() {
        return pieces.toString();
    }

    /** Collects pieces, merging neighbours of the same kind and dropping empty ones. */
    public static final class Builder {
        private final List<Piece> pieces = new ArrayList<>();

        public Builder markup(String text) {
            return add(text, false);
        }

        public Builder content(String text) {
            return add(text, true);
        }

        public Builder add(String text, boolean content) {
            if (text.isEmpty()) return this;
            int last = pieces.size() - 1;
            if (last >= 0 && pieces.get(last).content() == content) {
                pieces.set(last, new Piece(pieces.get(last).text() + text, content));
            } else {
                pieces.add(new Piece(text, content));
            }
            return this;
        }

        public Builder addAll(RenderedPrompt other) {
            for (Piece p : other.pieces) add(p.text(), p.content());
            return this;
        }

        /** Python's {@code str.strip()} applied to the concatenation, across piece boundaries. */
        public Builder strip() {
            stripLeading();
            stripTrailing();
            return this;
        }

        private void stripLeading() {
            while (!pieces.isEmpty()) {
                Piece p = pieces.get(0);
                String s = PythonStrings.lstrip(p.text());
                if (s.isEmpty()) {
                    pieces.remove(0);
                    continue;
                }
                pieces.set(0, new Piece(s, p.content()));
                return;
            }
        }

        private void stripTrailing() {
            while (!pieces.isEmpty()) {
                int last = pieces.size() - 1;
                Piece p = pieces.get(last);
                String s = PythonStrings.rstrip(p.text());
                if (s.isEmpty()) {
                    pieces.remove(last);
                    continue;
                }
                pieces.set(last, new Piece(s, p.content()));
                return;
            }
        }

        public RenderedPrompt build() {
            return new RenderedPrompt(pieces);
        }
    }
}
