package dev.sparkllm.job;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Starts Spark JVMs (driver, master, worker) the way a real deployment would, from the build's classpath. */
final class ChildJvm {

    private ChildJvm() {
    }

    /** The runtime classpath Maven wrote (job/target/classpath.txt), Spark included. */
    static List<String> buildClasspath() throws IOException {
        String file = System.getProperty("sparkllm.test.classpath");
        Assumptions.assumeTrue(file != null && Files.exists(Paths.get(file)),
                "job/target/classpath.txt is missing; run the tests through Maven (generate-test-resources writes it)");
        return new ArrayList<>(Arrays.asList(Files.readString(Paths.get(file)).trim().split(File.pathSeparator)));
    }

    static List<String> javaOpens() {
        return Arrays.stream(System.getProperty("sparkllm.java.opens", "").trim().split("\\s+"))
                .filter(s -> !s.isBlank()).toList();
    }

    static String java() {
        return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * Starts {@code main} with the given classpath; stdout and stderr go to {@code log}. {@code env} is added to
     * this JVM's environment; a null value removes that variable.
     */
    static Process start(List<String> classpath, String main, List<String> jvmArgs, List<String> args, Path log,
                         Map<String, String> env) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(java());
        cmd.add("-Xmx768m");
        cmd.addAll(javaOpens());
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(String.join(File.pathSeparator, classpath));
        cmd.add(main);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        env.forEach((k, v) -> {
            if (v == null) pb.environment().remove(k);
            else pb.environment().put(k, v);
        });
        return pb.start();
    }
}
