package dev.sparkllm.job;

import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * conf/gpu-discovery.sh in a controlled environment: an empty environment but for PATH (a folder holding only a
 * fake nvidia-smi, or nothing) and CUDA_VISIBLE_DEVICES. Each case checks the exact line printed and that Spark's
 * own parser (the one its discovery runs) reads the addresses from it.
 */
class GpuDiscoveryScriptTest {

    @TempDir
    Path tmp;
    Path script;
    Path bin;

    @BeforeEach
    void locate() throws IOException {
        Path repo = Paths.get(System.getProperty("sparkllm.repo.dir", "..")).toAbsolutePath().normalize();
        script = repo.resolve("conf/gpu-discovery.sh");
        assertTrue(Files.isRegularFile(script), "missing " + script);
        assertTrue(Files.isExecutable(script), script + " must be executable: Spark runs it directly");
        Assumptions.assumeTrue(Files.isExecutable(Paths.get("/bin/bash")), "needs /bin/bash");
        bin = Files.createDirectories(tmp.resolve("bin"));
    }

    /** A stand-in for nvidia-smi that answers only the query the script makes. */
    void fakeNvidiaSmi(String stdout, int exitCode) throws IOException {
        Path smi = bin.resolve("nvidia-smi");
        Files.writeString(smi, "#!/bin/sh\n"
                + "[ \"$1\" = \"--query-gpu=index\" ] && [ \"$2\" = \"--format=csv,noheader\" ] && [ $# -eq 2 ] "
                + "|| { echo \"unexpected arguments: $*\" >&2; exit 64; }\n"
                + "printf '" + stdout.replace("'", "'\\''").replace("\n", "\\n") + "'\n"
                + "exit " + exitCode + "\n");
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** Runs the script with only PATH (and CUDA_VISIBLE_DEVICES when not null) set; returns its stdout. */
    String run(String cudaVisibleDevices) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("/bin/bash", script.toString());
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", bin.toString());
        if (cudaVisibleDevices != null) env.put("CUDA_VISIBLE_DEVICES", cudaVisibleDevices);
        pb.redirectError(tmp.resolve("stderr").toFile());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the script did not finish");
        assertEquals(0, p.exitValue(), "exit status; stderr: " + Files.readString(tmp.resolve("stderr")));
        return out;
    }

    /** The script's line, checked against the expected text and read back with Spark's parser. */
    static void assertAddresses(String out, String... expected) {
        String quoted = String.join(", ", java.util.Arrays.stream(expected).map(a -> "\"" + a + "\"").toList());
        assertEquals("{\"name\": \"gpu\", \"addresses\": [" + quoted + "]}\n", out);
        ResourceInformation info = ResourceInformation.parseJson(out.trim());
        assertEquals("gpu", info.name());
        assertEquals(List.of(expected), List.of(info.addresses()));
    }

    @Test
    void twoGpusFromNvidiaSmi() throws Exception {
        fakeNvidiaSmi("0\n1\n", 0);
        assertAddresses(run(null), "0", "1");
    }

    @Test
    void nvidiaSmiPaddingIsTrimmed() throws Exception {
        fakeNvidiaSmi(" 0 \r\n1\r\n", 0);
        assertAddresses(run(null), "0", "1");
    }

    @Test
    void cudaVisibleDevicesWinsOverNvidiaSmi() throws Exception {
        // a four-GPU node whose worker (or container) was given GPUs 2 and 3
        fakeNvidiaSmi("0\n1\n2\n3\n", 0);
        assertAddresses(run("2,3"), "2", "3");
        assertAddresses(run(" 2 , 3 "), "2", "3");
    }

    @Test
    void gpuUuidsAreKeptAsAddresses() throws Exception {
        // ExecutorDevice maps a UUID address to its position in the same list
        assertAddresses(run("GPU-8932f937,GPU-5d1e2a00"), "GPU-8932f937", "GPU-5d1e2a00");
    }

    @Test
    void noDevFilesMeansNoGpu() throws Exception {
        // Slurm's value for a job without GPUs: CUDA sees none, whatever nvidia-smi lists
        fakeNvidiaSmi("0\n1\n", 0);
        assertAddresses(run("NoDevFiles"));
    }

    @Test
    void anInvalidEntryHidesTheGpusAfterIt() throws Exception {
        // CUDA's rule: only the devices before the first invalid entry are visible
        fakeNvidiaSmi("0\n1\n2\n", 0);
        assertAddresses(run("-1"));
        assertAddresses(run("0,2,-1,1"), "0", "2");
        assertAddresses(run(""));
    }

    @Test
    void noNvidiaSmiMeansNoGpu() throws Exception {
        assertFalse(Files.exists(bin.resolve("nvidia-smi")));
        assertAddresses(run(null));
    }

    @Test
    void aFailingNvidiaSmiMeansNoGpu() throws Exception {
        // nvidia-smi prints this on stdout when the driver is not loaded; none of it is an address
        fakeNvidiaSmi("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n", 9);
        assertAddresses(run(null));
        fakeNvidiaSmi("No devices were found\n", 6);
        assertAddresses(run(null));
    }
}
