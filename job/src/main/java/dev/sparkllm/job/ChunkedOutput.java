package dev.sparkllm.job;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The output directory's layout. Chunk directories hold the table (Spark reads the directory as one table with a
 * {@code chunk} column); everything else starts with "_" so table readers skip it:
 * <pre>
 * OUTPUT/chunk=00007/part-*.parquet, _SUCCESS   one committed chunk (committed = _SUCCESS present)
 * OUTPUT/_sparkllm/manifest.json                the run record: what the output was made from, its chunk count
 * OUTPUT/_sparkllm/input/__chunk=7/...          the staged input of the latest run: ids fixed, hashed into chunks
 * OUTPUT/_sparkllm/rewrite/chunk=00007          a committed chunk being rewritten (rows added, retried, removed)
 * OUTPUT/_sparkllm_summary.json                 the last run's summary
 * </pre>
 * <b>Ownership.</b> The job deletes only what its run record proves it wrote: the entries above, with chunk numbers
 * below the record's chunk count. The record is written before anything else, so every run that wrote anything
 * left one. Any other entry in the output directory (a user's {@code .git}, a {@code .notes} file, another
 * table's {@code chunk=a/}) stops the job on the driver naming it, {@code --force} or not.
 */
final class ChunkedOutput {

    static final String CHUNK_COLUMN = "__chunk";
    private static final String META = "_sparkllm";
    private static final String SUMMARY = "_sparkllm_summary.json";

    final Path root;
    final FileSystem fs;

    ChunkedOutput(String output, Configuration conf) throws IOException {
        this.root = new Path(output);
        this.fs = root.getFileSystem(conf);
    }

    Path meta() { return new Path(root, META); }
    Path manifest() { return new Path(meta(), "manifest.json"); }
    Path stagedInput() { return new Path(meta(), "input"); }
    Path summary() { return new Path(root, SUMMARY); }
    Path chunk(int k) { return new Path(root, chunkName(k)); }
    Path rewrite(int k) { return new Path(new Path(meta(), "rewrite"), chunkName(k)); }

    static String chunkName(int k) {
        return String.format(Locale.ROOT, "chunk=%05d", k);
    }

    boolean committed(int k) throws IOException {
        return fs.exists(new Path(chunk(k), "_SUCCESS"));
    }

    /**
     * The run record of an earlier run in this output, or null when the output is new or an empty directory.
     *
     * @throws IllegalArgumentException when --output is a file, or holds anything the run record does not account
     *                                  for, naming it
     */
    RunManifest inspect() throws IOException {
        if (!fs.exists(root)) return null;
        if (!fs.getFileStatus(root).isDirectory()) {
            throw new IllegalArgumentException("--output " + root + " is a file; give a directory: a new or empty one, or "
                    + "the output of an earlier run to resume it");
        }
        FileStatus[] entries = fs.listStatus(root);
        if (entries.length == 0) return null;
        RunManifest m = null;
        if (fs.exists(manifest())) {
            try {
                m = RunManifest.read(fs, manifest());
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("--output " + root + " holds a sparkllm run record that cannot be read ("
                        + manifest() + ": " + e.getMessage() + "); choose a new --output, or delete that directory "
                        + "yourself if it is a sparkllm output", e);
            }
        }
        List<Path> foreign = new ArrayList<>();
        for (FileStatus s : entries) if (!owned(s.getPath().getName(), m)) foreign.add(s.getPath());
        if (!foreign.isEmpty()) {
            String what = m == null ? "has no sparkllm run record (" + manifest() + "), so none of its files are"
                    + " sparkllm's" : "holds files that its sparkllm run record does not account for";
            throw new IllegalArgumentException("--output " + root + " " + what + ": " + display(foreign.get(0))
                    + (foreign.size() > 1 ? " and " + (foreign.size() - 1) + " more" : "") + ". sparkllm never deletes or "
                    + "writes among files it did not write (not even with --force): choose a new or empty --output, "
                    + "or move those files away");
        }
        return m;
    }

    /** A path as the user wrote it: without the scheme for local files. */
    static String display(Path p) {
        return "file".equals(p.toUri().getScheme()) ? p.toUri().getPath() : p.toString();
    }

    /** Whether the run record {@code m} (null: none yet) proves that an entry of the output root is sparkllm's. */
    private static boolean owned(String name, RunManifest m) {
        if (m == null) return false;
        if (name.equals(META) || name.equals(SUMMARY) || name.equals("." + SUMMARY + ".crc")) return true;
        for (int k = 0; k < m.chunks(); k++) if (name.equals(chunkName(k))) return true;
        return false;
    }

    /**
     * Deletes what the run record {@code m} proves an earlier run wrote (its chunks, run record, staged input and
     * summary); {@link #inspect} has checked that nothing else is there.
     */
    void deleteOwned(RunManifest m) throws IOException {
        for (int k = 0; k < m.chunks(); k++) if (fs.exists(chunk(k))) fs.delete(chunk(k), true);
        for (Path p : List.of(summary(), new Path(root, "." + SUMMARY + ".crc"), meta())) {
            if (fs.exists(p)) fs.delete(p, true);
        }
    }

    /** Removes chunk {@code k}'s directory (an uncommitted leftover, or a chunk left with no rows). */
    void deleteChunk(int k) throws IOException {
        if (fs.exists(chunk(k))) fs.delete(chunk(k), true);
    }

    /** Swaps a rewritten chunk into place. A crash between the two renames leaves the chunk uncommitted, so the
     * next run regenerates it: never two copies of a row. */
    void replaceChunk(int k) throws IOException {
        Path old = chunk(k);
        Path trash = new Path(new Path(meta(), "trash"), chunkName(k) + "-" + System.currentTimeMillis());
        fs.mkdirs(trash.getParent());
        if (fs.exists(old) && !fs.rename(old, trash)) throw new IOException("cannot move " + old + " aside");
        if (!fs.rename(rewrite(k), old)) throw new IOException("cannot move " + rewrite(k) + " to " + old);
        fs.delete(trash, true);
    }
}
