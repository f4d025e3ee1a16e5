package dev.sparkllm.notebook.kernel;

import org.dflib.jjava.jupyter.Extension;
import org.dflib.jjava.jupyter.kernel.BaseKernel;

/**
 * How sparkllm's notebooks show things: XChart charts as PNG, Spark Datasets as tables. Our kernel installs it
 * at start; as a jjava-jupyter {@link Extension} (listed in META-INF/services) a JJava kernel that finds this jar
 * on its class path can install it too.
 */
public final class NotebookDisplays implements Extension {

    @Override
    public void install(BaseKernel kernel) {
        ChartDisplay.register(kernel.getRenderer());
        if (sparkPresent()) DatasetDisplay.register(kernel.getRenderer());
    }

    /** Spark is on our kernel's class path, but a JJava user may add only the engine. */
    private static boolean sparkPresent() {
        try {
            Class.forName("org.apache.spark.sql.Dataset", false, NotebookDisplays.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
