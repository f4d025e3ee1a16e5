package dev.sparkllm.notebook.kernel;

import jdk.jshell.SourceCodeAnalysis;
import org.dflib.jjava.jupyter.channels.ShellReplyEnvironment;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.BaseKernelBuilder;
import org.dflib.jjava.jupyter.kernel.LanguageInfo;
import org.dflib.jjava.jupyter.kernel.ReplacementOptions;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The Jupyter kernel: jjava-jupyter speaks the protocol (sockets, messages, display data); this class answers
 * execute, complete, inspect and is-complete requests with a {@link CellEvaluator}.
 */
public final class JShellKernel extends BaseKernel {

    /** Packages of the machinery between Jupyter and the user's code; hidden from error tracebacks. */
    private static final String MACHINERY = "(jdk\\.internal\\.reflect|java\\.lang\\.reflect|jdk\\.jshell|dev\\.sparkllm\\.notebook\\.kernel|org\\.dflib\\.jjava)\\.";
    private static final Pattern MACHINERY_FRAME = Pattern.compile("^\\s+at ([\\w.]+/)?" + MACHINERY + ".*");
    private static final Pattern MACHINERY_CLASS = Pattern.compile("^" + MACHINERY + ".*");

    private final CellEvaluator cells;

    private JShellKernel(Builder b, CellEvaluator cells) {
        super(b.kernelName(), b.kernelVersion(),
                new LanguageInfo("java", Runtime.version().toString(), "text/x-java-source", ".jshell", "java", "java", null),
                List.of(), null, b.io(), b.comms(), b.renderer(), null, b.magics(), false, b.errorStyler());
        this.cells = cells;
    }

    static boolean isMachinery(String className) {
        return MACHINERY_CLASS.matcher(className).matches();
    }

    public static Builder builder(CellEvaluator cells) {
        return new Builder(cells);
    }

    @Override
    public void onStartup() {
        super.onStartup();
        installExtension(new NotebookDisplays());
    }

    @Override
    public Object evalRaw(String source) {
        try {
            Object value = cells.eval(source);
            // printf and append return the stream itself; showing "java.io.PrintStream@1b2c3d" is never wanted.
            return value == System.out || value == System.err ? null : value;
        } finally {
            System.out.flush();
            System.err.flush();
        }
    }

    /** Cells print through line-buffered streams, so a printf line reaches the notebook as one piece. */
    @Override
    protected void replaceOutputStreams(ShellReplyEnvironment env) {
        super.replaceOutputStreams(env);
        System.setOut(new PrintStream(new LineBufferedOutputStream(io.out), false, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new LineBufferedOutputStream(io.err), false, StandardCharsets.UTF_8));
    }

    @Override
    public DisplayData inspect(String code, int at, boolean extraDetail) {
        String doc = cells.documentation(code, at, extraDetail);
        return doc.isEmpty() ? null : new DisplayData(doc);
    }

    @Override
    public ReplacementOptions complete(String code, int at) {
        int[] anchor = new int[1];
        List<String> options = cells.complete(code, at, anchor);
        return new ReplacementOptions(options, anchor[0], at);
    }

    @Override
    public String isComplete(String code) {
        SourceCodeAnalysis.Completeness c = cells.completeness(code);
        switch (c) {
            case COMPLETE:
            case COMPLETE_WITH_SEMI:
            case EMPTY:
                return IS_COMPLETE_YES;
            case UNKNOWN:
                return IS_COMPLETE_BAD;
            case CONSIDERED_INCOMPLETE:
            case DEFINITELY_INCOMPLETE:
                return "    "; // incomplete: the indent for the next line
            default:
                return IS_COMPLETE_MAYBE;
        }
    }

    @Override
    public void interrupt() {
        cells.interrupt();
        SparkJobs.cancelAll();
    }

    @Override
    public void onShutdown(boolean isRestarting) {
        super.onShutdown(isRestarting);
        cells.close();
    }

    /**
     * A compile error shows the compiler's messages only; a failure shows the user's exception with its causes,
     * minus the kernel's own frames.
     */
    @Override
    public List<String> formatError(Throwable e) {
        List<String> lines = new ArrayList<>();
        if (e instanceof CellCompileException) {
            lines.add(errorStyler.secondary("cell does not compile:"));
            lines.addAll(List.of(e.getMessage().split("\\R")));
            return lines;
        }
        Throwable shown = e instanceof CellFailedException && e.getCause() != null ? e.getCause() : e;
        StringWriter trace = new StringWriter();
        shown.printStackTrace(new PrintWriter(trace));
        for (String line : trace.toString().split("\\R")) {
            if (!MACHINERY_FRAME.matcher(line).matches()) lines.add(errorStyler.secondary(line));
        }
        return lines;
    }

    /** jjava-jupyter builds the protocol-side parts (IO streams, comms, renderer); we add the evaluator. */
    public static final class Builder extends BaseKernelBuilder<Builder, JShellKernel> {
        private final CellEvaluator cells;

        private Builder(CellEvaluator cells) {
            this.cells = cells;
        }

        @Override
        public JShellKernel build() {
            return new JShellKernel(this, cells);
        }

        String kernelName() { return buildName(); }
        String kernelVersion() { return buildVersion(); }
        org.dflib.jjava.jupyter.kernel.JupyterIO io() { return buildJupyterIO(buildJupyterIOEncoding()); }
        org.dflib.jjava.jupyter.kernel.comm.CommManager comms() { return buildCommManager(); }
        org.dflib.jjava.jupyter.kernel.display.Renderer renderer() { return buildRenderer(); }
        org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry magics() { return buildMagicsRegistry(); }
        org.dflib.jjava.jupyter.kernel.util.StringStyler errorStyler() { return buildErrorStyler(); }
    }
}
