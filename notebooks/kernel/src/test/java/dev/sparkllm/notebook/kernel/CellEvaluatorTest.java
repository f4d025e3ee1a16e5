package dev.sparkllm.notebook.kernel;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CellEvaluatorTest {

    static CellEvaluator cells;

    @BeforeAll
    static void start() {
        cells = CellEvaluator.forThisJvm();
    }

    @AfterAll
    static void stop() {
        cells.close();
    }

    @Test
    void lastExpressionOfACellIsItsValueAsALiveObject() {
        Object v = cells.eval("var xs = new ArrayList<Integer>();\nxs.add(4);\nxs.add(5);\nxs");
        assertEquals(List.of(4, 5), v);
        assertInstanceOf(java.util.ArrayList.class, v);
        // The same object, not a copy: a second cell sees the mutation made through the first cell's value.
        @SuppressWarnings("unchecked") List<Integer> live = (List<Integer>) v;
        live.add(6);
        assertEquals(3, cells.eval("xs.size()"));
    }

    @Test
    void declarationsStatementsAndVoidCallsShowNothing() {
        assertNull(cells.eval("int declared = 7;"));
        assertNull(cells.eval("declared = declared + 1;"));
        assertNull(cells.eval("System.out.print(\"\");"));
        assertNull(cells.eval("class Local { int n() { return 1; } }"));
        assertEquals(8, cells.eval("declared"));
    }

    @Test
    void definitionsPersistAcrossCells() {
        cells.eval("String twice(String s) { return s + s; }");
        assertEquals("abab", cells.eval("twice(\"ab\")"));
    }

    @Test
    void kernelClassPathIsVisibleToCells() {
        // Classes of the kernel's own class path (here the engine's API) compile and load in cells, and are the
        // very classes the kernel sees, not a second copy in another class loader.
        Object v = cells.eval("dev.sparkllm.engine.api.FinishReason.LENGTH");
        assertSame(dev.sparkllm.engine.api.FinishReason.LENGTH, v);
    }

    @Test
    void compileErrorNamesTheSymbolAndPointsAtIt() {
        CellCompileException e = assertThrows(CellCompileException.class,
                () -> cells.eval("int fine = 1;\nint broken = noSuchVariable + 1;"));
        assertTrue(e.getMessage().contains("noSuchVariable"), e.getMessage());
        String[] lines = e.getMessage().split("\n");
        int source = -1;
        for (int i = 0; i < lines.length; i++) if (lines[i].contains("int broken")) source = i;
        assertTrue(source >= 0 && source + 1 < lines.length, e.getMessage());
        // The caret sits under the first character of the unknown name.
        assertEquals(lines[source].indexOf("noSuchVariable"), lines[source + 1].indexOf('^'), e.getMessage());
        assertEquals(1, cells.eval("fine"), "snippets before the broken one still ran");
    }

    @Test
    void declarationNamingAnUnknownTypeFailsAtOnce() {
        CellCompileException e = assertThrows(CellCompileException.class,
                () -> cells.eval("long count(Path p) throws NoSuchCheckedThing { return 1; }"));
        assertTrue(e.getMessage().contains("NoSuchCheckedThing"), e.getMessage());
        assertTrue(e.getMessage().contains("'count'"), e.getMessage());
    }

    @Test
    void jshellDefaultImportsAreThere() {
        assertEquals(java.math.BigInteger.TEN, cells.eval("BigInteger.TEN"));
        assertNull(cells.eval("long size(Path p) throws IOException { return Files.size(p); }"));
    }

    @Test
    void incompleteCellIsReportedNotSilentlyDropped() {
        assertThrows(CellCompileException.class, () -> cells.eval("int y = (1 + 2;"));
        assertThrows(CellCompileException.class, () -> cells.eval("if (true) {"));
    }

    @Test
    void runtimeFailureCarriesTheUsersOwnExceptionAndCause() {
        CellFailedException e = assertThrows(CellFailedException.class, () -> cells.eval(
                "void fail() { throw new IllegalStateException(\"outer\", new java.io.IOException(\"inner\")); }\nfail();"));
        IllegalStateException thrown = assertInstanceOf(IllegalStateException.class, e.getCause());
        // The reply's traceback (the wrapper's stack) is the user's code, not the kernel's.
        assertTrue(e.getStackTrace().length > 0);
        for (StackTraceElement frame : e.getStackTrace()) {
            assertTrue(!frame.getClassName().startsWith("dev.sparkllm.notebook.kernel"), frame.toString());
        }
        assertEquals("outer", thrown.getMessage());
        assertEquals("inner", assertInstanceOf(java.io.IOException.class, thrown.getCause()).getMessage());
    }

    @Test
    void interruptStopsABlockedCell() throws Exception {
        CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> {
            try {
                cells.eval("Thread.sleep(600_000);");
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        // The cell may not have started when the first interrupt arrives; keep asking until it ends.
        Throwable t = null;
        for (int i = 0; i < 600 && t == null; i++) {
            cells.interrupt();
            try {
                t = outcome.get(100, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException notYet) {
                // still sleeping
            }
        }
        CellFailedException e = assertInstanceOf(CellFailedException.class, t);
        assertInstanceOf(InterruptedException.class, e.getCause());
        assertEquals(2, cells.eval("1 + 1"), "the next cell runs normally");
    }

    @Test
    void inspectionShowsSignatures() {
        String code = "Math.floorMod(";
        String doc = cells.documentation(code, code.length(), false);
        assertTrue(doc.contains("floorMod(int") && doc.contains("floorMod(long"), doc);
    }

    @Test
    void completenessTellsAFrontendWhetherEnterRunsTheCell() {
        assertEquals(jdk.jshell.SourceCodeAnalysis.Completeness.COMPLETE, cells.completeness("int a = 1;"));
        assertTrue(!cells.completeness("for (int i = 0; i < 3; i++) {").isComplete());
    }

    @Test
    void completionSuggestsMembers() {
        cells.eval("String completeMe = \"x\";");
        int[] anchor = new int[1];
        String code = "completeMe.toUpp";
        List<String> options = cells.complete(code, code.length(), anchor);
        assertTrue(options.contains("toUpperCase("), options.toString());
        assertEquals(code.indexOf("toUpp"), anchor[0]);
    }
}
