package dev.sparkllm.job;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.Locale;

/**
 * The output directory's layout. Chunk directories hold the table (Spark reads the directory as one table with a
 * {@code chunk} column); everything else starts with "_" so table readers skip it:
 * <pre>
 * OUTPUT/chunk=00007/part-*.parquet, _SUCCESS   one committed chunk (committed = _SUCCESS present)
 * OUTPUT/_sparkllm/manifest.json                what the output was made from
 * OUTPUT/_sparkllm/input/__chunk=7/...          the staged input: ids fixed, hashed into chunks
 * OUTPUT/_sparkllm/retry/chunk=00007            a chunk being rewritten by --retry-errors
 * OUTPUT/_sparkllm_summary.json                 the last run's summary
 * </pre>
 */
final class ChunkedOutput {

    static final String CHUNK_COLUMN = "__chunk";

    final Path root;
    final FileSystem fs;

    ChunkedOutput(String output, Configuration conf) throws IOException {
        this.root = new Path(output);
        this.fs = root.getFileSystem(conf);
    }

    Path meta() { return new Path(root, "_sparkllm"); }
    Path manifest() { return new Path(meta(), "manifest.json"); }
    Path stagedInput() { return new Path(meta(), "input"); }
    Path summary() { return new Path(root, "_sparkllm_summary.json"); }
    Path chunk(int k) { return new Path(root, chunkName(k)); }
    Path retry(int k) { return new Path(new Path(meta(), "retry"), chunkName(k)); }

    static String chunkName(int k) {
        return String.format(Locale.ROOT, "chunk=%05d", k);
    }

    boolean committed(int k) throws IOException {
        return fs.exists(new Path(chunk(k), "_SUCCESS"));
    }

    boolean stagedInputCommitted() throws IOException {
        return fs.exists(new Path(stagedInput(), "_SUCCESS"));
    }

    /** True when the directory holds anything but sparkllm's own files and chunks. */
    boolean hasForeignFiles() throws IOException {
        if (!fs.exists(root)) return false;
        for (var s : fs.listStatus(root)) {
            String n = s.getPath().getName();
            if (!n.startsWith("chunk=") && !n.startsWith("_sparkllm") && !n.startsWith(".")) return true;
        }
        return false;
    }

    /** Swaps a rewritten chunk into place. A crash between the two renames leaves the chunk uncommitted, so the
     * next run regenerates it: never two copies of a row. */
    void replaceChunk(int k) throws IOException {
        Path old = chunk(k);
        Path trash = new Path(new Path(meta(), "trash"), chunkName(k) + "-" + System.currentTimeMillis());
        fs.mkdirs(trash.getParent());
        if (fs.exists(old) && !fs.rename(old, trash)) throw new IOException("cannot move " + old + " aside");
        if (!fs.rename(retry(k), old)) throw new IOException("cannot move " + retry(k) + " to " + old);
        fs.delete(trash, true);
    }

    void deleteAll() throws IOException {
        if (fs.exists(root)) fs.delete(root, true);
    }
}
