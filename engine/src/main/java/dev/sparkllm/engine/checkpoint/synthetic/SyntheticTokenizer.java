package dev.sparkllm.engine.checkpoint.synthetic;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A Llama-2-style tokenizer with a synthetic vocabulary, written as {@code tokenizer.json} the way Llama-2's is:
 * BPE with byte fallback, {@code <unk>}=0, {@code <s>}=1, {@code </s>}=2, {@code <0x00>}..{@code <0xFF>} = 3..258,
 * then merged pieces in merge order, then the single characters, 32000 tokens in all; Llama's normaliser
 * (prepend and replace spaces with ▁), BOS template and decoder. The pieces are made-up concatenations (the real
 * vocabulary is Meta's and is not ours to copy); any text still encodes, unknown characters through bytes.
 */
final class SyntheticTokenizer {

    static final String SPACE = "\u2581";
    /** The single characters every piece is made of (after the merged pieces, as in Llama's vocabulary). */
    static final String ALPHABET = "etaoinshrdlcumwfgypbvkjxqzETAOINSHRDLCUMWFGYPBVKJXQZ0123456789.,;:!?'\"-()[]{}/\\&%$#@*+=<>_|~`^";

    private SyntheticTokenizer() {
    }

    /** The vocabulary in id order and the merges in rank order. */
    record Vocabulary(List<String> tokens, List<String[]> merges) {
    }

    static Vocabulary vocabulary(int size) {
        List<String> chars = new ArrayList<>();
        chars.add(SPACE);
        ALPHABET.codePoints().forEach(c -> chars.add(new String(Character.toChars(c))));
        int mergeCount = size - 3 - 256 - chars.size();
        if (mergeCount < 0) throw new IllegalArgumentException("a vocabulary of " + size + " tokens is too small");

        List<String> pieces = new ArrayList<>(chars);       // what merges may combine: characters, then merged pieces
        Set<String> known = new HashSet<>(chars);
        known.addAll(List.of("<unk>", "<s>", "</s>"));                 // never a second id for a special or byte token
        for (int b = 0; b < 256; b++) known.add(String.format("<0x%02X>", b));
        List<String> merged = new ArrayList<>();
        List<String[]> merges = new ArrayList<>();
        SplitMix64 random = new SplitMix64(0x5EED_70BL);
        while (merges.size() < mergeCount) {
            // Favour early (short, common) pieces, as BPE's frequency order does.
            String left = pieces.get(skewedIndex(random.next(), pieces.size()));
            String right = pieces.get(skewedIndex(random.next(), pieces.size()));
            String piece = left + right;
            // ▁ only at the start of a piece, as SentencePiece makes them; pieces of at most 12 characters.
            if (right.startsWith(SPACE) || piece.length() > 12 || !known.add(piece)) continue;
            pieces.add(piece);
            merged.add(piece);
            merges.add(new String[] {left, right});
        }
        List<String> tokens = new ArrayList<>(size);
        tokens.add("<unk>");
        tokens.add("<s>");
        tokens.add("</s>");
        for (int b = 0; b < 256; b++) tokens.add(String.format("<0x%02X>", b));
        tokens.addAll(merged);
        tokens.addAll(chars);
        return new Vocabulary(tokens, merges);
    }

    private static int skewedIndex(long random, int n) {
        double u = (random >>> 11) * 0x1.0p-53;
        return (int) (u * u * u * n);
    }

    /** tokenizer.json. */
    static ObjectNode tokenizerJson(int size) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        Vocabulary v = vocabulary(size);
        ObjectNode root = f.objectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int id = 0; id < 3; id++) {
            added.addObject().put("id", id).put("content", v.tokens().get(id)).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        ObjectNode normalizer = root.putObject("normalizer").put("type", "Sequence");
        ArrayNode normalizers = normalizer.putArray("normalizers");
        normalizers.addObject().put("type", "Prepend").put("prepend", SPACE);
        ObjectNode replace = normalizers.addObject().put("type", "Replace");
        replace.putObject("pattern").put("String", " ");
        replace.put("content", SPACE);
        root.putNull("pre_tokenizer");
        ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 1);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode bos = post.putObject("special_tokens").putObject("<s>").put("id", "<s>");
        bos.putArray("ids").add(1);
        bos.putArray("tokens").add("<s>");
        ObjectNode decoder = root.putObject("decoder").put("type", "Sequence");
        ArrayNode decoders = decoder.putArray("decoders");
        ObjectNode unspace = decoders.addObject().put("type", "Replace");
        unspace.putObject("pattern").put("String", SPACE);
        unspace.put("content", " ");
        decoders.addObject().put("type", "ByteFallback");
        decoders.addObject().put("type", "Fuse");
        decoders.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        ObjectNode model = root.putObject("model").put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", "<unk>");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        ObjectNode vocab = model.putObject("vocab");
        for (int id = 0; id < v.tokens().size(); id++) vocab.put(v.tokens().get(id), id);
        ArrayNode merges = model.putArray("merges");
        for (String[] m : v.merges()) merges.add(m[0] + " " + m[1]);
        return root;
    }

    /** tokenizer_config.json, as Llama-2-chat's. */
    static ObjectNode tokenizerConfig() {
        ObjectNode c = JsonNodeFactory.instance.objectNode();
        c.put("add_bos_token", true);
        c.put("add_eos_token", false);
        c.set("bos_token", addedToken("<s>", true));
        c.put("clean_up_tokenization_spaces", false);
        c.set("eos_token", addedToken("</s>", true));
        c.put("legacy", false);
        c.put("model_max_length", new java.math.BigInteger("1000000000000000019884624838656"));
        c.putNull("pad_token");
        c.put("padding_side", "right");
        c.putObject("sp_model_kwargs");
        c.put("tokenizer_class", "LlamaTokenizer");
        c.set("unk_token", addedToken("<unk>", true));
        return c;
    }

    /** special_tokens_map.json. */
    static ObjectNode specialTokensMap() {
        ObjectNode m = JsonNodeFactory.instance.objectNode();
        m.set("bos_token", addedToken("<s>", false));
        m.set("eos_token", addedToken("</s>", false));
        m.set("unk_token", addedToken("<unk>", false));
        return m;
    }

    private static ObjectNode addedToken(String content, boolean typed) {
        ObjectNode t = JsonNodeFactory.instance.objectNode();
        if (typed) t.put("__type", "AddedToken");
        return t.put("content", content).put("lstrip", false).put("normalized", false).put("rstrip", false).put("single_word", false);
    }
}
