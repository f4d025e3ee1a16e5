package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A tokenizer for a directory that has only SentencePiece's {@code tokenizer.model}: SentencePiece's own BPE
 * inside the same pipeline Hugging Face's Llama conversion builds (SentencePiece's normaliser, ▁ for spaces,
 * control pieces as special tokens, byte fallback decoding, BOS added as Llama's tokenizer does).
 */
final class SentencePieceTokenizer {

    private SentencePieceTokenizer() {
    }

    static Tokenizer load(Path file) {
        SentencePieceModelFile model = SentencePieceModelFile.read(file);
        if (model.modelType() != SentencePieceModelFile.MODEL_BPE) {
            throw new IllegalArgumentException(file + " is a SentencePiece model of type " + model.modelType()
                    + " (1 unigram, 3 word, 4 char); only BPE (2) is supported; supply a tokenizer.json instead");
        }
        boolean addBos = true;
        boolean addEos = false;
        Path config = file.resolveSibling("tokenizer_config.json");
        if (Files.exists(config)) {
            try {
                JsonNode c = new ObjectMapper().readTree(config.toFile());
                addBos = c.path("add_bos_token").asBoolean(true);
                addEos = c.path("add_eos_token").asBoolean(false);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + config + ": " + e.getMessage(), e);
            }
        }
        return new PipelineTokenizer(parts(model, addBos, addEos));
    }

    static PipelineTokenizer.Parts parts(SentencePieceModelFile model, boolean addBos, boolean addEos) {
        List<AddedToken> special = new ArrayList<>();
        for (int id = 0; id < model.pieces().size(); id++) {
            int type = model.pieces().get(id).type();
            if (type == SentencePieceModelFile.TYPE_CONTROL || type == SentencePieceModelFile.TYPE_UNKNOWN) {
                special.add(new AddedToken(id, model.pieces().get(id).piece(), true, false, false, false, false));
            }
        }
        Normalizer normalizer = new SentencePieceNormalizer(model);
        Decoder decoder = tokens -> {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) out.add(t.replace('\u2581', ' '));
            out = ByteFallback.decode(out);
            String text = String.join("", out);
            if (model.addDummyPrefix() && text.startsWith(" ")) text = text.substring(1);
            return List.of(text);
        };
        int bos = model.bosId() >= 0 && model.bosId() < model.pieces().size() ? model.bosId() : -1;
        int eos = model.eosId() >= 0 && model.eosId() < model.pieces().size() ? model.eosId() : -1;
        PostProcessor post = new PostProcessor(addBos && bos >= 0 ? new int[]{bos} : new int[0],
                addEos && eos >= 0 ? new int[]{eos} : new int[0]);
        return new PipelineTokenizer.Parts(normalizer, (word, out) -> out.add(word), new SentencePieceBpe(model),
                decoder, special, post, bos, eos);
    }
}
