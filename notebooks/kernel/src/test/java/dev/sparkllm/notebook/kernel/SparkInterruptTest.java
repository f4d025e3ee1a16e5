package dev.sparkllm.notebook.kernel;

import org.apache.spark.SparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SparkInterruptTest {

    @Test
    void cancellingStopsTheRunningJobNotJustTheWaitingThread() throws Exception {
        assertFalse(SparkJobs.cancelAll(), "no SparkContext yet");
        SparkSession spark = SparkSession.builder().master("local[1]").appName("interrupt test")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            SparkContext sc = spark.sparkContext();
            // A job far too long to finish: counts a trillion generated rows.
            CompletableFuture<Throwable> job = CompletableFuture.supplyAsync(() -> {
                try {
                    spark.sql("SELECT count(*) FROM range(1000000000000)").collect();
                    return null;
                } catch (Throwable t) {
                    return t;
                }
            });
            for (int i = 0; i < 600 && sc.statusTracker().getActiveJobIds().length == 0; i++) Thread.sleep(50);
            assertEquals(1, sc.statusTracker().getActiveJobIds().length, "the job started");

            assertTrue(SparkJobs.cancelAll());

            Throwable failure = null;
            for (int i = 0; i < 600 && failure == null; i++) {
                try {
                    failure = job.get(100, TimeUnit.MILLISECONDS);
                    assertNotNull(failure, "a trillion rows cannot have been counted");
                } catch (TimeoutException stillRunning) {
                    // cancellation reaches the task at its next check
                }
            }
            assertNotNull(failure, "the job was cancelled");
            assertTrue(String.valueOf(failure.getMessage()).contains("cancel"), String.valueOf(failure));
            // the status tracker learns of the job's end through Spark's asynchronous listener bus
            for (int i = 0; i < 100 && sc.statusTracker().getActiveJobIds().length > 0; i++) Thread.sleep(50);
            assertEquals(0, sc.statusTracker().getActiveJobIds().length, "no job left running");
        } finally {
            spark.stop();
        }
    }
}
