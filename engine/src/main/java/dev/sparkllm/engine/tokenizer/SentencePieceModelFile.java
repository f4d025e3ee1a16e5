package dev.sparkllm.engine.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a SentencePiece {@code tokenizer.model} (a serialised {@code ModelProto}) that encoding needs.
 *
 * @param pieces                 the vocabulary, in id order
 * @param modelType              trainer_spec.model_type: 1 unigram, 2 BPE, 3 word, 4 char
 * @param byteFallback           trainer_spec.byte_fallback
 * @param unkId                  trainer_spec.unk_id
 * @param bosId                  trainer_spec.bos_id (-1 when disabled)
 * @param eosId                  trainer_spec.eos_id (-1 when disabled)
 * @param normalizerName         normalizer_spec.name ("identity", "nmt_nfkc", ...)
 * @param precompiledCharsmap    normalizer_spec.precompiled_charsmap (empty for identity)
 * @param addDummyPrefix         normalizer_spec.add_dummy_prefix
 * @param removeExtraWhitespaces normalizer_spec.remove_extra_whitespaces
 * @param escapeWhitespaces      normalizer_spec.escape_whitespaces
 */
record SentencePieceModelFile(List<Piece> pieces, int modelType, boolean byteFallback, int unkId, int bosId, int eosId,
                              String normalizerName, byte[] precompiledCharsmap, boolean addDummyPrefix,
                              boolean removeExtraWhitespaces, boolean escapeWhitespaces) {

    static final int TYPE_NORMAL = 1;
    static final int TYPE_UNKNOWN = 2;
    static final int TYPE_CONTROL = 3;
    static final int TYPE_USER_DEFINED = 4;
    static final int TYPE_UNUSED = 5;
    static final int TYPE_BYTE = 6;
    static final int MODEL_BPE = 2;

    /** One vocabulary entry: its string, score (higher merges first in BPE), and type (TYPE_*). */
    record Piece(String piece, float score, int type) {
    }

    static SentencePieceModelFile read(Path file) {
        try {
            return parse(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + " is not a valid SentencePiece model: " + e.getMessage(), e);
        }
    }

    static SentencePieceModelFile parse(byte[] data) {
        List<Piece> pieces = new ArrayList<>();
        int modelType = 1;   // proto defaults
        boolean byteFallback = false;
        int unkId = 0;
        int bosId = 1;
        int eosId = 2;
        String name = "";
        byte[] charsmap = new byte[0];
        boolean dummyPrefix = true;
        boolean removeExtra = true;
        boolean escape = true;
        ProtoReader r = new ProtoReader(data);
        while (r.hasMore()) {
            int tag = r.tag();
            switch (tag >>> 3) {
                case 1: pieces.add(piece(r.message())); break;
                case 2: {
                    ProtoReader t = r.message();
                    while (t.hasMore()) {
                        int tt = t.tag();
                        switch (tt >>> 3) {
                            case 3: modelType = (int) t.varint(); break;
                            case 35: byteFallback = t.varint() != 0; break;
                            case 40: unkId = (int) t.varint(); break;
                            case 41: bosId = (int) t.varint(); break;
                            case 42: eosId = (int) t.varint(); break;
                            default: t.skip(tt);
                        }
                    }
                    break;
                }
                case 3: {
                    ProtoReader n = r.message();
                    while (n.hasMore()) {
                        int nt = n.tag();
                        switch (nt >>> 3) {
                            case 1: name = n.string(); break;
                            case 2: charsmap = n.bytes(); break;
                            case 3: dummyPrefix = n.varint() != 0; break;
                            case 4: removeExtra = n.varint() != 0; break;
                            case 5: escape = n.varint() != 0; break;
                            default: n.skip(nt);
                        }
                    }
                    break;
                }
                default: r.skip(tag);
            }
        }
        if (pieces.isEmpty()) throw new IllegalArgumentException("it has no pieces");
        return new SentencePieceModelFile(pieces, modelType, byteFallback, unkId, bosId, eosId, name, charsmap,
                dummyPrefix, removeExtra, escape);
    }

    private static Piece piece(ProtoReader r) {
        String piece = "";
        float score = 0f;
        int type = TYPE_NORMAL;
        while (r.hasMore()) {
            int tag = r.tag();
            switch (tag >>> 3) {
                case 1: piece = r.string(); break;
                case 2: score = r.float32(); break;
                case 3: type = (int) r.varint(); break;
                default: r.skip(tag);
            }
        }
        return new Piece(piece, score, type);
    }
}
