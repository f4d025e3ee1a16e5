package dev.sparkllm.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkllm.udf.EngineHolder;
import dev.sparkllm.udf.testing.FakeBinding;
import dev.sparkllm.udf.testing.GpuProbe;
import dev.sparkllm.udf.testing.LocalSpark;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One GPU per executor on a two-GPU standalone worker, without GPUs: a real Master and Worker on loopback (as in
 * {@link StandaloneClusterIT}); the Worker advertises two GPUs ({@code spark.worker.resource.gpu.amount=2}) found
 * by the project's conf/gpu-discovery.sh, which asks a fake nvidia-smi on the Worker's PATH that lists GPUs 0 and
 * 1. Applications ask for one GPU per executor and half a GPU per task, and four cores per executor, so the GPU
 * amount, not the cores, makes it two tasks per GPU.
 *
 * <ul>
 *   <li>A probe application ({@link GpuProbe}) records per task the executor, the task's gpu address and what
 *   {@code ExecutorDevice.resolve("auto")} and {@code resolve("cuda")} return there: the two executors resolve
 *   to cuda:0 and cuda:1, each executor's tasks always to its own device, and at most two tasks run at once on
 *   one GPU (and two do).</li>
 *   <li>The batch job ({@link GenerateJob}, {@code --device cuda}, the fake engine): each executor logs exactly
 *   one engine creation, on its own GPU's device (the device is part of {@link EngineHolder}'s key), the two
 *   on different devices, and every row is in the output once.</li>
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TwoGpuStandaloneIT {

    static final int PROBE_TASKS = 24;
    static final int ROWS = 160;
    static final Pattern CREATED = Pattern.compile(Pattern.quote(EngineHolder.CREATED_LOG_PREFIX)
            + " #\\d+ on executor (\\S+): model .* on device (\\S+) in \\d+ ms");

    /** Kept after the run (logs of master, worker, drivers and executors) for a look when it fails. */
    Path tmp;
    Path workDir;
    String master;
    String appJar;
    String testJar;
    List<String> sparkCp;
    Map<String, String> env;
    final List<Process> started = new ArrayList<>();

    /** Every JVM here lives for seconds: C1 alone starts them faster on CI's two cores. */
    static final List<String> QUICK_JVM = List.of("-XX:TieredStopAtLevel=1");

    @BeforeAll
    void startCluster() throws Exception {
        appJar = System.getProperty("sparkllm.app.jar");
        Assumptions.assumeTrue(appJar != null && Files.exists(Paths.get(appJar)),
                "the application jar is missing; run through 'mvn verify' (the cluster test runs after package)");
        testJar = System.getProperty("sparkllm.udf.test.jar");
        Assumptions.assumeTrue(testJar != null && Files.exists(Paths.get(testJar)), "udf test jar missing: " + testJar);
        Assumptions.assumeTrue(Files.isExecutable(Paths.get("/bin/sh")), "the fake nvidia-smi needs /bin/sh");
        Path repo = Paths.get(System.getProperty("sparkllm.repo.dir", "..")).toAbsolutePath().normalize();
        Path discovery = repo.resolve("conf/gpu-discovery.sh");
        assertTrue(Files.isExecutable(discovery), "missing or not executable: " + discovery);

        tmp = Paths.get("target/two-gpu-it").toAbsolutePath();
        if (Files.exists(tmp)) GenerateJobTest.deleteTree(tmp);
        Files.createDirectories(tmp);
        sparkCp = new ArrayList<>();
        for (String e : ChildJvm.buildClasspath()) if (!e.contains("sparkllm")) sparkCp.add(e);
        Path sparkHome = StandaloneClusterIT.sparkHome(tmp, sparkCp);

        // The node's "GPUs": nvidia-smi answers the discovery script's query with indices 0 and 1.
        Path bin = Files.createDirectories(tmp.resolve("fake-bin"));
        Path smi = bin.resolve("nvidia-smi");
        Files.writeString(smi, "#!/bin/sh\n[ \"$1\" = \"--query-gpu=index\" ] || exit 64\nprintf '0\\n1\\n'\n");
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
        env = new HashMap<>();
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("PATH", bin + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        env.put("CUDA_VISIBLE_DEVICES", null); // the GPUs come from nvidia-smi; addresses are driver indices
        Path workerConf = tmp.resolve("worker.conf");
        Files.writeString(workerConf, "spark.worker.resource.gpu.amount 2\n"
                + "spark.worker.resource.gpu.discoveryScript " + discovery + "\n");

        int port = StandaloneClusterIT.freePort();
        master = "spark://127.0.0.1:" + port;
        workDir = Files.createDirectories(tmp.resolve("work"));
        started.add(ChildJvm.start(sparkCp, "org.apache.spark.deploy.master.Master", QUICK_JVM,
                List.of("--host", "127.0.0.1", "--port", String.valueOf(port),
                        "--webui-port", String.valueOf(StandaloneClusterIT.freePort())),
                tmp.resolve("master.log"), env));
        started.add(ChildJvm.start(sparkCp, "org.apache.spark.deploy.worker.Worker", QUICK_JVM,
                List.of("--host", "127.0.0.1", "--cores", "8", "--memory", "3g", "--work-dir", workDir.toString(),
                        "--properties-file", workerConf.toString(),
                        "--webui-port", String.valueOf(StandaloneClusterIT.freePort()), master),
                tmp.resolve("worker.log"), env));
        StandaloneClusterIT.waitForLog(tmp.resolve("worker.log"), "Successfully registered with master", 120);
    }

    @AfterAll
    void stopAll() {
        for (int i = started.size() - 1; i >= 0; i--) {
            Process p = started.get(i);
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    /** spark-submit's options for an application with one GPU per executor and two tasks per GPU. */
    List<String> gpuSubmit(String mainClass, String primaryJar, String otherJar) {
        return new ArrayList<>(List.of("--master", master, "--deploy-mode", "client",
                "--class", mainClass,
                "--jars", otherJar,
                "--conf", "spark.executor.resource.gpu.amount=1",
                "--conf", "spark.task.resource.gpu.amount=0.5",
                // four cores would allow four tasks; the GPU amount allows two
                "--conf", "spark.executor.cores=4", "--conf", "spark.cores.max=8",
                "--conf", "spark.executor.memory=600m",
                "--conf", "spark.executor.extraJavaOptions=" + String.join(" ", QUICK_JVM) + " "
                        + String.join(" ", ChildJvm.javaOpens()),
                // both executors registered before the first task, so neither takes all the work
                "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
                "--conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=120s",
                "--conf", "spark.ui.enabled=false",
                primaryJar));
    }

    /** Runs spark-submit with these arguments, waits for it, returns the application's work folder. */
    Path submit(List<String> args, String name) throws Exception {
        Set<Path> before = appDirs();
        Process driver = ChildJvm.start(sparkCp, "org.apache.spark.deploy.SparkSubmit", QUICK_JVM, args,
                tmp.resolve(name + "-driver.log"), env);
        started.add(driver);
        assertTrue(driver.waitFor(4, TimeUnit.MINUTES), name + " timed out:\n" + StandaloneClusterIT.tail(tmp.resolve(name + "-driver.log")));
        assertEquals(0, driver.exitValue(), StandaloneClusterIT.tail(tmp.resolve(name + "-driver.log")));
        Set<Path> after = appDirs();
        after.removeAll(before);
        assertEquals(1, after.size(), "one new application folder under " + workDir + ": " + after);
        return after.iterator().next();
    }

    Set<Path> appDirs() throws IOException {
        try (Stream<Path> s = Files.list(workDir)) {
            return new HashSet<>(s.filter(Files::isDirectory).toList());
        }
    }

    @Test
    void eachExecutorsTasksResolveToItsOwnGpu() throws Exception {
        Path out = tmp.resolve("probe.tsv");
        List<String> args = gpuSubmit(GpuProbe.class.getName(), testJar, appJar);
        args.addAll(List.of(out.toString(), String.valueOf(PROBE_TASKS), "300"));
        Path app = submit(args, "probe");

        Map<String, Set<String>> addressesByExecutor = new TreeMap<>();
        Map<String, Set<String>> autoByExecutor = new TreeMap<>();
        Map<String, Set<String>> cudaByExecutor = new TreeMap<>();
        Map<String, Integer> maxConcurrent = new TreeMap<>();
        Set<Integer> partitions = new TreeSet<>();
        List<String> lines = Files.readAllLines(out);
        for (String line : lines) {
            String[] f = line.split("\t");
            assertEquals(7, f.length, line);
            assertTrue(partitions.add(Integer.parseInt(f[0])), "partition reported twice: " + line);
            String exec = f[1];
            assertEquals(1, f[2].split(",").length, "one gpu address per task: " + line);
            assertEquals("-", f[5], "CUDA_VISIBLE_DEVICES is not set on this worker: " + line);
            assertEquals("cuda:" + f[2], f[3], "auto is the task's GPU: " + line);
            assertEquals("cuda:" + f[2], f[4], "cuda is the task's GPU: " + line);
            addressesByExecutor.computeIfAbsent(exec, k -> new TreeSet<>()).add(f[2]);
            autoByExecutor.computeIfAbsent(exec, k -> new TreeSet<>()).add(f[3]);
            cudaByExecutor.computeIfAbsent(exec, k -> new TreeSet<>()).add(f[4]);
            maxConcurrent.merge(exec, Integer.parseInt(f[6]), Math::max);
        }
        System.out.println("two-gpu probe: gpu addresses per executor " + addressesByExecutor
                + ", devices (auto) " + autoByExecutor + ", most tasks at once " + maxConcurrent);
        assertEquals(PROBE_TASKS, partitions.size(), "every task reported once");
        assertEquals(2, autoByExecutor.size(), "two executors ran tasks: " + autoByExecutor);
        for (String exec : autoByExecutor.keySet()) {
            assertEquals(1, addressesByExecutor.get(exec).size(), "executor " + exec + ": " + addressesByExecutor);
            assertEquals(1, autoByExecutor.get(exec).size(), "executor " + exec + ": " + autoByExecutor);
            assertEquals(autoByExecutor.get(exec), cudaByExecutor.get(exec), "executor " + exec);
            assertEquals(2, maxConcurrent.get(exec), "two tasks share executor " + exec + "'s GPU: " + maxConcurrent);
        }
        Set<String> devices = new TreeSet<>();
        autoByExecutor.values().forEach(devices::addAll);
        assertEquals(Set.of("cuda:0", "cuda:1"), devices, "the executors' devices: " + autoByExecutor);

        // What the Worker gave each executor, as the executor logged it, is what its tasks saw.
        Map<String, String> granted = grantedAddresses(app);
        assertEquals(autoByExecutor.keySet(), granted.keySet(), "executors of " + app);
        for (var e : granted.entrySet()) {
            assertEquals(Set.of(e.getValue()), addressesByExecutor.get(e.getKey()), "executor " + e.getKey());
        }
    }

    @Test
    void batchJobOpensOneEnginePerExecutorOnItsOwnGpu() throws Exception {
        Path model = LocalSpark.fakeModel(tmp);
        Path input = tmp.resolve("prompts.jsonl");
        List<String> rows = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) rows.add("{\"id\": \"q" + i + "\", \"prompt\": \"psalm " + i + "\"}");
        Files.write(input, rows);
        Path output = tmp.resolve("out");
        List<String> args = gpuSubmit(GenerateJob.class.getName(), appJar, testJar);
        args.addAll(args.size() - 1, List.of(
                "--conf", "spark.kryo.registrationRequired=true",
                "--conf", GenerateJob.BINDING_CONF + "=" + FakeBinding.class.getName()));
        args.addAll(List.of("--model", model.toString(), "--input", input.toString(), "--output", output.toString(),
                "--id-column", "id", "--partitions", "8", "--chunks", "1", "--seed", "9", "--max-new-tokens", "8",
                "--device", "cuda", "--window", "4", "--engine-option", "step_micros=5000",
                "--engine-option", "max_batch=8", "--progress-seconds", "5", "--show", "0",
                "--output-format", "json"));
        Path app = submit(args, "generate");

        Map<String, List<String>> devicesByExecutor = new TreeMap<>();
        try (Stream<Path> s = Files.walk(app)) {
            for (Path stderr : s.filter(p -> p.getFileName().toString().equals("stderr")).toList()) {
                String exec = stderr.getParent().getFileName().toString();
                List<String> devices = new ArrayList<>();
                for (String line : Files.readAllLines(stderr)) {
                    if (!line.contains(EngineHolder.CREATED_LOG_PREFIX)) continue;
                    Matcher m = CREATED.matcher(line);
                    assertTrue(m.find(), "unexpected engine-creation line: " + line);
                    assertEquals(exec, m.group(1), line);
                    devices.add(m.group(2));
                }
                devicesByExecutor.put(exec, devices);
            }
        }
        System.out.println("two-gpu batch job: engines created per executor, by device " + devicesByExecutor);
        assertEquals(2, devicesByExecutor.size(), "two executors: " + devicesByExecutor);
        Set<String> devices = new TreeSet<>();
        Map<String, String> granted = grantedAddresses(app);
        for (var e : devicesByExecutor.entrySet()) {
            assertEquals(1, e.getValue().size(), "one engine on executor " + e.getKey() + ": " + devicesByExecutor);
            assertEquals("cuda:" + granted.get(e.getKey()), e.getValue().get(0),
                    "executor " + e.getKey() + "'s engine is on the GPU the Worker gave it; granted " + granted);
            devices.add(e.getValue().get(0));
        }
        assertEquals(Set.of("cuda:0", "cuda:1"), devices, "one engine per GPU: " + devicesByExecutor);

        // JSON output, read without starting a Spark session in this JVM (seconds of CI time saved)
        Set<String> ids = new HashSet<>();
        ObjectMapper json = new ObjectMapper();
        try (Stream<Path> s = Files.walk(output)) {
            for (Path part : s.filter(p -> p.getParent().getFileName().toString().startsWith("chunk=")
                    && p.getFileName().toString().startsWith("part-")).toList()) {
                for (String line : Files.readAllLines(part)) {
                    JsonNode row = json.readTree(line);
                    assertTrue(ids.add(row.get("id").asText()), "id " + row.get("id") + " appears twice");
                    assertTrue(row.path("error").isMissingNode() || row.get("error").isNull(), line);
                }
            }
        }
        assertEquals(ROWS, ids.size(), "one row per input id");
    }

    static final Pattern GRANTED = Pattern.compile("gpu -> \\[name: gpu, addresses: ([^\\]]*)\\]");

    /**
     * Executor id to the gpu address the Worker gave it, from the resource summary each executor logs at start
     * ("gpu -> [name: gpu, addresses: 1]").
     */
    static Map<String, String> grantedAddresses(Path app) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(app)) {
            for (Path stderr : s.filter(p -> p.getFileName().toString().equals("stderr")).toList()) {
                Matcher m = GRANTED.matcher(Files.readString(stderr));
                assertTrue(m.find(), "no gpu resource line in " + stderr);
                out.put(stderr.getParent().getFileName().toString(), m.group(1).trim());
            }
        }
        return out;
    }

}
