package dev.sparkllm.engine.core;

import dev.sparkllm.engine.backend.StepInput;
import dev.sparkllm.engine.backend.StepInput.Logits;
import dev.sparkllm.engine.backend.StepInput.SequenceChunk;
import dev.sparkllm.engine.kv.PagedKvCache;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.function.Consumer;

/**
 * Decides what each engine step computes (continuous batching, vLLM V1 style). No prefill and decode phases:
 * every sequence just has tokens not yet computed. Each step, within a token budget and the batch's slots:
 * <ol>
 *   <li>running sequences that decode get one token each (oldest first);</li>
 *   <li>running sequences with a partly computed prompt get their next chunk;</li>
 *   <li>new requests are admitted, preempted sequences first, while blocks, slots and budget allow.</li>
 * </ol>
 * When a running sequence needs a block and none is free, the most recently admitted sequence not yet
 * scheduled in this step is preempted: its blocks are freed and it is recomputed later from its prompt and
 * generated tokens. Admission never preempts. Not thread-safe: the engine thread owns it.
 */
final class Scheduler {

    private final EngineOptions options;
    private final PagedKvCache kv;
    private final BlockingQueue<Sequence> queue;           // submitted, never admitted (bounded)
    private final Deque<Sequence> preempted = new ArrayDeque<>();
    private final List<Sequence> running = new ArrayList<>(); // in admission order
    private final Consumer<Sequence> onCancelled;
    private long admissions;
    private long step;
    private long prefixHitTokens;
    private long preemptions;

    Scheduler(EngineOptions options, PagedKvCache kv, BlockingQueue<Sequence> queue, Consumer<Sequence> onCancelled) {
        this.options = options;
        this.kv = kv;
        this.queue = queue;
        this.onCancelled = onCancelled;
    }

    List<Sequence> running() { return running; }

    Deque<Sequence> preempted() { return preempted; }

    long prefixHitTokens() { return prefixHitTokens; }

    long preemptions() { return preemptions; }

    boolean hasWork() { return !running.isEmpty() || !preempted.isEmpty() || !queue.isEmpty(); }

    ScheduledStep schedule() {
        step++;
        List<Sequence> scheduled = new ArrayList<>();
        List<SequenceChunk> chunks = new ArrayList<>();
        int budget = options.maxStepTokens();
        int prefill = 0;
        int decode = 0;
        // Decodes first, then partial prefills, each oldest first; the list is a snapshot because
        // preemption removes entries from running.
        List<Sequence> order = new ArrayList<>(running.size());
        for (Sequence s : running) if (s.isDecoding()) order.add(s);
        for (Sequence s : running) if (!s.isDecoding()) order.add(s);
        for (Sequence s : order) {
            if (budget == 0) break;
            if (s.status != Sequence.Status.RUNNING) continue; // preempted by an earlier sequence this step
            int n = Math.min(s.uncomputed(), s.isDecoding() ? 1 : Math.min(options.prefillChunkTokens(), budget));
            if (!growOrPreempt(s, s.computed + n)) continue;
            chunks.add(chunk(s, n));
            scheduled.add(s);
            budget -= n;
            if (s.isDecoding()) decode += n; else prefill += n;
        }
        while (budget > 0 && running.size() < options.maxBatchSequences()) {
            Sequence s = nextWaiting();
            if (s == null) break;
            int cached = kv.cachedPrefixTokens(s.blocks, s.tokens, s.length);
            int n = Math.min(s.length - cached, Math.min(options.prefillChunkTokens(), budget));
            if (!kv.admit(s.blocks, s.tokens, cached, n)) break;
            takeWaiting(s);
            s.status = Sequence.Status.RUNNING;
            s.admissionOrder = ++admissions;
            s.computed = cached;
            prefixHitTokens += cached;
            running.add(s);
            chunks.add(chunk(s, n));
            scheduled.add(s);
            budget -= n;
            prefill += n;
        }
        return new ScheduledStep(scheduled, new StepInput(chunks), prefill, decode);
    }

    /** Removes a finished or cancelled sequence from wherever it is and frees its blocks. */
    void remove(Sequence s) {
        switch (s.status) {
            case RUNNING -> running.remove(s);
            case PREEMPTED -> preempted.remove(s);
            case QUEUED -> queue.remove(s);
            case FINISHED -> { }
        }
        kv.free(s.blocks);
        s.status = Sequence.Status.FINISHED;
    }

    /** Records that the step computed its chunks, making newly full blocks shareable. */
    void markComputed(ScheduledStep done) {
        List<SequenceChunk> chunks = done.input().chunks();
        for (int i = 0; i < chunks.size(); i++) {
            Sequence s = done.sequences().get(i);
            s.computed = chunks.get(i).endPosition();
            kv.registerComputed(s.blocks, s.tokens, s.computed);
        }
    }

    private boolean growOrPreempt(Sequence s, int tokens) {
        while (!kv.grow(s.blocks, tokens)) {
            Sequence victim = newestUnscheduled();
            if (victim == null) victim = s;
            preempt(victim);
            if (victim == s) return false;
        }
        s.scheduledInStep = step;
        return true;
    }

    private Sequence newestUnscheduled() {
        for (int i = running.size() - 1; i >= 0; i--) {
            Sequence r = running.get(i);
            if (r.scheduledInStep != step) return r;
        }
        return null;
    }

    private void preempt(Sequence s) {
        running.remove(s);
        kv.free(s.blocks);
        s.computed = 0;
        s.status = Sequence.Status.PREEMPTED;
        preempted.addFirst(s);
        preemptions++;
    }

    /** The next sequence to admit (preempted ones first), skipping cancelled ones; not taken yet. */
    private Sequence nextWaiting() {
        while (true) {
            Sequence s = preempted.isEmpty() ? queue.peek() : preempted.peekFirst();
            if (s == null || !s.cancelRequested) return s;
            onCancelled.accept(s);
        }
    }

    private void takeWaiting(Sequence s) {
        if (s.status == Sequence.Status.PREEMPTED) preempted.removeFirst(); else queue.poll();
    }

    private SequenceChunk chunk(Sequence s, int n) {
        s.scheduledInStep = step;
        int[] ids = Arrays.copyOfRange(s.tokens, s.computed, s.computed + n);
        Logits logits = s.computed + n == s.length ? Logits.LAST : Logits.NONE;
        return new SequenceChunk(s.id, ids, s.computed, s.blocks.toArray(), logits);
    }
}
