package dev.sparkllm.udf;

import dev.sparkllm.engine.api.EngineFailedException;
import dev.sparkllm.engine.api.FinishReason;
import dev.sparkllm.engine.api.GenerationResult;
import dev.sparkllm.engine.api.RequestHandle;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;

/**
 * One task's rows streamed through the shared engine: up to {@code window} requests in flight, results emitted
 * in input order. While this task waits for its oldest row, the engine keeps working on the others (and on
 * other tasks' rows), so the batch stays full. Row problems become error rows; an engine failure retires the
 * engine and fails the task. A killed task cancels what it has in flight.
 */
final class WindowedGeneration implements Iterator<Row> {

    /** How often a waiting task checks whether Spark killed it. */
    private static final long KILL_CHECK_MILLIS = 200;

    private final Iterator<Row> input;
    private final InputRowReader reader;
    private final GenerationSettings settings;
    private final EngineHolder.Entry engine;
    private final RowRequestFactory requests;
    private final BiFunction<Row, Row, Row> combine;
    private final String idPrefix;
    private final Deque<Pending> pending = new ArrayDeque<>();
    private long position;
    private boolean reported;

    /** A row on its way: either a submitted request or an error decided before submission. */
    private record Pending(Row source, RequestHandle handle, RowRequestFactory.PreparedRequest prepared, Row errorRow) {
    }

    /**
     * @param combine builds the output row from (input row, result struct)
     * @param idPrefix prefix of position-based ids for rows without an id column value
     */
    WindowedGeneration(Iterator<Row> input, InputRowReader reader, GenerationSettings settings,
                       BiFunction<Row, Row, Row> combine, String idPrefix) {
        this.input = input;
        this.reader = reader;
        this.settings = settings;
        this.combine = combine;
        this.idPrefix = idPrefix;
        this.engine = EngineHolder.get(settings);
        this.requests = engine.requests(settings);
        TaskContext task = TaskContext.get();
        if (task != null) task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> cancelAll());
    }

    @Override
    public boolean hasNext() {
        fill();
        return !pending.isEmpty();
    }

    @Override
    public Row next() {
        fill();
        Pending p = pending.poll();
        if (p == null) throw new NoSuchElementException();
        Row result = p.errorRow() != null ? p.errorRow() : await(p);
        if (pending.isEmpty() && !input.hasNext()) finished();
        return combine.apply(p.source(), result);
    }

    /** The task's last row is out: the driver gets this executor's counters now, not at the next heartbeat. */
    private void finished() {
        if (reported) return;
        reported = true;
        SparkLlmPlugin.reportNow();
    }

    private void fill() {
        while (pending.size() < settings.window() && input.hasNext()) {
            Row row = input.next();
            String id = reader.id(row, idPrefix + position++);
            RowRequestFactory.PreparedRequest prepared;
            try {
                prepared = requests.prepare(reader.read(row, id));
            } catch (RowInputException e) {
                pending.add(new Pending(row, null, null, GenerationOutput.error(settings, null, e.getMessage(), null)));
                ExecutorProgress.rowDone(false, 0, 0);
                continue;
            }
            try {
                RequestHandle handle = engine.engine().submit(prepared.request(), null);
                // Progress counts a row when its result is complete, not when its turn to be emitted comes.
                handle.result().thenAccept(r -> {
                    if (r.finishReason() != FinishReason.CANCELLED) {
                        ExecutorProgress.rowDone(r.finishReason() != FinishReason.ERROR, r.promptTokenIds().length,
                                r.tokenIds().length);
                    }
                });
                pending.add(new Pending(row, handle, prepared, null));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("task interrupted while submitting row " + id, e);
            } catch (IllegalStateException e) {
                throw engineFailed("the engine refused row " + id, e);
            }
        }
    }

    private Row await(Pending p) {
        TaskContext task = TaskContext.get();
        GenerationResult r;
        while (true) {
            try {
                r = p.handle().result().get(KILL_CHECK_MILLIS, TimeUnit.MILLISECONDS);
                break;
            } catch (TimeoutException e) {
                if (task != null) task.killTaskIfInterrupted();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (task != null) task.killTaskIfInterrupted();
                throw new IllegalStateException("task interrupted waiting for row " + p.handle().id(), e);
            } catch (ExecutionException e) {
                throw engineFailed("the engine failed while generating row " + p.handle().id(), e.getCause());
            }
        }
        if (r.finishReason() == FinishReason.CANCELLED) {
            // Nobody cancelled it but the engine (closing): not the row's fault, so not an error row.
            throw new EngineFailedException("row " + p.handle().id() + " was cancelled by the engine (executor "
                    + "stopping?); the task fails so Spark runs it again", null);
        }
        return GenerationOutput.of(settings, r, p.prepared().truncated(), p.prepared().parameters());
    }

    private EngineFailedException engineFailed(String message, Throwable cause) {
        EngineFailedException e = cause instanceof EngineFailedException efe ? efe : new EngineFailedException(message, cause);
        EngineHolder.retire(engine, e);
        cancelAll();
        return e;
    }

    private void cancelAll() {
        for (Pending p : pending) if (p.handle() != null) p.handle().cancel();
        pending.clear();
    }
}
