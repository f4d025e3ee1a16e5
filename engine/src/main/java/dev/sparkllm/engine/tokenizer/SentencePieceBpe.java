package dev.sparkllm.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * SentencePiece's own BPE encoding: start from characters (user-defined pieces kept whole), repeatedly merge
 * the adjacent pair whose concatenation is the highest-scoring piece (leftmost on ties), then map pieces to
 * ids, spelling unknown ones as bytes (byte fallback) or one {@code unk} per run.
 */
final class SentencePieceBpe implements TokenModel {

    private final List<SentencePieceModelFile.Piece> pieces;
    private final Map<String, Integer> mergeable = new HashMap<>();   // normal, user-defined and unused pieces
    private final Map<String, Integer> reserved = new HashMap<>();    // control, unknown and byte pieces
    private final List<String> userDefined = new ArrayList<>();
    private final int unkId;
    private final boolean byteFallback;
    private final int[] byteIds = new int[256];                       // [byte] -> id of <0xXX>, or -1

    SentencePieceBpe(SentencePieceModelFile file) {
        this.pieces = file.pieces();
        for (int id = 0; id < pieces.size(); id++) {
            SentencePieceModelFile.Piece p = pieces.get(id);
            switch (p.type()) {
                case SentencePieceModelFile.TYPE_NORMAL:
                case SentencePieceModelFile.TYPE_UNUSED:
                    mergeable.putIfAbsent(p.piece(), id);
                    break;
                case SentencePieceModelFile.TYPE_USER_DEFINED:
                    mergeable.putIfAbsent(p.piece(), id);
                    userDefined.add(p.piece());
                    break;
                default:
                    reserved.putIfAbsent(p.piece(), id);
            }
        }
        this.unkId = file.unkId();
        this.byteFallback = file.byteFallback();
        for (int b = 0; b < 256; b++) byteIds[b] = reserved.getOrDefault(ByteFallback.tokenOf(b), -1);
    }

    @Override
    public int size() {
        return pieces.size();
    }

    @Override
    public String token(int id) {
        return id >= 0 && id < pieces.size() ? pieces.get(id).piece() : null;
    }

    @Override
    public int id(String token) {
        Integer id = reserved.get(token);
        if (id == null) id = mergeable.get(token);
        return id == null ? -1 : id;
    }

    /** A symbol of the word being merged: [start, end) chars of the word, frozen when user-defined. */
    private static final class Symbol {
        int start;
        int end;
        int prev;
        int next;
        boolean frozen;
    }

    /** A candidate merge of symbols left and right whose combined length was {@code length} when queued. */
    private record Pair(int left, int right, float score, int length) {
    }

    @Override
    public void tokenize(String word, IntList out) {
        List<Symbol> symbols = new ArrayList<>();
        for (int i = 0; i < word.length(); ) {
            Symbol s = new Symbol();
            String user = userDefinedAt(word, i);
            s.start = i;
            s.end = user != null ? i + user.length() : UnicodeChars.next(word, i);
            s.frozen = user != null;
            s.prev = symbols.size() - 1;
            s.next = s.end < word.length() ? symbols.size() + 1 : -1;
            symbols.add(s);
            i = s.end;
        }
        PriorityQueue<Pair> agenda = new PriorityQueue<>((a, b) ->
                a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        Map<String, String[]> unusedSplits = new HashMap<>();   // merged unused piece -> its two halves
        for (int i = 1; i < symbols.size(); i++) queuePair(word, symbols, i - 1, i, agenda, unusedSplits);
        while (!agenda.isEmpty()) {
            Pair top = agenda.poll();
            Symbol left = symbols.get(top.left);
            Symbol right = symbols.get(top.right);
            if (left.end == left.start || right.end == right.start
                    || (left.end - left.start) + (right.end - right.start) != top.length) continue;   // stale
            left.end = right.end;
            left.next = right.next;
            if (right.next >= 0) symbols.get(right.next).prev = top.left;
            right.start = right.end;
            queuePair(word, symbols, left.prev, top.left, agenda, unusedSplits);
            queuePair(word, symbols, top.left, left.next, agenda, unusedSplits);
        }
        boolean previousUnk = false;
        for (int i = symbols.isEmpty() ? -1 : 0; i >= 0; i = symbols.get(i).next) {
            Symbol s = symbols.get(i);
            previousUnk = emit(word.substring(s.start, s.end), unusedSplits, out, previousUnk);
        }
    }

    private void queuePair(String word, List<Symbol> symbols, int left, int right, PriorityQueue<Pair> agenda,
                           Map<String, String[]> unusedSplits) {
        if (left < 0 || right < 0) return;
        Symbol l = symbols.get(left);
        Symbol r = symbols.get(right);
        if (l.frozen || r.frozen) return;
        String merged = word.substring(l.start, r.end);
        Integer id = mergeable.get(merged);
        if (id == null) return;
        SentencePieceModelFile.Piece piece = pieces.get(id);
        if (piece.type() == SentencePieceModelFile.TYPE_UNUSED) {
            unusedSplits.put(merged, new String[]{word.substring(l.start, l.end), word.substring(r.start, r.end)});
        }
        agenda.add(new Pair(left, right, piece.score(), r.end - l.start));
    }

    /** Appends the ids of one final piece; returns whether it ended as {@code unk} (runs of unk become one). */
    private boolean emit(String piece, Map<String, String[]> unusedSplits, IntList out, boolean previousUnk) {
        int id = id(piece);
        if (id >= 0 && pieces.get(id).type() == SentencePieceModelFile.TYPE_UNUSED) {
            String[] halves = unusedSplits.get(piece);
            if (halves != null) {
                boolean unk = emit(halves[0], unusedSplits, out, previousUnk);
                return emit(halves[1], unusedSplits, out, unk);
            }
        }
        if (id >= 0 && id != unkId) {
            out.add(id);
            return false;
        }
        if (byteFallback) {
            for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                out.add(byteIds[b & 0xFF] >= 0 ? byteIds[b & 0xFF] : unkId);
            }
            return false;
        }
        if (!previousUnk) out.add(unkId);
        return true;
    }

    private String userDefinedAt(String word, int i) {
        String best = null;
        for (String u : userDefined) {
            if ((best == null || u.length() > best.length()) && word.startsWith(u, i)) best = u;
        }
        return best;
    }
}
