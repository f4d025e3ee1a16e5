package dev.sparkllm.job;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;

/** The Hadoop filesystem of a path, with the session's Hadoop configuration. */
final class FileSystemOf {

    private FileSystemOf() {
    }

    static FileSystem of(SparkSession spark, String path) {
        try {
            return new Path(path).getFileSystem(spark.sparkContext().hadoopConfiguration());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the filesystem of " + path, e);
        }
    }
}
