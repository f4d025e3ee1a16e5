package dev.sparkllm.engine.sampling;

import dev.sparkllm.engine.api.FinishReason;
import dev.sparkllm.engine.tokenizer.IncrementalDecoder;
import dev.sparkllm.engine.tokenizer.Tokenizer;

import java.util.List;

/**
 * Decides, token by token, when one sequence ends and what text it may show so far. One instance per sequence.
 *
 * <ul>
 *   <li>EOS (unless {@code ignoreEos}) and stop token ids end with {@link FinishReason#STOP}; their text is not
 *       included.</li>
 *   <li>Stop strings are searched in the incrementally decoded text (whole characters only: the decoder holds
 *       back incomplete UTF-8). The earliest match ends with STOP; the stop string and everything after it are
 *       dropped. Text that could still grow into a stop string is held back from {@link Step#textDelta()} until
 *       it cannot, so the deltas never have to be taken back.</li>
 *   <li>{@code maxNewTokens} ends with {@link FinishReason#LENGTH} (a stop string completed by that same last
 *       token still wins: STOP).</li>
 *   <li>Before {@code minNewTokens} tokens, neither EOS, stop ids nor stop strings end generation (vLLM's rule);
 *       a stop string completed before then is ordinary text. The sampler suppresses EOS and stop ids over the
 *       same span, so an EOS seen here anyway is treated as an ordinary (special, so textless) token.</li>
 * </ul>
 * Invariant: the concatenation of every {@code textDelta} equals {@link #text()} at every point.
 */
public final class StopConditions {

    private final SamplingParams params;
    private final int[] eosTokenIds;
    private final List<String> stopStrings;
    private final int longestStop;
    private final IncrementalDecoder decoder;
    private final StringBuilder decoded = new StringBuilder();  // everything decoded, held-back text included
    private int emitted;       // decoded[0..emitted) has been returned in deltas
    private int generated;     // tokens accepted so far
    private FinishReason finishReason;

    public StopConditions(SamplingParams params, Tokenizer tokenizer, int[] eosTokenIds) {
        this.params = params;
        this.eosTokenIds = params.ignoreEos() || eosTokenIds == null ? new int[0] : eosTokenIds.clone();
        this.stopStrings = params.stop().stream().filter(s -> !s.isEmpty()).toList();
        this.longestStop = stopStrings.stream().mapToInt(String::length).max().orElse(0);
        this.decoder = tokenizer.newDecoder();
    }

    /** Feeds the next generated token; returns the text to emit now and whether generation ends. */
    public Step accept(int tokenId) {
        if (finishReason != null) {
            throw new IllegalStateException("sequence already finished (" + finishReason.wireName() + "); no more tokens may be accepted");
        }
        generated++;
        boolean stopsNow = generated >= params.minNewTokens();
        if (stopsNow && (contains(eosTokenIds, tokenId) || contains(params.stopTokenIds(), tokenId))) {
            decoded.append(decoder.finish());
            return finish(FinishReason.STOP, decoded.length());
        }
        boolean last = generated >= params.maxNewTokens();
        int before = decoded.length();
        decoded.append(decoder.append(tokenId));
        if (last) decoded.append(decoder.finish());
        if (stopsNow) {
            int match = earliestStopMatch(before);
            if (match >= 0) return finish(FinishReason.STOP, match);
        }
        if (last) return finish(FinishReason.LENGTH, decoded.length());
        return new Step(emitUpTo(decoded.length() - heldBackLength()), false, null);
    }

    /** Output text so far (what the deltas carried); after the end, the final text, stop string excluded. */
    public String text() {
        return decoded.substring(0, emitted);
    }

    /** Why the sequence ended, or null while it runs. */
    public FinishReason finishReason() { return finishReason; }

    /** Tokens accepted so far. */
    public int generatedTokens() { return generated; }

    private Step finish(FinishReason reason, int textEnd) {
        finishReason = reason;
        textEnd = Math.max(textEnd, emitted);  // never reached: a match can only start in held-back text
        String delta = emitUpTo(textEnd);
        decoded.setLength(textEnd);
        return new Step(delta, true, reason);
    }

    private String emitUpTo(int end) {
        if (end <= emitted) return "";
        String delta = decoded.substring(emitted, end);
        emitted = end;
        return delta;
    }

    /**
     * Start of the earliest stop-string match that ends after {@code before} (older matches were either seen
     * already or fell before min_new_tokens), or -1.
     */
    private int earliestStopMatch(int before) {
        int from = Math.max(0, before - longestStop + 1);
        int best = -1;
        for (String stop : stopStrings) {
            int at = decoded.indexOf(stop, from);
            while (at >= 0 && at + stop.length() <= before) at = decoded.indexOf(stop, at + 1);
            if (at >= 0 && (best < 0 || at < best)) best = at;
        }
        return best;
    }

    /** Length of the longest suffix of the decoded text that is a proper prefix of some stop string. */
    private int heldBackLength() {
        int longest = 0;
        int length = decoded.length();
        for (String stop : stopStrings) {
            for (int k = Math.min(stop.length() - 1, length); k > longest; k--) {
                if (endsWithPrefix(length - k, stop, k)) {
                    longest = k;
                    break;
                }
            }
        }
        return longest;
    }

    /** Whether decoded[offset..offset+k) equals stop[0..k). */
    private boolean endsWithPrefix(int offset, String stop, int k) {
        for (int i = 0; i < k; i++) {
            if (decoded.charAt(offset + i) != stop.charAt(i)) return false;
        }
        return true;
    }

    private static boolean contains(int[] ids, int id) {
        for (int x : ids) if (x == id) return true;
        return false;
    }

    /**
     * @param textDelta text to show now (possibly empty)
     * @param finished  whether the sequence has ended
     * @param reason    why it ended; null unless finished
     */
    public record Step(String textDelta, boolean finished, FinishReason reason) {
    }
}
