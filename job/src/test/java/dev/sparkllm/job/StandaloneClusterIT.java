package dev.sparkllm.job;

import dev.sparkllm.udf.EngineHolder;
import dev.sparkllm.udf.testing.FakeBinding;
import dev.sparkllm.udf.testing.LocalSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A real standalone cluster on loopback: a Master and a Worker JVM started from the build's classpath (with a
 * SPARK_HOME of symlinks for the Worker to build executor command lines from), two executor JVMs with two task
 * slots each, and the shaded application jar submitted through SparkSubmit as spark-submit does, with many
 * more partitions than slots. Mid-run one executor is killed. Checks: every id exactly once in the output, and
 * exactly one engine creation in each executor's own log.
 */
class StandaloneClusterIT {

    static final int ROWS = 600;

    /** Kept after the run (logs of master, worker, driver and executors) for a look when it fails. */
    Path tmp;
    final List<Process> started = new ArrayList<>();

    @BeforeEach
    void cleanDir() throws IOException {
        tmp = Paths.get("target/cluster-it").toAbsolutePath();
        if (Files.exists(tmp)) GenerateJobTest.deleteTree(tmp);
        Files.createDirectories(tmp);
    }

    @AfterEach
    void stopAll() {
        for (int i = started.size() - 1; i >= 0; i--) {
            Process p = started.get(i);
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    @Test
    void killedExecutorLosesNothingAndEachExecutorOpensOneEngine() throws Exception {
        String appJar = System.getProperty("sparkllm.app.jar");
        Assumptions.assumeTrue(appJar != null && Files.exists(Paths.get(appJar)),
                "the application jar is missing; run through 'mvn verify' (the cluster test runs after package)");
        List<String> sparkCp = new ArrayList<>();
        for (String e : ChildJvm.buildClasspath()) if (!e.contains("sparkllm")) sparkCp.add(e);
        Path sparkHome = sparkHome(tmp, sparkCp);
        // The fake engine travels like any user library would: --jars, into the application's class loader.
        String testJar = System.getProperty("sparkllm.udf.test.jar");
        Assumptions.assumeTrue(testJar != null && Files.exists(Paths.get(testJar)), "udf test jar missing: " + testJar);
        Map<String, String> env = Map.of("SPARK_HOME", sparkHome.toString(), "SPARK_SCALA_VERSION", "2.13");
        int port = freePort();
        String master = "spark://127.0.0.1:" + port;
        Path workDir = Files.createDirectories(tmp.resolve("work"));

        started.add(ChildJvm.start(sparkCp, "org.apache.spark.deploy.master.Master", List.of(),
                List.of("--host", "127.0.0.1", "--port", String.valueOf(port), "--webui-port", String.valueOf(freePort())),
                tmp.resolve("master.log"), env));
        Process worker = ChildJvm.start(sparkCp, "org.apache.spark.deploy.worker.Worker", List.of(),
                List.of("--host", "127.0.0.1", "--cores", "4", "--memory", "3g", "--work-dir", workDir.toString(),
                        "--webui-port", String.valueOf(freePort()), master), tmp.resolve("worker.log"), env);
        started.add(worker);
        waitForLog(tmp.resolve("worker.log"), "Successfully registered with master", 120);

        Path model = LocalSpark.fakeModel(tmp);
        Path input = tmp.resolve("prompts.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) lines.add("{\"id\": \"q" + i + "\", \"prompt\": \"psalm " + i + "\"}");
        Files.write(input, lines);
        Path output = tmp.resolve("out");
        String opens = String.join(" ", ChildJvm.javaOpens());
        List<String> submit = new ArrayList<>(List.of("--master", master, "--deploy-mode", "client",
                "--class", GenerateJob.class.getName(),
                "--jars", testJar,
                "--conf", "spark.executor.cores=2", "--conf", "spark.cores.max=4",
                "--conf", "spark.executor.memory=700m",
                "--conf", "spark.executor.extraJavaOptions=" + opens,
                "--conf", "spark.ui.enabled=false",
                "--conf", "spark.kryo.registrationRequired=true",
                "--conf", GenerateJob.BINDING_CONF + "=" + FakeBinding.class.getName(),
                appJar,
                "--model", model.toString(), "--input", input.toString(), "--output", output.toString(),
                "--id-column", "id", "--partitions", "36", "--chunks", "6", "--seed", "9", "--max-new-tokens", "8",
                "--window", "4", "--engine-option", "step_micros=50000", "--engine-option", "max_batch=8",
                "--progress-seconds", "2"));
        Process driver = ChildJvm.start(sparkCp, "org.apache.spark.deploy.SparkSubmit", List.of(), submit,
                tmp.resolve("driver.log"), env);
        started.add(driver);

        // Kill one executor once the first chunk is committed and work is still going on.
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (DriverCrashResumeTest.committed(output).isEmpty() && driver.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        List<ProcessHandle> executors = worker.descendants()
                .filter(p -> p.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend")).toList();
        assertEquals(2, executors.size(), "two executor JVMs under the worker");
        assertTrue(driver.isAlive(), "the job finished before an executor could be killed:\n" + log("driver.log"));
        executors.get(0).destroyForcibly();

        assertTrue(driver.waitFor(6, TimeUnit.MINUTES), "driver timed out:\n" + log("driver.log"));
        assertEquals(0, driver.exitValue(), log("driver.log"));

        SparkSession spark = LocalSpark.builder(2).getOrCreate();
        Set<String> ids = new HashSet<>();
        for (Row r : spark.read().parquet(output.toString()).select("id").collectAsList()) {
            assertTrue(ids.add(r.getString(0)), "id " + r.getString(0) + " appears twice");
        }
        assertEquals(ROWS, ids.size(), "one row per input id");
        spark.stop();
        Map<?, ?> summary = new com.fasterxml.jackson.databind.ObjectMapper()
                .readValue(output.resolve("_sparkllm_summary.json").toFile(), Map.class);
        assertEquals(0, ((Number) summary.get("missing")).intValue());
        assertTrue(((Number) summary.get("batch_occupancy")).doubleValue() > 0.05,
                "the executors' engines ran several sequences per step: " + summary.get("batch_occupancy"));
        assertTrue(Files.readString(tmp.resolve("driver.log")).contains("sparkllm progress: " + ROWS + "/" + ROWS + " rows (100.0%)"),
                "the last progress line reads N/N:\n" + log("driver.log"));

        Map<String, Integer> creations = engineCreationsPerExecutor(workDir);
        assertTrue(creations.size() >= 3, "two executors plus the replacement of the killed one: " + creations);
        assertEquals(1, creations.get("0"), "executor 0: " + creations);
        assertEquals(1, creations.get("1"), "executor 1: " + creations);
        for (var e : creations.entrySet()) assertTrue(e.getValue() <= 1, "executor " + e.getKey() + ": " + creations);
        System.out.println("standalone cluster: engine creations per executor " + creations);
    }

    /** Executor id to the number of engine-creation lines in that executor's stderr. */
    static Map<String, Integer> engineCreationsPerExecutor(Path workDir) throws IOException {
        Map<String, Integer> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(workDir)) {
            for (Path stderr : s.filter(p -> p.getFileName().toString().equals("stderr")).toList()) {
                String exec = stderr.getParent().getFileName().toString();
                int n = (int) Files.readAllLines(stderr).stream().filter(l -> l.contains(EngineHolder.CREATED_LOG_PREFIX)).count();
                out.put(exec, n);
            }
        }
        return out;
    }

    /** A SPARK_HOME the Worker accepts: jars/ with links to the build's Spark jars, and a RELEASE file. */
    static Path sparkHome(Path tmp, List<String> sparkCp) throws IOException {
        Path home = Files.createDirectories(tmp.resolve("spark-home"));
        Path jars = Files.createDirectories(home.resolve("jars"));
        for (String e : sparkCp) {
            Path jar = Paths.get(e);
            if (e.endsWith(".jar") && !Files.exists(jars.resolve(jar.getFileName()))) {
                Files.createSymbolicLink(jars.resolve(jar.getFileName()), jar);
            }
        }
        Files.writeString(home.resolve("RELEASE"), "Spark (symlinked from the Maven build for sparkllm tests)\n");
        return home;
    }

    String log(String name) throws IOException {
        return tail(tmp.resolve(name));
    }

    /** The last 20,000 characters of a log file, for failure messages (shared with the other cluster tests). */
    static String tail(Path p) throws IOException {
        if (!Files.exists(p)) return "(no " + p.getFileName() + ")";
        String s = Files.readString(p);
        return s.length() > 20000 ? s.substring(s.length() - 20000) : s;
    }

    static void waitForLog(Path log, String text, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains(text)) return;
            Thread.sleep(200);
        }
        fail("'" + text + "' did not appear in " + log + ":\n" + tail(log));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
