package dev.sparkllm.engine.core;

import dev.sparkllm.engine.api.EngineFailedException;
import dev.sparkllm.engine.api.EngineMetrics;
import dev.sparkllm.engine.api.FinishReason;
import dev.sparkllm.engine.api.GenerationEngine;
import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.api.RequestHandle;
import dev.sparkllm.engine.api.TokenListener;
import dev.sparkllm.engine.backend.ModelBackend;
import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepOutput;
import dev.sparkllm.engine.kv.PagedKvCache;
import dev.sparkllm.engine.model.LlamaConfig;
import dev.sparkllm.engine.sampling.SamplingParams;
import dev.sparkllm.engine.sampling.StopConditions;
import dev.sparkllm.engine.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The generation engine: continuous batching over a paged KV cache with prefix sharing, on any
 * {@link ModelBackend}. One engine thread owns the loop and every piece of mutable state (scheduler, KV
 * cache, sequences, backend); callers on any thread submit, stream and cancel.
 *
 * <p>The loop: apply cancellations → {@link Scheduler#schedule()} → {@link ModelBackend#execute} → sample
 * and update each sequence ({@link TokenSampling}). A backend exception fails the engine: every pending
 * result completes exceptionally with {@link EngineFailedException}, and {@code submit} throws afterwards. A
 * request that is itself wrong (too long for the context or for the KV pool, token ids outside the
 * vocabulary) completes with {@link FinishReason#ERROR} and a message, and the engine goes on.
 *
 * <p>Results complete on the engine thread, after the step's metrics are published: work attached to a result
 * future with the non-async {@code CompletableFuture} methods runs there too, so attach anything slow with the
 * {@code ...Async} variants. The engine owns the backend: {@link #close()} closes it.
 */
public final class Engine implements GenerationEngine {

    private enum State { RUNNING, CLOSING, CLOSED, FAILED }

    private static final AtomicLong ENGINES = new AtomicLong(); // numbers engine threads (one engine per GPU)

    private final ModelBackend backend;
    private final Tokenizer tokenizer;
    private final EngineOptions options;
    private final LlamaConfig config;
    private final int contextLength;
    private final int[] eosIds;
    private final PagedKvCache kv;
    private final BlockingQueue<Sequence> queue;
    private final ConcurrentLinkedQueue<Sequence> cancellations = new ConcurrentLinkedQueue<>();
    private final Scheduler scheduler;
    private final TokenSampling sampling;
    private final Thread thread;
    private final AtomicLong nextSequenceId = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    // Results of sequences that ended in this iteration, completed after the metrics are published so that a
    // caller woken by its result sees metrics that already account for it.
    private final List<Runnable> completions = new ArrayList<>();
    private volatile State state = State.RUNNING;
    private volatile Throwable failure;
    private volatile EngineMetrics snapshot;
    private volatile long snapshotPreemptions;
    // Counters, written by the engine thread only.
    private long steps;
    private double occupancySum;
    private long prefillTokens;
    private long decodeTokens;
    private long finished;
    private long busyNanos;

    /**
     * Starts an engine thread on the backend.
     *
     * @param backend   runs the model; the engine owns it from now on
     * @param tokenizer the model's tokenizer (for stop strings and streamed text)
     * @param options   batching settings ({@link EngineOptions#defaults()} for the usual ones)
     */
    public Engine(ModelBackend backend, Tokenizer tokenizer, EngineOptions options) {
        this.backend = backend;
        this.tokenizer = tokenizer;
        this.options = options;
        this.config = backend.config();
        int modelContext = config.maxPositionEmbeddings();
        if (options.contextLength() > modelContext) {
            throw new IllegalArgumentException("contextLength " + options.contextLength() + " exceeds the model's "
                    + "max_position_embeddings " + modelContext + "; use at most " + modelContext + " (or 0 for that)");
        }
        this.contextLength = options.contextLength() == 0 ? modelContext : options.contextLength();
        this.eosIds = eosIds(tokenizer, config);
        this.kv = new PagedKvCache(backend.kvBlockCount(), backend.kvBlockSize(), options.prefixCaching());
        this.queue = new ArrayBlockingQueue<>(options.queueCapacity());
        this.scheduler = new Scheduler(options, kv, queue, s -> finish(s, FinishReason.CANCELLED, null));
        this.sampling = new TokenSampling(config.vocabSize(), eosIds, options.samplingThreads(), this::finish);
        publishMetrics();
        this.thread = new Thread(this::loop, "sparkllm-engine-" + ENGINES.incrementAndGet());
        thread.setDaemon(true);
        thread.start();
    }

    /** An engine with {@link EngineOptions#defaults()}. */
    public Engine(ModelBackend backend, Tokenizer tokenizer) {
        this(backend, tokenizer, EngineOptions.defaults());
    }

    @Override
    public LlamaConfig config() { return config; }

    @Override
    public Tokenizer tokenizer() { return tokenizer; }

    @Override
    public int contextLength() { return contextLength; }

    /** The options this engine runs with. */
    public EngineOptions options() { return options; }

    /** End-of-sequence ids: the tokenizer's EOS and the model config's. */
    public int[] eosTokenIds() { return eosIds.clone(); }

    @Override
    public RequestHandle submit(GenerationRequest request, TokenListener listener) throws InterruptedException {
        requireRunning();
        SamplingParams params = request.sampling().seed() != null ? request.sampling()
                : request.sampling().withSeed(ThreadLocalRandom.current().nextLong());
        String problem = problemWith(request, params);
        StopConditions stop = null;
        if (problem == null) {
            try {
                stop = new StopConditions(params, tokenizer, eosIds);
            } catch (IllegalArgumentException e) {
                problem = "invalid sampling parameters: " + e.getMessage();
            }
        }
        if (problem != null) {
            rejected.incrementAndGet();
            return new SequenceHandle(request.id(), new GenerationResult(request.id(), "", new int[0],
                    request.promptTokenIds().clone(), FinishReason.ERROR, null, problem));
        }
        Sequence s = new Sequence(nextSequenceId.getAndIncrement(), request, params, params.seed(), stop, listener);
        while (!queue.offer(s, 20, TimeUnit.MILLISECONDS)) requireRunning(); // back-pressure: wait for room
        if (state != State.RUNNING && queue.remove(s)) requireRunning();    // lost a race with close or failure
        LockSupport.unpark(thread);
        return new SequenceHandle(s, this::cancel);
    }

    @Override
    public EngineMetrics metrics() {
        EngineMetrics m = snapshot;
        return new EngineMetrics(queue.size(), m.runningSequences(), m.preemptedSequences(), m.maxBatchSequences(),
                m.kvBlocksUsed(), m.kvBlocksTotal(), m.steps(), m.batchOccupancySum(), m.prefillTokens(),
                m.prefixCacheHitTokens(), m.decodeTokens(), m.finishedRequests() + rejected.get(), m.busyNanos());
    }

    /** Sequences preempted since start (a counter; the metrics' preempted figure is a gauge). */
    public long preemptions() { return snapshotPreemptions; }

    @Override
    public void close() {
        synchronized (this) {
            if (state == State.RUNNING) state = State.CLOSING;
        }
        LockSupport.unpark(thread);
        if (Thread.currentThread() != thread) {
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
            sampling.close();
            backend.close();
        }
    }

    private void loop() {
        try {
            while (state == State.RUNNING) {
                applyCancellations();
                if (scheduler.hasWork()) step();
                publishMetrics();
                deliverResults();
                if (!scheduler.hasWork() && state == State.RUNNING) {
                    LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(50));
                }
            }
            endAll(null);
            publishMetrics();
            deliverResults();
            state = State.CLOSED;
        } catch (Throwable t) {
            failure = t;
            state = State.FAILED;
            endAll(new EngineFailedException("engine on " + backend.describe() + " failed at step " + (steps + 1)
                    + ": " + t + "; the pending requests were not completed, retry them on a healthy engine", t));
            publishMetrics();
            deliverResults();
        }
    }

    /** One step: schedule, run the model, sample, update. */
    private void step() {
        long start = System.nanoTime();
        ScheduledStep step = scheduler.schedule();
        if (step.isEmpty()) {
            // Only when the waiting head was cancelled or blocks are held by finishing sequences: nothing to run.
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(1));
            return;
        }
        StepOutput out = backend.execute(step.input());
        checkOutput(step, out);
        scheduler.markComputed(step);
        for (float[] logits : out.logits()) if (logits != null) decodeTokens++;
        sampling.advance(step.sequences(), out.logits(), contextLength);
        steps++;
        occupancySum += (double) step.sequences().size() / options.maxBatchSequences();
        prefillTokens += step.prefillTokens();
        busyNanos += System.nanoTime() - start;
    }

    /** A backend that breaks its contract fails the engine rather than one request. */
    private void checkOutput(ScheduledStep step, StepOutput out) {
        List<StepInput.SequenceChunk> chunks = step.input().chunks();
        if (out.logits().size() != chunks.size()) {
            throw new IllegalStateException("backend " + backend.describe() + " returned " + out.logits().size()
                    + " logits entries for " + chunks.size() + " chunks");
        }
        for (int i = 0; i < chunks.size(); i++) {
            float[] l = out.logits().get(i);
            if (chunks.get(i).logits() == StepInput.Logits.LAST && (l == null || l.length < config.vocabSize())) {
                throw new IllegalStateException("backend " + backend.describe() + " returned "
                        + (l == null ? "no logits" : l.length + " logits") + " for chunk " + i + " (sequence "
                        + chunks.get(i).sequenceId() + "), which asked for the last position's " + config.vocabSize());
            }
        }
    }

    private void applyCancellations() {
        Sequence s;
        while ((s = cancellations.poll()) != null) {
            if (s.status != Sequence.Status.FINISHED) finish(s, FinishReason.CANCELLED, null);
        }
    }

    private void cancel(Sequence s) {
        cancellations.add(s);
        LockSupport.unpark(thread);
    }

    /** Ends a sequence: frees its blocks and completes its result. Engine thread only. */
    private void finish(Sequence s, FinishReason reason, String error) {
        scheduler.remove(s);
        finished++;
        GenerationResult r = new GenerationResult(s.requestId(), s.stop.text(), s.outputTokens(), s.prompt, reason,
                s.logprobs == null ? null : List.copyOf(s.logprobs), error);
        completions.add(() -> s.result.complete(r));
    }

    private void deliverResults() {
        for (Runnable r : completions) r.run();
        completions.clear();
    }

    /** Ends every sequence the engine still has: CANCELLED on close, exceptionally on failure. */
    private void endAll(EngineFailedException failed) {
        List<Sequence> all = new ArrayList<>(scheduler.running());
        all.addAll(scheduler.preempted());
        Sequence q;
        while ((q = queue.poll()) != null) all.add(q);
        cancellations.clear();
        for (Sequence s : all) {
            if (failed != null) {
                s.status = Sequence.Status.FINISHED;
                s.result.completeExceptionally(failed);
            } else {
                finish(s, FinishReason.CANCELLED, null);
            }
        }
    }

    private void requireRunning() {
        State st = state;
        if (st == State.RUNNING) return;
        if (st == State.FAILED) throw new IllegalStateException("engine failed and takes no more requests: " + failure, failure);
        throw new IllegalStateException("engine is closed and takes no more requests");
    }

    /** Why a request can never run on this engine, or null when it can. */
    private String problemWith(GenerationRequest r, SamplingParams p) {
        int prompt = r.promptTokenIds().length;
        if (p.maxNewTokens() < 1) return "max_new_tokens must be at least 1, got " + p.maxNewTokens();
        if (prompt + p.maxNewTokens() > contextLength) {
            return "prompt (" + prompt + " tokens) plus max_new_tokens (" + p.maxNewTokens() + ") exceeds the context length "
                    + contextLength + "; shorten the prompt or lower max_new_tokens to at most " + Math.max(0, contextLength - prompt);
        }
        int blocks = kv.blocksFor(prompt + p.maxNewTokens());
        if (blocks > kv.blockCount()) {
            return "prompt (" + prompt + " tokens) plus max_new_tokens (" + p.maxNewTokens() + ") needs " + blocks
                    + " KV blocks but the cache has only " + kv.blockCount() + " of " + kv.blockSize()
                    + " tokens; shorten the request or give the KV cache more memory";
        }
        for (int id : r.promptTokenIds()) {
            if (id < 0 || id >= config.vocabSize()) {
                return "prompt token id " + id + " is outside the model's vocabulary 0.." + (config.vocabSize() - 1);
            }
        }
        return null;
    }

    private void publishMetrics() {
        snapshotPreemptions = scheduler.preemptions();
        snapshot = new EngineMetrics(queue.size(), scheduler.running().size(), scheduler.preempted().size(),
                options.maxBatchSequences(), kv.usedBlockCount(), kv.blockCount(), steps, occupancySum,
                prefillTokens, scheduler.prefixHitTokens(), decodeTokens, finished, busyNanos);
    }

    private static int[] eosIds(Tokenizer tokenizer, LlamaConfig config) {
        return java.util.stream.IntStream.concat(java.util.stream.IntStream.of(tokenizer.eosId()),
                        java.util.Arrays.stream(config.eosTokenIds()))
                .filter(id -> id >= 0).distinct().toArray();
    }
}
