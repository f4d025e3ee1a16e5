package dev.sparkllm.udf;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

/**
 * Model directories on any Hadoop filesystem ({@code hdfs:}, {@code s3a:}, ...) copied once per node into a
 * persistent local cache, then read locally (the engine maps files, which needs a local path). Executors on one
 * node share one copy: a file lock serialises the copy, the copy goes to a temporary directory and is renamed
 * into place only after every file's size was checked, and a manifest of names and sizes lets later users
 * verify the copy. Local paths ({@code file:} or none) are used in place.
 */
public final class ModelCache {

    private static final Logger LOG = LoggerFactory.getLogger(ModelCache.class);
    static final String MANIFEST = ".sparkllm-cache-manifest";
    /** Room left on the cache disk beyond the model, as a fraction of the model's size. */
    private static final double FREE_DISK_MARGIN = 0.05;
    private static final Object JVM_LOCK = new Object();

    private final Path cacheRoot;
    private final Configuration hadoopConf;

    public ModelCache(Path cacheRoot, Configuration hadoopConf) {
        this.cacheRoot = cacheRoot;
        this.hadoopConf = hadoopConf;
    }

    /** The default cache root: {@code $SPARKLLM_MODEL_CACHE}, else {@code <tmpdir>/sparkllm-model-cache}. */
    public static Path defaultRoot() {
        String env = System.getenv("SPARKLLM_MODEL_CACHE");
        return env != null && !env.isBlank() ? Paths.get(env) : Paths.get(System.getProperty("java.io.tmpdir"), "sparkllm-model-cache");
    }

    /** True when the URI names a local path, which is used without copying. */
    public static boolean isLocal(String modelUri) {
        URI uri = URI.create(modelUri.replace(" ", "%20"));
        return uri.getScheme() == null || uri.getScheme().equals("file");
    }

    /** A local directory holding the model: the path itself when local, else the node's cached copy. */
    public Path localize(String modelUri) throws IOException {
        if (isLocal(modelUri)) {
            Path p = modelUri.startsWith("file:") ? Paths.get(URI.create(modelUri)) : Paths.get(modelUri);
            if (!Files.isDirectory(p)) throw new IOException("model directory " + p + " does not exist or is not a directory");
            return p;
        }
        org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(modelUri);
        FileSystem fs = src.getFileSystem(hadoopConf);
        List<FileStatus> files = listFiles(fs, src);
        Path target = cacheRoot.resolve(cacheKey(fs.makeQualified(src).toString(), src.getName()));
        Files.createDirectories(cacheRoot);
        synchronized (JVM_LOCK) { // FileLock is per process; this serialises threads of one executor
            try (FileChannel lockFile = FileChannel.open(cacheRoot.resolve(target.getFileName() + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = lockFile.lock()) {
                if (verified(target, files, src)) return target;
                copy(fs, src, files, target);
                return target;
            }
        }
    }

    private static List<FileStatus> listFiles(FileSystem fs, org.apache.hadoop.fs.Path src) throws IOException {
        if (!fs.exists(src) || !fs.getFileStatus(src).isDirectory()) {
            throw new IOException("model directory " + src + " does not exist or is not a directory");
        }
        List<FileStatus> files = new ArrayList<>();
        addFiles(fs, src, files);
        if (files.isEmpty()) throw new IOException("model directory " + src + " is empty");
        return files;
    }

    /** Plain listings (no block locations): all a copy needs, and cheap on object stores. */
    private static void addFiles(FileSystem fs, org.apache.hadoop.fs.Path dir, List<FileStatus> out) throws IOException {
        for (FileStatus f : fs.listStatus(dir)) {
            if (f.isDirectory()) addFiles(fs, f.getPath(), out);
            else out.add(f);
        }
    }

    /** Whether an existing cached copy holds every file with its source size. */
    private static boolean verified(Path target, List<FileStatus> files, org.apache.hadoop.fs.Path src) throws IOException {
        Path manifest = target.resolve(MANIFEST);
        if (!Files.isRegularFile(manifest)) return false;
        for (FileStatus f : files) {
            Path local = target.resolve(relative(src, f.getPath()));
            if (!Files.isRegularFile(local) || Files.size(local) != f.getLen()) {
                LOG.warn("cached model {} is stale or damaged at {}; copying it again", target, local);
                return false;
            }
        }
        return true;
    }

    private void copy(FileSystem fs, org.apache.hadoop.fs.Path src, List<FileStatus> files, Path target) throws IOException {
        long total = files.stream().mapToLong(FileStatus::getLen).sum();
        long free = Files.getFileStore(cacheRoot).getUsableSpace();
        if (free < total * (1 + FREE_DISK_MARGIN)) {
            throw new IOException("not enough disk for model " + src + " in cache " + cacheRoot + ": needs "
                    + total + " bytes (+5%), " + free + " free; set SPARKLLM_MODEL_CACHE to a larger disk");
        }
        long start = System.nanoTime();
        Path tmp = cacheRoot.resolve(target.getFileName() + ".tmp-" + UUID.randomUUID());
        Properties manifest = new Properties();
        try {
            for (FileStatus f : files) {
                String rel = relative(src, f.getPath());
                Path local = tmp.resolve(rel);
                Files.createDirectories(local.getParent());
                try (InputStream in = fs.open(f.getPath()); OutputStream out = Files.newOutputStream(local)) {
                    in.transferTo(out);
                }
                if (Files.size(local) != f.getLen()) {
                    throw new IOException("copy of " + f.getPath() + " has " + Files.size(local) + " bytes, expected " + f.getLen());
                }
                manifest.setProperty(rel, Long.toString(f.getLen()));
            }
            try (OutputStream out = Files.newOutputStream(tmp.resolve(MANIFEST))) {
                manifest.store(out, "source " + src);
            }
            if (Files.exists(target)) deleteTree(target); // stale copy, checked under the lock
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            if (Files.exists(tmp)) deleteTree(tmp);
        }
        LOG.info("copied model {} ({} bytes, {} files) to local cache {} in {} ms", src, total, files.size(), target,
                (System.nanoTime() - start) / 1_000_000);
    }

    private static String relative(org.apache.hadoop.fs.Path root, org.apache.hadoop.fs.Path file) {
        String r = root.toUri().getPath();
        String f = file.toUri().getPath();
        String rel = f.substring(r.length());
        return rel.startsWith("/") ? rel.substring(1) : rel;
    }

    static String cacheKey(String qualifiedUri, String name) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(qualifiedUri.getBytes(StandardCharsets.UTF_8));
            return name.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + HexFormat.of().formatHex(d, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
