package dev.sparkllm.job;

import dev.sparkllm.udf.ModelCache;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;

/**
 * The model directory as the driver checks it. The driver never needs the weights: for a remote model it copies
 * only the small files (configs, tokenizer) to a temporary directory; executors copy the whole directory into
 * their node cache ({@link ModelCache}).
 */
final class DriverModel {

    /** Files above this size are weights, which the driver does not need. */
    private static final long SMALL_FILE_BYTES = 64L << 20;

    private DriverModel() {
    }

    static java.nio.file.Path forChecks(String modelUri, Configuration conf) throws IOException {
        if (ModelCache.isLocal(modelUri)) {
            java.nio.file.Path p = modelUri.startsWith("file:") ? Paths.get(java.net.URI.create(modelUri)) : Paths.get(modelUri);
            if (!Files.isDirectory(p)) {
                throw new IllegalArgumentException("model directory " + modelUri + " does not exist; pass --model with a "
                        + "Hugging Face model directory (config.json, tokenizer, safetensors)");
            }
            return p;
        }
        Path src = new Path(modelUri);
        FileSystem fs = src.getFileSystem(conf);
        if (!fs.exists(src) || !fs.getFileStatus(src).isDirectory()) {
            throw new IllegalArgumentException("model directory " + modelUri + " does not exist or is not a directory");
        }
        java.nio.file.Path tmp = Files.createTempDirectory("sparkllm-driver-model");
        tmp.toFile().deleteOnExit();
        StringBuilder listing = new StringBuilder();
        for (FileStatus f : fs.listStatus(src)) {
            listing.append(f.getPath().getName()).append('\t').append(f.getLen()).append('\n');
            if (!f.isFile() || f.getLen() > SMALL_FILE_BYTES) continue;
            java.nio.file.Path local = tmp.resolve(f.getPath().getName());
            try (InputStream in = fs.open(f.getPath())) {
                Files.copy(in, local);
            }
            local.toFile().deleteOnExit();
        }
        // Names and sizes of every file: the driver's fingerprint of a model whose weights it did not copy.
        java.nio.file.Path list = tmp.resolve(dev.sparkllm.udf.EngineBinding.REMOTE_LISTING);
        Files.writeString(list, listing);
        list.toFile().deleteOnExit();
        return tmp;
    }
}
