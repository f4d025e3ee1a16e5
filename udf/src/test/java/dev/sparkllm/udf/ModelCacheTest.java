package dev.sparkllm.udf;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/** Remote model directories are copied once into the node cache, verified, and reused; local ones are not copied. */
class ModelCacheTest {

    /** The local disk under another scheme, so the cache treats it as remote (as it would hdfs: or s3a:). */
    public static final class RemoteLikeFileSystem extends RawLocalFileSystem {
        @Override
        public URI getUri() {
            return URI.create("remotetest:///");
        }

        @Override
        public String getScheme() {
            return "remotetest";
        }

        @Override
        public java.io.File pathToFile(org.apache.hadoop.fs.Path path) {
            checkPath(path);
            if (!path.isAbsolute()) path = new org.apache.hadoop.fs.Path(getWorkingDirectory(), path);
            return new java.io.File(path.toUri().getPath());
        }
    }

    @TempDir
    Path tmp;

    Configuration conf() {
        Configuration c = new Configuration();
        c.set("fs.remotetest.impl", RemoteLikeFileSystem.class.getName());
        c.setBoolean("fs.remotetest.impl.disable.cache", true);
        return c;
    }

    Path model() throws IOException {
        Path m = Files.createDirectories(tmp.resolve("src/llama"));
        Files.writeString(m.resolve("config.json"), "{\"hidden_size\": 8}");
        Files.write(m.resolve("model.safetensors"), new byte[100_000]);
        Files.createDirectories(m.resolve("sub"));
        Files.writeString(m.resolve("sub/extra.txt"), "x");
        return m;
    }

    @Test
    void localDirectoriesAreUsedInPlace() throws Exception {
        Path m = model();
        assertEquals(m, new ModelCache(tmp.resolve("cache"), conf()).localize(m.toString()));
        assertEquals(m, new ModelCache(tmp.resolve("cache"), conf()).localize("file:" + m));
        assertFalse(Files.exists(tmp.resolve("cache")));
    }

    @Test
    void concurrentUsersGetOneVerifiedCopy() throws Exception {
        Path m = model();
        String uri = "remotetest://" + m;
        ModelCache cache = new ModelCache(tmp.resolve("cache"), conf());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Path>> results = new ArrayList<>();
        for (int i = 0; i < 8; i++) results.add(pool.submit(() -> cache.localize(uri)));
        Path first = results.get(0).get();
        for (Future<Path> f : results) assertEquals(first, f.get());
        pool.shutdown();
        assertNotEquals(m, first);
        assertArrayEquals(Files.readAllBytes(m.resolve("model.safetensors")), Files.readAllBytes(first.resolve("model.safetensors")));
        assertEquals("x", Files.readString(first.resolve("sub/extra.txt")));
        try (var s = Files.list(tmp.resolve("cache"))) {
            assertEquals(2, s.count(), "the copy and its lock file, no temporary leftovers");
        }
        long stamp = Files.getLastModifiedTime(first.resolve("model.safetensors")).toMillis();
        Thread.sleep(20);
        assertEquals(first, cache.localize(uri));
        assertEquals(stamp, Files.getLastModifiedTime(first.resolve("model.safetensors")).toMillis(), "reused, not copied again");
    }

    @Test
    void aDamagedCopyIsReplaced() throws Exception {
        Path m = model();
        String uri = "remotetest://" + m;
        ModelCache cache = new ModelCache(tmp.resolve("cache"), conf());
        Path copy = cache.localize(uri);
        Files.write(copy.resolve("model.safetensors"), new byte[10]);
        assertEquals(copy, cache.localize(uri));
        assertEquals(100_000, Files.size(copy.resolve("model.safetensors")));
    }

    @Test
    void aMissingDirectoryIsNamed() {
        var e = assertThrows(IOException.class, () ->
                new ModelCache(tmp.resolve("cache"), conf()).localize("remotetest://" + tmp.resolve("nope")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }
}
