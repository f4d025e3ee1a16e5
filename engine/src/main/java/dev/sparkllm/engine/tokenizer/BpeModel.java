package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Hugging Face's BPE model: a word starts as its characters (unknown ones as byte-fallback tokens or
 * {@code unk}), then the pair with the lowest merge rank is merged, leftmost first, until none is left.
 * A priority queue over a linked list of symbols keeps this O(n log n) per word.
 */
final class BpeModel implements TokenModel {

    private static final int CACHE_CAPACITY = 10_000;
    private static final int CACHE_MAX_WORD = 256;   // chars; longer words are rare and not worth keeping

    private final Map<String, Integer> vocab;
    private final String[] tokens;                 // [id] -> token string, null for ids not in the vocabulary
    private final MergeTable merges;
    private final int unkId;                       // -1 when there is no unk token
    private final boolean fuseUnk;
    private final boolean byteFallback;
    private final boolean ignoreMerges;
    private final String prefix;                   // continuing_subword_prefix, or null
    private final String suffix;                   // end_of_word_suffix, or null
    private final int[] byteIds = new int[256];    // [byte] -> id of <0xXX>, or -1
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    BpeModel(Map<String, Integer> vocab, Iterable<String[]> mergePairs, String unkToken, boolean fuseUnk,
             boolean byteFallback, boolean ignoreMerges, String prefix, String suffix) {
        this.vocab = vocab;
        int max = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        this.tokens = new String[max + 1];
        vocab.forEach((t, id) -> tokens[id] = t);
        this.unkId = unkToken == null ? -1 : vocab.getOrDefault(unkToken, -1);
        if (unkToken != null && unkId < 0) {
            throw new IllegalArgumentException("BPE unk_token '" + unkToken + "' is not in the vocabulary of tokenizer.json");
        }
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        this.prefix = prefix;
        this.suffix = suffix;
        for (int b = 0; b < 256; b++) byteIds[b] = vocab.getOrDefault(ByteFallback.tokenOf(b), -1);
        this.merges = new MergeTable(mergePairs instanceof java.util.Collection<?> c ? c.size() : 1024);
        int rank = 0;
        int prefixLen = prefix == null ? 0 : prefix.length();
        for (String[] pair : mergePairs) {
            Integer a = vocab.get(pair[0]);
            Integer b = vocab.get(pair[1]);
            String merged = pair[0] + (prefixLen > 0 && pair[1].startsWith(prefix) ? pair[1].substring(prefixLen) : pair[1]);
            Integer m = vocab.get(merged);
            if (a == null || b == null || m == null) {
                throw new IllegalArgumentException("BPE merge '" + pair[0] + " " + pair[1] + "' (rank " + rank
                        + ") uses a token that is not in the vocabulary of tokenizer.json");
            }
            // Later duplicates win, as in Hugging Face (a map built in file order).
            merges.add(a, b, m);
            rank++;
        }
    }

    /** Reads a {@code "model": {"type": "BPE", ...}} node; merges may be "a b" strings or [a, b] arrays. */
    static BpeModel fromJson(JsonNode model) {
        // "dropout" is ignored: it randomises merges as a training-time regulariser, and inference must be
        // deterministic (Spark retries must reproduce their output).
        Map<String, Integer> vocab = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : model.path("vocab").properties()) vocab.put(e.getKey(), e.getValue().asInt());
        java.util.List<String[]> pairs = new java.util.ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            if (m.isArray()) {
                pairs.add(new String[]{m.get(0).asText(), m.get(1).asText()});
            } else {
                String s = m.asText();
                int space = s.indexOf(' ');
                if (space < 0) throw new IllegalArgumentException("BPE merge '" + s + "' in tokenizer.json is not of the form \"a b\"");
                pairs.add(new String[]{s.substring(0, space), s.substring(space + 1)});
            }
        }
        return new BpeModel(vocab, pairs, JsonFields.text(model, "unk_token", null),
                model.path("fuse_unk").asBoolean(false), model.path("byte_fallback").asBoolean(false),
                model.path("ignore_merges").asBoolean(false),
                JsonFields.text(model, "continuing_subword_prefix", null), JsonFields.text(model, "end_of_word_suffix", null));
    }

    @Override
    public int size() {
        return tokens.length;
    }

    @Override
    public String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    @Override
    public int id(String token) {
        return vocab.getOrDefault(token, -1);
    }

    @Override
    public void tokenize(String word, IntList out) {
        if (word.isEmpty()) return;
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        int[] cached = cache.get(word);
        if (cached == null) {
            cached = merge(word);
            if (word.length() <= CACHE_MAX_WORD) {
                if (cache.size() >= CACHE_CAPACITY) cache.clear();
                cache.put(word, cached);
            }
        }
        out.addAll(cached);
    }

    /** The initial symbols (characters, byte fallbacks, unk) merged by rank. */
    private int[] merge(String word) {
        IntList symbols = new IntList();
        int pendingUnk = -1;   // fused unk waiting to be emitted, as Hugging Face holds it
        for (int i = 0; i < word.length(); ) {
            int end = UnicodeChars.next(word, i);
            String s = word.substring(i, end);
            if (prefix != null && i > 0) s = prefix + s;
            if (suffix != null && end == word.length()) s = s + suffix;
            i = end;
            Integer id = vocab.get(s);
            if (id != null) {
                if (pendingUnk >= 0) symbols.add(pendingUnk);
                pendingUnk = -1;
                symbols.add(id);
                continue;
            }
            if (byteFallback && addBytes(s, symbols)) continue;
            if (unkId >= 0) {
                if (pendingUnk >= 0 && !fuseUnk) symbols.add(pendingUnk);
                pendingUnk = unkId;
            }
        }
        if (pendingUnk >= 0) symbols.add(pendingUnk);
        return mergeSymbols(symbols);
    }

    /** Appends the byte-fallback tokens of {@code s}, or nothing (returning false) if any byte lacks one. */
    private boolean addBytes(String s, IntList symbols) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) if (byteIds[b & 0xFF] < 0) return false;
        for (byte b : bytes) symbols.add(byteIds[b & 0xFF]);
        return true;
    }

    private int[] mergeSymbols(IntList initial) {
        int n = initial.size();
        int[] id = initial.toArray();   // [n] symbol ids; -1 once merged into the left neighbour
        int[] next = new int[n];        // [n] index of the next live symbol, or n
        int[] prev = new int[n];        // [n] index of the previous live symbol, or -1
        for (int i = 0; i < n; i++) {
            next[i] = i + 1;
            prev[i] = i - 1;
        }
        // Entries: (rank << 32 | position), smallest first, so equal ranks merge left to right.
        LongHeap queue = new LongHeap();
        for (int i = 0; i + 1 < n; i++) push(queue, id[i], id[i + 1], i);
        while (!queue.isEmpty()) {
            long top = queue.poll();
            int pos = (int) top;
            int merged = merges.merged((int) (top >>> 32));
            if (id[pos] < 0 || next[pos] >= n) continue;
            int right = next[pos];
            // Stale unless the pair here still merges into the same token (Hugging Face's test).
            int rank = merges.rank(id[pos], id[right]);
            if (rank < 0 || merges.merged(rank) != merged) continue;
            id[pos] = merged;
            id[right] = -1;
            next[pos] = next[right];
            if (next[right] < n) prev[next[right]] = pos;
            if (prev[pos] >= 0) push(queue, id[prev[pos]], merged, prev[pos]);
            if (next[pos] < n) push(queue, merged, id[next[pos]], pos);
        }
        IntList out = new IntList();
        for (int i = 0; i < n; i = next[i]) out.add(id[i]);
        return out.toArray();
    }

    private void push(LongHeap queue, int left, int right, int pos) {
        int rank = merges.rank(left, right);
        if (rank >= 0) queue.add(((long) rank << 32) | pos);
    }
}
