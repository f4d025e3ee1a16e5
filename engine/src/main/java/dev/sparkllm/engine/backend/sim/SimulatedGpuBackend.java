package dev.sparkllm.engine.backend.sim;

import dev.sparkllm.engine.backend.ModelBackend;
import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepInput.SequenceChunk;
import dev.sparkllm.engine.backend.StepOutput;
import dev.sparkllm.engine.model.LlamaConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * TEST DOUBLE: a backend that computes no model. It produces deterministic next-token logits and takes the
 * time a {@link Roofline} predicts for a chosen GPU and model shape, so the engine's scheduling can be tested
 * and its overhead measured at GPU-like step times on any machine. Never a default; nothing picks it unless
 * asked by name. Shipped in main code because the Spark job's overhead benchmark runs it on executors.
 *
 * <p>The "KV cache" holds one 64-bit state per position: a hash of the previous position's state, the token
 * and its position, written through the block table like real KV. The logits of a chunk's last position are
 * a function of that state alone: one token dominates (so greedy decoding picks it), three others follow
 * (so sampling has choices), and with probability {@code eosRate} the dominant token is EOS. Hence the
 * logits depend only on the sequence's tokens, their positions and the KV entries its block table points to
 * (the row-independence contract), and a wrong block table or a bad prefix reuse changes the tokens.
 *
 * <p>Time: each step spins until the predicted time since its start has passed, so the simulation's own
 * work (filling logits) is part of the simulated device time, as kernels are on a GPU.
 */
public final class SimulatedGpuBackend implements ModelBackend {

    private final LlamaConfig config;
    private final int blockSize;
    private final int blockCount;
    private final Roofline roofline;
    private final double eosRate;
    private final int eosId;
    private final long[] state;   // [blockCount * blockSize] per-position hash state (the simulated KV)
    private long steps;
    private long simulatedNanos;
    private long lateNanos;
    private long lastPredictedNanos;

    /**
     * @param config     the model shape (vocabulary size, EOS id); {@link #llama2_70bConfig()} for the reference model
     * @param blockSize  KV positions per block
     * @param blockCount KV blocks
     * @param roofline   the device's speed; {@link Roofline#instant()} for functional tests
     * @param eosRate    probability (0..1) that a position's dominant next token is EOS; about 1/mean output length
     */
    public SimulatedGpuBackend(LlamaConfig config, int blockSize, int blockCount, Roofline roofline, double eosRate) {
        if (blockSize < 1 || blockCount < 1) throw new IllegalArgumentException("KV blocks must be positive: size " + blockSize + ", count " + blockCount);
        if (!(eosRate >= 0 && eosRate <= 1)) throw new IllegalArgumentException("eosRate must be in 0..1, got " + eosRate);
        if (config.vocabSize() < 8) throw new IllegalArgumentException("vocabulary of " + config.vocabSize() + " is too small to simulate");
        this.config = config;
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.roofline = roofline;
        this.eosRate = eosRate;
        this.eosId = config.eosTokenIds().length > 0 ? config.eosTokenIds()[0] : -1;
        this.state = new long[Math.multiplyExact(blockSize, blockCount)];
    }

    /** Llama-2-70B's shape: 80 layers, 64 heads, 8 KV heads, width 8192, vocabulary 32000, context 4096. */
    public static LlamaConfig llama2_70bConfig() {
        return new LlamaConfig(32000, 8192, 28672, 80, 64, 8, 128, 4096, 1e-5f,
                LlamaConfig.RopeConfig.plain(10000), false, 1, new int[]{2});
    }

    /**
     * KV blocks that fit in {@code deviceBytes} of device memory once the weights take their share, keeping
     * {@code reserveFraction} free for activations (as a real backend plans its memory at load).
     */
    public static int kvBlocksFitting(Roofline r, double deviceBytes, double reserveFraction, int blockSize) {
        double forKv = deviceBytes * (1 - reserveFraction) - r.weightBytesPerStep();
        return (int) Math.max(1, Math.floor(forKv / (r.kvBytesPerToken() * blockSize)));
    }

    @Override
    public LlamaConfig config() { return config; }

    @Override
    public int kvBlockSize() { return blockSize; }

    @Override
    public int kvBlockCount() { return blockCount; }

    @Override
    public String describe() { return "simulated GPU (test double): " + roofline; }

    @Override
    public StepOutput execute(StepInput input) {
        long start = System.nanoTime();
        List<float[]> out = new ArrayList<>(input.chunks().size());
        long kvRead = 0;
        for (SequenceChunk c : input.chunks()) {
            long last = writeStates(c);
            kvRead += c.endPosition();
            out.add(switch (c.logits()) {
                case NONE -> null;
                case LAST -> logitsFor(last);
                case ALL -> allLogits(c);
            });
        }
        long target = (long) (roofline.stepSeconds(input.tokenCount(), kvRead) * 1e9);
        waitUntil(start + target);
        long took = System.nanoTime() - start;
        steps++;
        lastPredictedNanos = target;
        simulatedNanos += target;
        lateNanos += Math.max(0, took - target);
        return new StepOutput(out);
    }

    /** Steps executed. */
    public long steps() { return steps; }

    /** The predicted time of the last step. */
    public long lastPredictedNanos() { return lastPredictedNanos; }

    /** Sum of the predicted step times. */
    public long simulatedNanos() { return simulatedNanos; }

    /** How far steps overran their predicted time in sum (the simulation's own cost beyond the prediction). */
    public long lateNanos() { return lateNanos; }

    @Override
    public void close() {
    }

    /** Writes the chunk's states through its block table; returns the state of its last position. */
    private long writeStates(SequenceChunk c) {
        int[] table = c.blockTable();
        if ((long) table.length * blockSize < c.endPosition()) {
            throw new IllegalArgumentException("sequence " + c.sequenceId() + ": block table of " + table.length
                    + " blocks cannot hold position " + (c.endPosition() - 1));
        }
        long s = c.startPosition() == 0 ? 0x5EED_0F_5EEDL : state[slot(table, c.startPosition() - 1)];
        int[] ids = c.tokenIds();
        for (int i = 0; i < ids.length; i++) {
            int pos = c.startPosition() + i;
            s = mix(s ^ mix(ids[i] * 0x9E3779B97F4A7C15L + pos));
            state[slot(table, pos)] = s;
        }
        return s;
    }

    private float[] allLogits(SequenceChunk c) {
        int v = config.vocabSize();
        float[] all = new float[c.tokenIds().length * v];
        for (int i = 0; i < c.tokenIds().length; i++) {
            float[] one = logitsFor(state[slot(c.blockTable(), c.startPosition() + i)]);
            System.arraycopy(one, 0, all, i * v, v);
        }
        return all;
    }

    /** One dominant token (EOS with probability eosRate), three runners-up, the rest at zero. */
    private float[] logitsFor(long s) {
        int v = config.vocabSize();
        float[] logits = new float[v];
        long h = mix(s);
        boolean eos = eosId >= 0 && (h >>> 11) * 0x1.0p-53 < eosRate;
        int top = eos ? eosId : nonEos(mix(h + 1), v);
        logits[nonEos(mix(h + 2), v)] = 14;
        logits[nonEos(mix(h + 3), v)] = 13;
        logits[nonEos(mix(h + 4), v)] = 12;
        logits[top] = 16;
        return logits;
    }

    private int nonEos(long h, int v) {
        int t = (int) Long.remainderUnsigned(h, v);
        return t == eosId ? (t + 1) % v : t;
    }

    private int slot(int[] table, int position) {
        int block = table[position / blockSize];
        if (block < 0 || block >= blockCount) throw new IllegalArgumentException("KV block id " + block + " outside 0.." + (blockCount - 1));
        return block * blockSize + position % blockSize;
    }

    /** SplitMix64's finaliser: a cheap, well-mixed 64-bit hash. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static void waitUntil(long deadline) {
        // Park for the bulk (parking overshoots by tens of microseconds), spin for the rest.
        long left;
        while ((left = deadline - System.nanoTime()) > 200_000) LockSupport.parkNanos(left - 150_000);
        while (System.nanoTime() < deadline) Thread.onSpinWait();
    }
}
