package dev.sparkllm.udf.testing;

import dev.sparkllm.engine.api.EngineFailedException;
import dev.sparkllm.engine.api.EngineMetrics;
import dev.sparkllm.engine.api.FinishReason;
import dev.sparkllm.engine.api.GenerationEngine;
import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.api.RequestHandle;
import dev.sparkllm.engine.api.TokenListener;
import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test double of the engine with the real one's threading: one engine thread runs continuous-batching steps
 * over up to {@code maxBatch} sequences, one token per sequence per step, optionally sleeping per step to act
 * like a device. Tokens are a pure function of (prompt, seed, position), so outputs do not depend on batching,
 * like the real engine's batch invariance. Token {@link #STOP_TOKEN} ends a sequence with STOP.
 */
public final class FakeEngine implements GenerationEngine {

    public static final int STOP_TOKEN = 2;
    public static final AtomicInteger OPENED = new AtomicInteger();
    private final int maxBatch;
    private final int contextLength;
    private final long stepMicros;
    private final int failAfterSteps;
    private final Tokenizer tokenizer;
    private final LinkedBlockingQueue<Sequence> waiting = new LinkedBlockingQueue<>(4096);
    private final List<Sequence> running = new ArrayList<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile Throwable failure;
    private long steps, prefill, decode, finished, busy;
    private double occupancy;

    private static final class Sequence implements RequestHandle {
        final GenerationRequest request;
        final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
        final List<Integer> out = new ArrayList<>();
        volatile boolean cancelled;

        Sequence(GenerationRequest r) { request = r; }
        @Override public String id() { return request.id(); }
        @Override public CompletableFuture<GenerationResult> result() { return result; }
        @Override public void cancel() { cancelled = true; }
    }

    public FakeEngine(int maxBatch, int contextLength, long stepMicros, int failAfterSteps) {
        this(new FakeTokenizer(), maxBatch, contextLength, stepMicros, failAfterSteps);
    }

    /** With a real tokenizer, for tests of the prompt and sampling binding. */
    public FakeEngine(Tokenizer tokenizer, int maxBatch, int contextLength, long stepMicros, int failAfterSteps) {
        this.tokenizer = tokenizer;
        this.maxBatch = maxBatch;
        this.contextLength = contextLength;
        this.stepMicros = stepMicros;
        this.failAfterSteps = failAfterSteps;
        OPENED.incrementAndGet();
        thread = new Thread(this::loop, "fake-engine");
        thread.setDaemon(true);
        thread.start();
    }

    /** The token at {@code index} of a generation: a hash of prompt, seed and index. */
    public static int token(int[] prompt, long seed, int index) {
        long h = seed * 0x9E3779B97F4A7C15L + index;
        for (int p : prompt) h = h * 31 + p;
        h ^= (h >>> 29);
        int t = (int) Math.floorMod(h, 40L);
        return t < 3 ? STOP_TOKEN : 60 + t; // about one in 13 tokens stops; others print as letters
    }

    private void loop() {
        try {
            while (!closed) {
                if (running.isEmpty()) {
                    Sequence s = waiting.poll(20, java.util.concurrent.TimeUnit.MILLISECONDS);
                    if (s != null) admit(s);
                    continue;
                }
                Sequence s;
                while (running.size() < maxBatch && (s = waiting.poll()) != null) admit(s);
                long t0 = System.nanoTime();
                if (failAfterSteps > 0 && steps >= failAfterSteps) throw new IllegalStateException("simulated device fault");
                if (stepMicros > 0) java.util.concurrent.locks.LockSupport.parkNanos(stepMicros * 1000);
                synchronized (this) {
                    steps++;
                    occupancy += running.size() / (double) maxBatch;
                }
                for (var it = running.iterator(); it.hasNext(); ) {
                    Sequence q = it.next();
                    if (q.cancelled) {
                        q.result.complete(result(q, FinishReason.CANCELLED, null));
                        it.remove();
                        continue;
                    }
                    var sp = q.request.sampling();
                    long seed = sp.seed() == null ? 0 : sp.seed();
                    int tok = token(q.request.promptTokenIds(), seed + (long) (sp.temperature() * 1000), q.out.size());
                    decode++;
                    boolean stop = tok == STOP_TOKEN && q.out.size() >= sp.minNewTokens();
                    if (!stop) q.out.add(tok);
                    if (stop || q.out.size() >= sp.maxNewTokens()
                            || q.request.promptTokenIds().length + q.out.size() >= contextLength) {
                        it.remove();
                        finished++;
                        q.result.complete(result(q, stop ? FinishReason.STOP : FinishReason.LENGTH, null));
                    }
                }
                busy += System.nanoTime() - t0;
            }
        } catch (Throwable t) {
            failure = t;
        }
        for (Sequence q : running) finish(q);
        Sequence q;
        while ((q = waiting.poll()) != null) finish(q);
    }

    private void finish(Sequence q) {
        if (failure != null) q.result.completeExceptionally(failure);
        else q.result.complete(result(q, FinishReason.CANCELLED, null));
    }

    private void admit(Sequence s) {
        running.add(s);
        prefill += s.request.promptTokenIds().length;
    }

    private GenerationResult result(Sequence q, FinishReason reason, String error) {
        int[] ids = q.out.stream().mapToInt(Integer::intValue).toArray();
        var lp = q.request.sampling().logprobs() < 0 ? null : q.out.stream()
                .map(t -> new GenerationResult.TokenLogprob(t, -1f / t, new int[]{t}, new float[]{-1f / t})).toList();
        return new GenerationResult(q.request.id(), tokenizer.decode(ids, true), ids, q.request.promptTokenIds(),
                reason, lp, error);
    }

    @Override public LlamaConfig config() { throw new UnsupportedOperationException("the fake engine has no model config"); }
    @Override public Tokenizer tokenizer() { return tokenizer; }
    @Override public int contextLength() { return contextLength; }

    @Override
    public RequestHandle submit(GenerationRequest request, TokenListener listener) throws InterruptedException {
        if (closed || failure != null) throw new IllegalStateException("fake engine is closed or failed", failure);
        Sequence s = new Sequence(request);
        waiting.put(s);
        return s;
    }

    @Override
    public synchronized EngineMetrics metrics() {
        return new EngineMetrics(waiting.size(), running.size(), 0, maxBatch, 0, 0, steps, occupancy, prefill, 0,
                decode, finished, busy);
    }

    @Override
    public void close() {
        closed = true;
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Rethrows the engine thread's failure (tests). */
    public void checkHealthy() {
        if (failure != null) throw new EngineFailedException("fake engine failed", failure);
    }
}
