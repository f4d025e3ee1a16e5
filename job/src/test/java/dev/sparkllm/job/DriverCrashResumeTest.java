package dev.sparkllm.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkllm.udf.testing.FakeBinding;
import dev.sparkllm.udf.testing.LocalSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The driver is killed (SIGKILL) about half-way through a run in its own JVM; the same command run again
 * generates exactly the rows of the chunks that were not committed, and the output holds every id once.
 */
class DriverCrashResumeTest {

    static final int ROWS = 400;
    static final int CHUNKS = 8;

    @TempDir
    Path tmp;

    @Test
    void aRerunAfterADriverCrashGeneratesOnlyTheUncommittedRows() throws Exception {
        List<String> cp = ChildJvm.buildClasspath();
        cp.add(0, Paths.get("target/classes").toAbsolutePath().toString());
        cp.add(Paths.get("../udf/target/test-classes").toAbsolutePath().toString()); // the fake engine
        Path model = LocalSpark.fakeModel(tmp);
        Path input = tmp.resolve("prompts.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) lines.add("{\"prompt\": \"verse " + i + "\"}");
        Files.write(input, lines);
        Path output = tmp.resolve("out");
        List<String> jvm = List.of("-D" + GenerateJob.BINDING_CONF + "=" + FakeBinding.class.getName(),
                "-Dspark.ui.enabled=false");
        List<String> args = List.of("--master", "local[2]", "--model", model.toString(), "--input", input.toString(),
                "--output", output.toString(), "--chunks", String.valueOf(CHUNKS), "--seed", "3",
                "--max-new-tokens", "8", "--window", "4",
                "--engine-option", "step_micros=40000", "--engine-option", "max_batch=8");

        Process first = ChildJvm.start(cp, GenerateJob.class.getName(), jvm, args, tmp.resolve("first.log"), Map.of());
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (committed(output).size() < CHUNKS / 2 && first.isAlive() && System.nanoTime() < deadline) Thread.sleep(100);
        assertTrue(first.isAlive(), "the first run ended before it could be killed:\n" + Files.readString(tmp.resolve("first.log")));
        first.destroyForcibly().waitFor(30, TimeUnit.SECONDS);

        Set<Integer> done = committed(output);
        assertTrue(done.size() < CHUNKS, "some chunks are left for the second run");
        SparkSession spark = LocalSpark.builder(2).getOrCreate();
        long committedRows = 0;
        for (int k : done) committedRows += spark.read().parquet(output.resolve(ChunkedOutput.chunkName(k)).toString()).count();

        Process second = ChildJvm.start(cp, GenerateJob.class.getName(), jvm, args, tmp.resolve("second.log"), Map.of());
        assertTrue(second.waitFor(5, TimeUnit.MINUTES), "second run timed out");
        assertEquals(0, second.exitValue(), Files.readString(tmp.resolve("second.log")));

        Map<?, ?> summary = new ObjectMapper().readValue(output.resolve("_sparkllm_summary.json").toFile(), Map.class);
        assertEquals(ROWS - committedRows, ((Number) summary.get("rows_generated_this_run")).longValue(),
                "the second run generated only the rows of uncommitted chunks (" + done.size() + " of " + CHUNKS
                        + " chunks, " + committedRows + " rows, were committed)");
        List<Row> ids = spark.read().parquet(output.toString()).select("id").collectAsList();
        Set<String> unique = new HashSet<>();
        for (Row r : ids) assertTrue(unique.add(r.getString(0)), "id " + r.getString(0) + " twice");
        assertEquals(ROWS, unique.size());
        spark.stop();
    }

    /**
     * Stopping a command-line run (Ctrl-C's SIGINT or a SIGTERM: both run the JVM's shutdown; the test sends SIGTERM,
     * which a test JVM started in the background cannot have ignored) prints one line saying what is committed and
     * how to resume, and no stack traces.
     */
    @Test
    void anInterruptedRunPrintsOneLineSayingWhatIsCommittedAndHowToResume() throws Exception {
        List<String> cp = ChildJvm.buildClasspath();
        cp.add(0, Paths.get("target/classes").toAbsolutePath().toString());
        cp.add(Paths.get("../udf/target/test-classes").toAbsolutePath().toString());
        Path model = LocalSpark.fakeModel(tmp);
        Path input = tmp.resolve("prompts.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) lines.add("{\"id\": " + i + ", \"prompt\": \"verse " + i + "\"}");
        Files.write(input, lines);
        Path output = tmp.resolve("out");
        List<String> jvm = List.of("-D" + GenerateJob.BINDING_CONF + "=" + FakeBinding.class.getName(),
                "-Dspark.ui.enabled=false");
        List<String> args = List.of("--master", "local[2]", "--model", model.toString(), "--input", input.toString(),
                "--output", output.toString(), "--chunks", String.valueOf(CHUNKS), "--max-new-tokens", "8",
                "--window", "4", "--engine-option", "step_micros=40000", "--engine-option", "max_batch=8");
        Path log = tmp.resolve("interrupted.log");
        Process run = ChildJvm.start(cp, GenerateJob.class.getName(), jvm, args, log, Map.of());
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (committed(output).isEmpty() && run.isAlive() && System.nanoTime() < deadline) Thread.sleep(100);
        assertTrue(run.isAlive(), "the run ended before it could be interrupted:\n" + Files.readString(log));
        long before = Files.size(log);
        run.destroy(); // SIGTERM
        assertTrue(run.waitFor(2, TimeUnit.MINUTES), "the interrupted run did not stop");
        byte[] all = Files.readAllBytes(log);
        String after = new String(all, (int) before, all.length - (int) before, java.nio.charset.StandardCharsets.UTF_8);
        List<String> printed = after.lines().filter(l -> !l.isBlank() && !l.startsWith("sparkllm progress:")
                && !l.contains(" INFO ")).toList();
        assertEquals(1, printed.size(), "one line after the interrupt, got:\n" + after + "\nwhole log:\n"
                + new String(all, java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(printed.get(0).matches("sparkllm: interrupted; \\d+ of " + ROWS + " input rows have a committed output "
                + "row in .*; run the same command again to resume: it generates only the rows without one\\."), printed.get(0));
        assertFalse(after.contains("Exception"), after);
        assertNotEquals(0, run.exitValue());
    }

    static Set<Integer> committed(Path output) throws Exception {
        Set<Integer> done = new HashSet<>();
        if (!Files.isDirectory(output)) return done;
        try (Stream<Path> s = Files.list(output)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith("chunk=") && Files.exists(p.resolve("_SUCCESS"))) done.add(Integer.parseInt(n.substring(6)));
            }
        }
        return done;
    }
}
