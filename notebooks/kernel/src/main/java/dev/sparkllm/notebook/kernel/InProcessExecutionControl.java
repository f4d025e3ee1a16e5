package dev.sparkllm.notebook.kernel;

import jdk.jshell.execution.DirectExecutionControl;
import jdk.jshell.spi.ExecutionControl;
import jdk.jshell.spi.ExecutionControlProvider;
import jdk.jshell.spi.ExecutionEnv;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs JShell snippets in the kernel's own JVM, on the thread that evaluates the cell.
 *
 * <p>In-process execution is what lets a cell's value stay a live object (a chart, a Dataset) that the kernel
 * renders as PNG or HTML, rather than the string JShell's remote agent would send back. It also means snippets
 * see the kernel's class path (engine, UDFs, Spark) through the system class loader, so Spark and the snippets
 * share one copy of every class.
 */
final class InProcessExecutionControl extends DirectExecutionControl {

    private final AtomicReference<Thread> running = new AtomicReference<>();
    private Object lastValue;
    private Throwable lastFailure;

    @Override
    protected String invoke(Method doIt) throws Exception {
        lastValue = null;
        lastFailure = null;
        running.set(Thread.currentThread());
        try {
            Object value = doIt.invoke(null);
            lastValue = value;
            // JShell only keeps this string for its own listing; the kernel renders lastValue. Calling toString()
            // on a large value (a collected Dataset, a long list) would cost time for nothing.
            return value == null ? "null" : value.getClass().getName();
        } catch (InvocationTargetException e) {
            lastFailure = e.getCause();
            throw e;
        } finally {
            running.set(null);
            // An interrupt that lands after the snippet finished must not fail the next cell.
            Thread.interrupted();
        }
    }

    /** The value the last executed snippet produced, or null; cleared by the call. */
    Object takeLastValue() {
        Object v = lastValue;
        lastValue = null;
        return v;
    }

    /** The exception the last executed snippet threw (the user's own, not JShell's copy), or null; cleared. */
    Throwable takeLastFailure() {
        Throwable t = lastFailure;
        lastFailure = null;
        return t;
    }

    /** Interrupts the running snippet (Jupyter's "interrupt kernel"); code that blocks or polls the flag stops. */
    @Override
    public void stop() {
        Thread t = running.get();
        if (t != null) t.interrupt();
    }

    /** Hands JShell one control per shell and lets the kernel reach it. */
    static final class Provider implements ExecutionControlProvider {
        private final InProcessExecutionControl control = new InProcessExecutionControl();

        InProcessExecutionControl control() { return control; }

        @Override
        public String name() { return "sparkllm-in-process"; }

        @Override
        public ExecutionControl generate(ExecutionEnv env, Map<String, String> parameters) {
            return control;
        }
    }
}
