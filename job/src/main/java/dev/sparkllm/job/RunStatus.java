package dev.sparkllm.job;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a command-line run stands, for the one line a user needs when they stop it (Ctrl-C, SIGTERM): what is
 * committed and how to resume. On such a stop the interrupt handler runs before Spark's own shutdown, prints that
 * line, and silences the logs and stack traces of the jobs that the shutdown then cancels.
 */
final class RunStatus {

    /** Runs before Spark stops its context (priority 50), so nothing of the shutdown reaches the console. */
    private static final int PRIORITY = 100;

    private static volatile String output;
    private static volatile long inputRows;
    private static volatile long toGenerate;
    private static volatile ChunkedOutput out;
    /** This run's chunks that were not committed when it started, with the rows each generates. */
    private static volatile Map<Integer, Long> newChunks = Map.of();
    private static final Map<Integer, Long> done = new ConcurrentHashMap<>();
    private static volatile boolean finished;
    private static volatile boolean interrupted;

    private RunStatus() {
    }

    static void started(ChunkedOutput o, String name, long rows, long generate, Map<Integer, Long> uncommitted) {
        inputRows = rows;
        toGenerate = generate;
        out = o;
        newChunks = Map.copyOf(uncommitted);
        done.clear();
        output = name;
    }

    static void chunkDone(int chunk, long rowsGenerated) {
        done.put(chunk, rowsGenerated);
    }

    static void finished() {
        finished = true;
    }

    static boolean interrupted() {
        return interrupted;
    }

    /** The JVM is shutting down after an interrupt: wait for it instead of racing the shutdown with more output. */
    static void awaitExit() {
        while (true) {
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                // keep waiting: the shutdown ends the JVM
            }
        }
    }

    /**
     * Handles SIGINT and SIGTERM before the JVM starts shutting down (the moment shutdown starts, Spark's threads
     * begin failing tasks and logging them), then exits as the signal would have. Where the signals cannot be
     * handled (ignored by the parent, as for background jobs), a shutdown hook that runs before Spark's own does
     * the same, as early as it can.
     */
    static void installInterruptHandler() {
        for (String name : new String[]{"INT", "TERM"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), s -> {
                    if (!finished) onInterrupt();
                    System.exit(128 + s.getNumber());
                });
            } catch (IllegalArgumentException ignoredOrReserved) {
                // the shutdown hook below covers it
            }
        }
        org.apache.spark.util.ShutdownHookManager.addShutdownHook(PRIORITY, new scala.runtime.AbstractFunction0<>() {
            @Override
            public scala.runtime.BoxedUnit apply() {
                if (!finished) onInterrupt();
                return scala.runtime.BoxedUnit.UNIT;
            }
        });
    }

    private static synchronized void onInterrupt() {
        if (interrupted) return;
        interrupted = true;
        PrintStream console = System.out;
        try {
            org.apache.logging.log4j.core.config.Configurator.setAllLevels(
                    org.apache.logging.log4j.LogManager.ROOT_LOGGER_NAME, org.apache.logging.log4j.Level.OFF);
        } catch (LinkageError noLog4jCore) {
            // a classpath without log4j-core (a trimmed one): the loggers stay on, stderr is still silenced below
        }
        System.setErr(new PrintStream(OutputStream.nullOutputStream()));
        console.println(line());
        console.flush();
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
    }

    static String line() {
        String name = output;
        if (name == null) {
            return "sparkllm: interrupted before generation started; nothing was generated. Run the same command again "
                    + "to start.";
        }
        // Chunks whose commit finished, and new chunks already committed though their job has not returned yet.
        Map<Integer, Long> finished = new java.util.HashMap<>(done);
        for (Map.Entry<Integer, Long> e : newChunks.entrySet()) {
            try {
                if (!finished.containsKey(e.getKey()) && out.committed(e.getKey())) finished.put(e.getKey(), e.getValue());
            } catch (java.io.IOException | RuntimeException ignored) {
                // the filesystem may be closing too; count what is known
            }
        }
        long generated = finished.values().stream().mapToLong(Long::longValue).sum();
        long committed = inputRows - toGenerate + generated;
        return String.format(Locale.ROOT, "sparkllm: interrupted; %d of %d input rows have a committed output row in %s "
                + "(%d generated by this run); run the same command again to resume: it generates only the rows "
                + "without one.", committed, inputRows, name, generated);
    }
}
