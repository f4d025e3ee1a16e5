package dev.sparkllm.engine.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where tests find models: the bundled example in the repository, and the shared kjv-tiny variants at
 * {@code ../shared/models/kjv-tiny} beside the checkout. Tests that need a shared variant skip, saying so,
 * when the shared folder is absent.
 */
public final class TestModels {

    /** The nine kjv-tiny directories: fp16 and the eight GPTQ branches. */
    public static final List<String> KJV_TINY_VARIANTS = List.of(
            "fp16", "main",
            "gptq-4bit-32g-actorder_True", "gptq-4bit-64g-actorder_True", "gptq-4bit-128g-actorder_True",
            "gptq-3bit--1g-actorder_True", "gptq-3bit-128g-actorder_False", "gptq-3bit-128g-actorder_True",
            "gptq-3bit-64g-actorder_True");

    private TestModels() {
    }

    /** Root of the repository checkout. */
    public static Path repoDir() {
        String dir = System.getProperty("sparkllm.repo.dir");
        if (dir != null) return Path.of(dir);
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("examples"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("cannot find the repository root from " + Path.of("").toAbsolutePath());
        return p;
    }

    /** The bundled example model (always present). */
    public static Path bundledModel() {
        return repoDir().resolve("examples/models/kjv-tiny-gptq-4bit-128g-actorder");
    }

    /** {@code ../shared} beside the checkout, or null. */
    public static Path sharedDir() {
        String dir = System.getProperty("sparkllm.shared.dir");
        Path p = dir != null ? Path.of(dir) : repoDir().resolve("../shared");
        return Files.isDirectory(p) ? p.normalize() : null;
    }

    /** A kjv-tiny variant from the shared folder; skips the calling test (visibly) when it is absent. */
    public static Path kjvTiny(String variant) {
        Path shared = sharedDir();
        Path dir = shared == null ? null : shared.resolve("models/kjv-tiny").resolve(variant);
        Assumptions.assumeTrue(dir != null && Files.isDirectory(dir),
                "skipped: shared test model kjv-tiny/" + variant + " not found (expected ../shared/models/kjv-tiny beside the checkout)");
        return dir;
    }

    /**
     * A kjv-tiny variant, taken from the repository's bundled copy when it is the bundled one (so tests of it run
     * without the shared folder), else as {@link #kjvTiny} finds it.
     */
    public static Path kjvTinyVariant(String variant) {
        return variant.equals("gptq-4bit-128g-actorder_True") ? bundledModel() : kjvTiny(variant);
    }
}
