package dev.sparkllm.engine.eval;

import dev.sparkllm.engine.backend.ModelBackend;
import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepOutput;
import dev.sparkllm.engine.tokenizer.Tokenizer;

import java.util.List;

/**
 * Perplexity of a model on documents. Each document is encoded with the tokenizer's special tokens (BOS) and
 * followed by EOS; the concatenated stream is cut into consecutive windows of {@code window + 1} tokens that
 * overlap by one token, and each window is scored on its own (a fresh KV cache): the first {@code window}
 * tokens are the input, the last {@code window} the targets. The same definition as the Hugging Face
 * reference script (engine/src/test/scripts/hf_reference.py), so the numbers compare directly.
 */
public final class Perplexity {

    /**
     * @param perplexity exp(mean negative log-likelihood per target token)
     * @param tokens     target tokens scored
     * @param window     tokens of context per window
     */
    public record Result(double perplexity, long tokens, int window) {
    }

    private Perplexity() {
    }

    /** The token stream: each document with BOS (as the tokenizer adds it) and a trailing EOS. */
    public static int[] stream(Tokenizer tokenizer, List<String> documents) {
        int eos = tokenizer.eosId();
        if (eos < 0) throw new IllegalArgumentException("the tokenizer has no EOS token; perplexity needs one to end documents");
        int n = 0;
        int[][] encoded = new int[documents.size()][];
        for (int i = 0; i < documents.size(); i++) {
            encoded[i] = tokenizer.encode(documents.get(i), true);
            n += encoded[i].length + 1;
        }
        int[] stream = new int[n];
        int at = 0;
        for (int[] doc : encoded) {
            System.arraycopy(doc, 0, stream, at, doc.length);
            at += doc.length;
            stream[at++] = eos;
        }
        return stream;
    }

    /** Scores the stream window by window; the backend needs KV blocks for {@code window} positions. */
    public static Result compute(ModelBackend backend, int[] stream, int window) {
        if (window < 1) throw new IllegalArgumentException("window must be at least 1, got " + window);
        int blocksNeeded = (window + backend.kvBlockSize() - 1) / backend.kvBlockSize();
        if (backend.kvBlockCount() < blocksNeeded) {
            throw new IllegalArgumentException("the backend's KV cache holds " + backend.kvBlockCount() * backend.kvBlockSize()
                    + " positions, fewer than the window of " + window);
        }
        int[] blockTable = new int[blocksNeeded];
        for (int b = 0; b < blocksNeeded; b++) blockTable[b] = b;
        int vocab = backend.config().vocabSize();
        double nll = 0;
        long count = 0;
        for (int start = 0; start + 1 < stream.length; start += window) {
            int end = Math.min(stream.length, start + window + 1);
            int[] input = java.util.Arrays.copyOfRange(stream, start, end - 1);
            StepOutput out = backend.execute(new StepInput(List.of(
                    new StepInput.SequenceChunk(0, input, 0, blockTable, StepInput.Logits.ALL))));
            float[] logits = out.logits().get(0);
            for (int t = 0; t < input.length; t++) {
                nll -= logSoftmaxAt(logits, t * vocab, vocab, stream[start + t + 1]);
                count++;
            }
        }
        return new Result(Math.exp(nll / count), count, window);
    }

    /** log softmax(logits[offset .. offset+vocab))[target], computed in double with max subtraction. */
    static double logSoftmaxAt(float[] logits, int offset, int vocab, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits[offset + i]);
        double sum = 0;
        for (int i = 0; i < vocab; i++) sum += Math.exp(logits[offset + i] - max);
        return logits[offset + target] - max - Math.log(sum);
    }
}
