package dev.sparkllm.notebook.kernel;

import org.apache.spark.sql.SparkSession;

/**
 * Cancels the running Spark jobs of this JVM's Spark session. Interrupting a cell only interrupts the
 * thread waiting for a job; the job's tasks would go on occupying every core until they finish.
 */
final class SparkJobs {

    private SparkJobs() {
    }

    /** @return true when there was a SparkSession to cancel jobs on */
    static boolean cancelAll() {
        try {
            // The default session is the one getOrCreate() made; the "active" one is per thread, and the interrupt
            // arrives on the kernel's control thread, not on the cell's.
            scala.Option<SparkSession> session = SparkSession.getDefaultSession();
            if (session.isEmpty()) return false;
            session.get().sparkContext().cancelAllJobs();
            return true;
        } catch (NoClassDefFoundError sparkAbsent) {
            return false; // a class path without Spark (a JJava user who added only the engine)
        }
    }
}
