package dev.sparkllm.notebook.kernel;

import jdk.jshell.DeclarationSnippet;
import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.UnresolvedReferenceException;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Evaluates notebook cells with JShell: a cell is split into snippets (statements, declarations, expressions),
 * each is compiled and run in this JVM, and the value of a final expression is handed back as a live object.
 *
 * <p>Not thread-safe: the kernel evaluates one cell at a time.
 */
public final class CellEvaluator implements AutoCloseable {

    /** Imports every cell can use without writing them: jshell's own defaults, and display(). */
    static final List<String> DEFAULT_IMPORTS = List.of(
            "import java.io.*;",
            "import java.math.*;",
            "import java.net.*;",
            "import java.nio.file.*;",
            "import java.util.*;",
            "import java.util.concurrent.*;",
            "import java.util.function.*;",
            "import java.util.prefs.*;",
            "import java.util.regex.*;",
            "import java.util.stream.*;",
            "import static org.dflib.jjava.jupyter.kernel.BaseNotebookStatics.*;");

    /** Snippet kinds whose value a cell shows when they come last: `x`, `f(x)`, `a + b`; not `int x = 1;`. */
    private static final Set<Snippet.SubKind> SHOWN_VALUES =
            Set.of(Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND, Snippet.SubKind.VAR_VALUE_SUBKIND);

    private final InProcessExecutionControl.Provider provider = new InProcessExecutionControl.Provider();
    private final JShell shell;
    private final SourceCodeAnalysis analysis;

    /**
     * @param classPath entries (jars, class directories) the cells compile against; they must also be on this
     *                  JVM's class path, since snippets load classes through the system class loader
     */
    public CellEvaluator(List<String> classPath) {
        this.shell = JShell.builder()
                .executionEngine(provider, null)
                .compilerOptions("-Xlint:none")
                .build();
        for (String entry : classPath) {
            if (!entry.isBlank()) shell.addToClasspath(entry);
        }
        this.analysis = shell.sourceCodeAnalysis();
        for (String imp : DEFAULT_IMPORTS) eval(imp);
    }

    /** A shell compiling against this JVM's own class path. */
    public static CellEvaluator forThisJvm() {
        String cp = System.getProperty("java.class.path", "");
        return new CellEvaluator(List.of(cp.split(File.pathSeparator)));
    }

    /**
     * Runs a cell.
     *
     * @return the value of the cell's last snippet when that is an expression with a value, else null
     * @throws CellCompileException when a snippet does not compile (snippets before it have run)
     * @throws CellFailedException  when a snippet throws (snippets before it have run)
     */
    public Object eval(String cell) {
        Object value = null;
        SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(cell);
        while (info.completeness().isComplete()) {
            value = evalSnippet(info.source());
            info = analysis.analyzeCompletion(info.remaining());
        }
        if (info.completeness() != SourceCodeAnalysis.Completeness.EMPTY) {
            throw new CellCompileException("incomplete code at the end of the cell (a missing ';', ')' or '}'?):\n"
                    + info.remaining().strip());
        }
        return value;
    }

    private Object evalSnippet(String source) {
        List<SnippetEvent> events = shell.eval(source);
        Object value = provider.control().takeLastValue();
        Throwable failure = provider.control().takeLastFailure();
        Object shown = null;
        for (SnippetEvent event : events) {
            if (event.causeSnippet() != null) continue; // a dependent snippet updated as a side effect
            Snippet snippet = event.snippet();
            JShellException thrown = event.exception();
            if (thrown instanceof UnresolvedReferenceException unresolved) {
                throw new CellCompileException(source.strip() + "\n"
                        + "uses " + describe(unresolved.getSnippet()) + ", which is not defined yet: "
                        + "run the cell that defines it first");
            }
            if (thrown != null) {
                throw new CellFailedException(failure != null ? failure : evalFailure(thrown));
            }
            if (event.status() == Snippet.Status.REJECTED) {
                throw new CellCompileException(compileErrors(snippet));
            }
            if (snippet instanceof DeclarationSnippet declared) {
                // JShell accepts a declaration that names an unknown type or method, hoping for a later definition;
                // in a notebook that is nearly always a missing import, and the first use would fail far away.
                List<String> missing = shell.unresolvedDependencies(declared).collect(Collectors.toList());
                if (!missing.isEmpty()) {
                    throw new CellCompileException("'" + declared.name() + "' uses " + String.join(", ", missing)
                            + ", which is not defined: add the import (or define it) and run the cell again");
                }
            }
            if (SHOWN_VALUES.contains(snippet.subKind()) && !"void".equals(typeName(snippet))) {
                shown = value;
            }
        }
        return shown;
    }

    private String compileErrors(Snippet snippet) {
        String source = snippet.source();
        List<String> lines = new ArrayList<>();
        shell.diagnostics(snippet).filter(Diag::isError).forEach(d -> {
            int at = (int) Math.max(0, Math.min(d.getPosition(), source.length()));
            int lineStart = source.lastIndexOf('\n', at - 1) + 1;
            int lineEnd = source.indexOf('\n', at);
            String line = source.substring(lineStart, lineEnd < 0 ? source.length() : lineEnd);
            // JShell wraps snippets in a nameless class; "location: class " only confuses.
            lines.add(d.getMessage(Locale.ROOT).replaceAll("\\n\\s*location: class\\s*$", ""));
            lines.add("    " + line);
            lines.add("    " + " ".repeat(at - lineStart) + "^");
        });
        if (lines.isEmpty()) lines.add("the snippet was rejected:\n    " + source.strip());
        return String.join("\n", lines);
    }

    private static RuntimeException evalFailure(JShellException e) {
        // Only reached when the snippet failed outside our control's invoke (e.g. in a static initialiser):
        // JShell's copy keeps the class name and message.
        if (e instanceof EvalException ee) {
            return new IllegalStateException(ee.getExceptionClassName() + ": " + ee.getMessage(), ee);
        }
        return new IllegalStateException(e.getMessage(), e);
    }

    private static String typeName(Snippet snippet) {
        return snippet instanceof jdk.jshell.VarSnippet v ? v.typeName()
                : snippet instanceof jdk.jshell.ExpressionSnippet x ? x.typeName() : "";
    }

    private static String describe(Snippet s) {
        return s instanceof DeclarationSnippet d ? "'" + d.name() + "'" : "'" + s.source().strip() + "'";
    }

    /** Completion candidates at {@code cursor}: the replacements and where they start (anchor[0]). */
    public List<String> complete(String code, int cursor, int[] anchor) {
        return analysis.completionSuggestions(code, cursor, anchor).stream()
                .filter(SourceCodeAnalysis.Suggestion::matchesType)
                .map(SourceCodeAnalysis.Suggestion::continuation)
                .distinct()
                .collect(Collectors.toList());
    }

    /** Signatures and Javadoc of what is at {@code cursor}, or an empty string. */
    public String documentation(String code, int cursor, boolean javadoc) {
        return analysis.documentation(code, cursor, javadoc).stream()
                .map(d -> javadoc && d.javadoc() != null ? d.signature() + "\n" + d.javadoc() : d.signature())
                .collect(Collectors.joining("\n\n"));
    }

    /** Whether {@code code} is a complete cell, for frontends that decide whether Enter runs it. */
    public SourceCodeAnalysis.Completeness completeness(String code) {
        SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(code);
        while (info.completeness().isComplete() && !info.remaining().isBlank()) {
            info = analysis.analyzeCompletion(info.remaining());
        }
        return info.completeness();
    }

    /** Interrupts the running cell. */
    public void interrupt() {
        shell.stop();
    }

    @Override
    public void close() {
        shell.close();
    }
}
