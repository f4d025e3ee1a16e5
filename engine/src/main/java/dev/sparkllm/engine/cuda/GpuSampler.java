package dev.sparkllm.engine.cuda;

import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.backend.StepInput.SamplingRequest;
import dev.sparkllm.engine.backend.StepOutput.SampledToken;
import dev.sparkllm.engine.sampling.Sampler;
import dev.sparkllm.engine.sampling.SamplingParams;
import dev.sparkllm.engine.sampling.SamplingSettings;
import jcuda.Pointer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Chooses tokens on the GPU, bit for bit as {@link Sampler#choose} would on the host (the contract of
 * {@link dev.sparkllm.engine.backend.ModelBackend#samplesTokens}): the kernel {@code sample_rows} (sampling.cu, whose
 * header says how each step stays exact) runs one block per row on the logits where the forward pass left them,
 * and only the chosen ids and the requested log-probabilities come back. Where {@code choose} would throw, the row
 * gets {@link SampledToken#failed} with the same message.
 *
 * <p>Per launch: the rows' parameters ({@value #PARAM_WORDS} words each) and one pool of token ids (a row's prompt
 * and output ids when a penalty needs them, and the ids it suppresses before min_new_tokens) go up in two copies;
 * {@value #RESULT_WORDS} words per row come back. More requests than {@code maxRows} run as several launches.
 * Device memory: 12 bytes of scratch per vocabulary entry and row, plus the growable token pool.
 *
 * <p>EOS ids: a request's own {@link SamplingRequest#eosTokenIds()}, as the contract says; the constructor's ids
 * stand in for a request that carries none (null).
 *
 * <p>Parameters: the kernel relies on two of {@link SamplingSettings#validate}'s rules and rejects a request that
 * breaks them with {@link IllegalArgumentException} (a caller's bug: requests carry resolved, validated settings):
 * temperature >= 0 (so no fixed-point weight exceeds 2^W) and logprobs <= {@value SamplingSettings#MAX_LOGPROBS} (the
 * room in a result). Any other value, valid or not, gives what {@code choose} gives.
 *
 * <p>Threading: like every CUDA call, the constructor and all methods run on the device's thread
 * ({@link CudaDevice#call}).
 */
public final class GpuSampler implements AutoCloseable {

    // Keep in step with sampling.cu.
    static final String KERNEL = "sample_rows";
    static final int THREADS = 512;
    static final int PARAM_WORDS = 32;
    static final int RESULT_WORDS = 48;
    static final int MAX_TOP = 20;
    static final int MAX_VOCAB = 196_608;  // two vocabulary bitmaps within 48 KiB of shared memory

    static final int P_LOGIT_ROW = 0, P_FLAGS = 1, P_TOP_K = 2, P_LOGPROBS = 3, P_HISTORY = 4, P_PROMPT_LENGTH = 5,
            P_OUTPUT_LENGTH = 6, P_SUPPRESS = 7, P_SUPPRESS_LENGTH = 8, P_REPETITION = 9, P_PRESENCE = 10,
            P_FREQUENCY = 11, P_TOKEN_INDEX = 12, P_TEMPERATURE = 14, P_TOP_P = 16, P_MIN_P = 18, P_SEED = 20;
    static final int F_GREEDY = 1, F_REPETITION = 2, F_PRESENCE_FREQUENCY = 4;
    static final int R_STATUS = 0, R_TOKEN = 1, R_TARGET = 2, R_TOTAL = 4, R_LOGPROB = 6, R_TOP_COUNT = 7,
            R_TOP_IDS = 8, R_TOP_LOGPROBS = 28;
    static final int S_OK = 0, S_NAN = 1, S_GREEDY_ALL_SUPPRESSED = 2, S_SAMPLE_ALL_SUPPRESSED = 3, S_RAN_PAST = 4;

    static {
        if (MAX_TOP != SamplingSettings.MAX_LOGPROBS) {
            throw new AssertionError("SamplingSettings.MAX_LOGPROBS is " + SamplingSettings.MAX_LOGPROBS
                    + " but sampling.cu has room for " + MAX_TOP + " (SAMPLE_MAX_TOP): change both");
        }
    }

    private final CudaDevice d;
    private final int vocab;
    private final int maxRows;
    private final Batch batch;
    private final int[] resultHost;
    private final DeviceBuffer params;
    private final DeviceBuffer results;
    private final DeviceBuffer work;
    private final DeviceBuffer wide;
    private DeviceBuffer tokens;
    private boolean closed;

    /**
     * @param vocab   the vocabulary size: a logits row's length and stride in the buffers {@link #sample} reads
     * @param eosIds  EOS ids for requests whose {@code eosTokenIds()} is null
     * @param maxRows rows per launch (the scratch is sized for it)
     */
    public GpuSampler(CudaDevice d, int vocab, int[] eosIds, int maxRows) {
        if (vocab <= 0 || vocab > MAX_VOCAB) {
            throw new IllegalArgumentException("vocabulary size " + vocab + " outside 1.." + MAX_VOCAB + " (the GPU sampler's limit)");
        }
        if (maxRows <= 0) throw new IllegalArgumentException("maxRows must be > 0, got " + maxRows);
        this.d = d;
        this.vocab = vocab;
        this.maxRows = maxRows;
        this.batch = new Batch(vocab, eosIds, maxRows);
        this.resultHost = new int[maxRows * RESULT_WORDS];
        this.params = d.alloc((long) maxRows * PARAM_WORDS * Integer.BYTES, "sampling parameters");
        this.results = d.alloc((long) maxRows * RESULT_WORDS * Integer.BYTES, "sampling results");
        this.work = d.alloc((long) maxRows * vocab * Float.BYTES, "sampling logits scratch");
        this.wide = d.alloc((long) maxRows * vocab * Long.BYTES, "sampling weights scratch");
        this.tokens = d.alloc(64L << 10, "sampling token ids");
    }

    /**
     * Chooses one token per request: request {@code i} from row {@code logitRow[i]} of {@code logits} (fp32
     * {@code [rows, vocab]}), which stays unchanged. Returns one entry per request, in order.
     */
    public List<SampledToken> sample(DeviceBuffer logits, int[] logitRow, List<SamplingRequest> requests) {
        if (closed) throw new IllegalStateException("the GPU sampler is closed");
        if (logitRow.length != requests.size()) {
            throw new IllegalArgumentException(logitRow.length + " logit rows for " + requests.size() + " requests");
        }
        long rowsInBuffer = logits.bytes() / ((long) vocab * Float.BYTES);
        for (int i = 0; i < logitRow.length; i++) {
            if (logitRow[i] < 0 || logitRow[i] >= rowsInBuffer) {  // an illegal address would end the GPU context
                throw new IllegalArgumentException("logit row " + logitRow[i] + " outside the " + rowsInBuffer + " rows of " + logits.what());
            }
            check(requests.get(i).params());
        }
        List<SampledToken> out = new ArrayList<>(requests.size());
        for (int from = 0; from < requests.size(); from += maxRows) {
            int rows = Math.min(maxRows, requests.size() - from);
            batch.clear();
            for (int i = 0; i < rows; i++) batch.add(logitRow[from + i], requests.get(from + i));
            d.upload(params, 0, Pointer.to(batch.params), (long) rows * PARAM_WORDS * Integer.BYTES);
            if (batch.tokenCount > 0) {
                long bytes = (long) batch.tokenCount * Integer.BYTES;
                if (bytes > tokens.bytes()) {
                    d.free(tokens);
                    tokens = d.alloc(Math.max(bytes, 2 * tokens.bytes()), "sampling token ids");
                }
                d.upload(tokens, 0, Pointer.to(batch.tokens), bytes);
            }
            d.launch(KERNEL, rows, 1, 1, THREADS, 8 * ((vocab + 31) / 32), logits, vocab, params, tokens, work, wide, results);
            d.download(Pointer.to(resultHost), results, 0, (long) rows * RESULT_WORDS * Integer.BYTES);
            for (int i = 0; i < rows; i++) out.add(decode(resultHost, i, requests.get(from + i)));
        }
        return out;
    }

    /** Frees the device buffers (on the device thread). */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (DeviceBuffer b : new DeviceBuffer[]{params, results, work, wide, tokens}) d.free(b);
    }

    /**
     * One launch's inputs in sampling.cu's layout: {@value #PARAM_WORDS} parameter words per row and the token pool.
     * Separate from the device so that its packing can be checked without one.
     */
    static final class Batch {
        final int vocab;
        final int[] defaultEos;
        final int[] params;
        int[] tokens = new int[4096];
        int rows;
        int tokenCount;

        Batch(int vocab, int[] defaultEos, int maxRows) {
            this.vocab = vocab;
            this.defaultEos = defaultEos == null ? new int[0] : defaultEos.clone();
            this.params = new int[maxRows * PARAM_WORDS];
        }

        void clear() {
            rows = 0;
            tokenCount = 0;
        }

        void add(int logitRow, SamplingRequest r) {
            SamplingParams sp = r.params();
            check(sp);
            int[] p = params;
            int base = rows++ * PARAM_WORDS;
            Arrays.fill(p, base, base + PARAM_WORDS, 0);
            // Sampler.choose narrows the penalties to float before testing and applying them; so does the kernel.
            float repetition = (float) sp.repetitionPenalty();
            float presence = (float) sp.presencePenalty();
            float frequency = (float) sp.frequencyPenalty();
            boolean repeat = repetition != 1f;
            boolean presenceFrequency = !(presence == 0f && frequency == 0f);
            p[base + P_LOGIT_ROW] = logitRow;
            p[base + P_FLAGS] = (sp.isGreedy() ? F_GREEDY : 0) | (repeat ? F_REPETITION : 0)
                    | (presenceFrequency ? F_PRESENCE_FREQUENCY : 0);
            p[base + P_TOP_K] = sp.topK();
            p[base + P_LOGPROBS] = sp.logprobs();
            // History only where a penalty reads it: the repetition penalty reads prompt and output, presence and
            // frequency the output alone (then the "prompt" part is left empty).
            p[base + P_HISTORY] = tokenCount;
            if (repeat) {
                append(r.promptTokenIds(), r.promptTokenIds().length);
                p[base + P_PROMPT_LENGTH] = r.promptTokenIds().length;
            }
            if (repeat || presenceFrequency) {
                append(r.outputTokenIds(), r.outputLength());
                p[base + P_OUTPUT_LENGTH] = r.outputLength();
            }
            p[base + P_SUPPRESS] = tokenCount;
            if (r.outputLength() < sp.minNewTokens()) {
                int[] eos = r.eosTokenIds() != null ? r.eosTokenIds() : defaultEos;
                if (!sp.ignoreEos()) append(eos, eos.length);
                append(sp.stopTokenIds(), sp.stopTokenIds().length);
            }
            p[base + P_SUPPRESS_LENGTH] = tokenCount - p[base + P_SUPPRESS];
            p[base + P_REPETITION] = Float.floatToRawIntBits(repetition);
            p[base + P_PRESENCE] = Float.floatToRawIntBits(presence);
            p[base + P_FREQUENCY] = Float.floatToRawIntBits(frequency);
            p[base + P_TOKEN_INDEX] = r.outputLength();
            putLong(p, base + P_TEMPERATURE, Double.doubleToRawLongBits(sp.temperature()));
            putLong(p, base + P_TOP_P, Double.doubleToRawLongBits(sp.topP()));
            putLong(p, base + P_MIN_P, Double.doubleToRawLongBits(sp.minP()));
            putLong(p, base + P_SEED, r.seed());
        }

        private void append(int[] ids, int count) {
            if (tokenCount + count > tokens.length) {
                tokens = Arrays.copyOf(tokens, Math.max(tokenCount + count, 2 * tokens.length));
            }
            System.arraycopy(ids, 0, tokens, tokenCount, count);
            tokenCount += count;
        }

        private static void putLong(int[] p, int at, long v) {
            p[at] = (int) v;            // low word first: the device is little-endian
            p[at + 1] = (int) (v >>> 32);
        }
    }

    /** The two rules of {@link SamplingSettings#validate} that the kernel relies on (see the class comment). */
    static void check(SamplingParams sp) {
        if (sp.temperature() < 0) {
            throw new IllegalArgumentException("the GPU sampler needs temperature >= 0, got " + sp.temperature());
        }
        if (sp.logprobs() > MAX_TOP) {
            throw new IllegalArgumentException("the GPU sampler returns at most " + MAX_TOP + " logprobs, asked for " + sp.logprobs());
        }
    }

    /** Row {@code row}'s result words as what {@link Sampler#choose} returns, or the message of what it throws. */
    static SampledToken decode(int[] results, int row, SamplingRequest r) {
        int base = row * RESULT_WORDS;
        int token = results[base + R_TOKEN];
        // The messages are Sampler's own (LogitAdjustments, TokenDraw), word for word.
        switch (results[base + R_STATUS]) {
            case S_OK:
                break;
            case S_NAN:
                return SampledToken.failed("logit of token " + token + " is NaN; the model's output is invalid");
            case S_GREEDY_ALL_SUPPRESSED:
                return SampledToken.failed("every token's logit is -infinity (all suppressed); nothing can be chosen");
            case S_SAMPLE_ALL_SUPPRESSED:
                return SampledToken.failed("every token's logit is -infinity (all suppressed); nothing can be sampled");
            case S_RAN_PAST:
                return SampledToken.failed("inverse CDF ran past the vocabulary (target " + getLong(results, base + R_TARGET)
                        + ", total " + getLong(results, base + R_TOTAL) + ")");
            default:
                throw new IllegalStateException("sample_rows returned status " + results[base + R_STATUS] + " for row " + row);
        }
        GenerationResult.TokenLogprob logprob = null;
        if (r.params().logprobs() >= 0) {
            int n = results[base + R_TOP_COUNT];
            int[] topIds = Arrays.copyOfRange(results, base + R_TOP_IDS, base + R_TOP_IDS + n);
            float[] topLogprobs = new float[n];
            for (int i = 0; i < n; i++) topLogprobs[i] = Float.intBitsToFloat(results[base + R_TOP_LOGPROBS + i]);
            logprob = new GenerationResult.TokenLogprob(token, Float.intBitsToFloat(results[base + R_LOGPROB]), topIds, topLogprobs);
        }
        return SampledToken.chosen(new Sampler.Choice(token, logprob));
    }

    private static long getLong(int[] words, int at) {
        return (words[at] & 0xffffffffL) | ((long) words[at + 1] << 32);
    }
}
