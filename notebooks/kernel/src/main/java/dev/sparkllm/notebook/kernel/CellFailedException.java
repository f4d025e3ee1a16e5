package dev.sparkllm.notebook.kernel;

import java.util.Arrays;

/**
 * A cell threw. The cause is the user's own exception object (cells run in this JVM), so its class, message,
 * causes and stack are the real ones. This wrapper carries the cause's stack minus the kernel's machinery, since
 * Jupyter's execute reply lists the wrapper's own stack.
 */
public final class CellFailedException extends RuntimeException {
    public CellFailedException(Throwable cause) {
        super(cause.getClass().getName() + ": " + cause.getMessage(), cause);
        setStackTrace(Arrays.stream(cause.getStackTrace())
                .filter(frame -> !JShellKernel.isMachinery(frame.getClassName()))
                .toArray(StackTraceElement[]::new));
    }
}
