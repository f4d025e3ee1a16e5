package dev.sparkllm.engine.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face's encoding pipeline: cut the input around added tokens, normalise each piece between them,
 * cut again around added tokens that match normalised text, pre-tokenize into words, run the model on each
 * word, and wrap the result with the post-processor's special tokens. Decoding maps ids to token strings and
 * runs the decoder chain. Immutable and thread-safe.
 */
final class PipelineTokenizer implements Tokenizer {

    /** The parts of a tokenizer; see {@link TokenizerJson} and {@link SentencePieceTokenizer} for where they come from. */
    record Parts(Normalizer normalizer, PreTokenizer preTokenizer, TokenModel model, Decoder decoder,
                 List<AddedToken> addedTokens, PostProcessor postProcessor, int bosId, int eosId) {
    }

    private final Parts parts;
    private final Map<Integer, AddedToken> addedById = new HashMap<>();
    private final Map<String, AddedToken> addedByContent = new HashMap<>();
    private final AddedVocabulary rawTokens;          // matched in the input as written
    private final AddedVocabulary normalizedTokens;   // matched in normalised pieces, by their normalised form
    private final int vocabSize;

    PipelineTokenizer(Parts parts) {
        this.parts = parts;
        Map<String, AddedToken> raw = new HashMap<>();
        Map<String, AddedToken> normalized = new HashMap<>();
        int maxId = parts.model().size() - 1;
        for (AddedToken declared : parts.addedTokens()) {
            // An added token whose string the model already has takes the model's id, as in Hugging Face.
            int modelId = parts.model().id(declared.content());
            AddedToken t = modelId < 0 || modelId == declared.id() ? declared : new AddedToken(modelId, declared.content(),
                    declared.special(), declared.singleWord(), declared.lstrip(), declared.rstrip(), declared.normalized());
            addedById.put(t.id(), t);
            addedByContent.put(t.content(), t);
            if (t.normalized()) normalized.put(parts.normalizer().normalize(t.content()), t);
            else raw.put(t.content(), t);
            maxId = Math.max(maxId, t.id());
        }
        this.rawTokens = new AddedVocabulary(raw);
        this.normalizedTokens = new AddedVocabulary(normalized);
        this.vocabSize = maxId + 1;
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        return encode(List.of(Segment.markup(text)), addSpecialTokens);
    }

    @Override
    public int[] encode(List<Segment> segments, boolean addSpecialTokens) {
        StringBuilder all = new StringBuilder();
        List<int[]> markup = new ArrayList<>();   // [start, end) of runs of adjacent markup segments
        for (Segment s : segments) {
            int start = all.length();
            all.append(s.text());
            if (!s.parseSpecial()) continue;
            int[] last = markup.isEmpty() ? null : markup.get(markup.size() - 1);
            if (last != null && last[1] == start) last[1] = all.length();
            else markup.add(new int[]{start, all.length()});
        }
        AddedVocabulary.SpecialFilter inMarkup = (start, end) -> {
            for (int[] r : markup) if (start >= r[0] && end <= r[1]) return true;
            return false;
        };
        IntList ids = new IntList();
        for (AddedVocabulary.Piece piece : rawTokens.cut(all.toString(), 0, inMarkup)) {
            if (piece.tokenId() >= 0) {
                ids.add(piece.tokenId());
            } else {
                boolean specialsAllowed = inMarkup.accepts(piece.start(), piece.start() + piece.text().length());
                encodePiece(piece.text(), piece.start() == 0, specialsAllowed, ids);
            }
        }
        int[] out = ids.toArray();
        return addSpecialTokens ? parts.postProcessor().apply(out) : out;
    }

    /** One piece of text between added tokens: normalise, cut around normalised added tokens, pre-tokenize, model. */
    private void encodePiece(String text, boolean atStart, boolean specialsAllowed, IntList ids) {
        String normalized = parts.normalizer().normalize(text);
        if (normalized.isEmpty()) return;
        AddedVocabulary.SpecialFilter filter = specialsAllowed ? AddedVocabulary.SpecialFilter.ALL : (s, e) -> false;
        List<PreTokenizer.Word> words = new ArrayList<>();
        for (AddedVocabulary.Piece piece : normalizedTokens.cut(normalized, 0, filter)) {
            if (piece.tokenId() >= 0) {
                ids.add(piece.tokenId());
                continue;
            }
            if (piece.text().isEmpty()) continue;
            words.clear();
            parts.preTokenizer().split(new PreTokenizer.Word(piece.text(), atStart && piece.start() == 0), words);
            for (PreTokenizer.Word w : words) parts.model().tokenize(w.text(), ids);
        }
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            String t = decodableToken(id, skipSpecialTokens);
            if (t != null) tokens.add(t);
        }
        return decodeTokens(tokens);
    }

    /** The token string decode uses for an id, or null when decode leaves it out (unknown, or skipped special). */
    String decodableToken(int id, boolean skipSpecialTokens) {
        AddedToken added = addedById.get(id);
        if (added != null) return skipSpecialTokens && added.special() ? null : added.content();
        return parts.model().token(id);
    }

    /** Runs the decoder chain over token strings. */
    String decodeTokens(List<String> tokens) {
        if (parts.decoder() == null) return String.join(" ", tokens);
        return String.join("", parts.decoder().decodeChain(tokens));
    }

    @Override
    public String tokenString(int id) {
        AddedToken added = addedById.get(id);
        return added != null ? added.content() : parts.model().token(id);
    }

    @Override
    public int tokenId(String token) {
        AddedToken added = addedByContent.get(token);
        return added != null ? added.id() : parts.model().id(token);
    }

    @Override
    public int bosId() {
        return parts.bosId();
    }

    @Override
    public int eosId() {
        return parts.eosId();
    }

    @Override
    public boolean addsBos() {
        for (int id : parts.postProcessor().before()) if (id == parts.bosId() && id >= 0) return true;
        return false;
    }

    @Override
    public boolean isSpecial(int id) {
        AddedToken added = addedById.get(id);
        return added != null && added.special();
    }

    @Override
    public IncrementalDecoder newDecoder() {
        return new StreamingDecoder(this);
    }
}
