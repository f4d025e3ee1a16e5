package dev.sparkllm.notebook.kernel;

import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Entry point Jupyter starts (kernel.json's argv): {@code KernelMain CONNECTION_FILE}. The connection file,
 * written by Jupyter, names the ports and the signing key.
 */
public final class KernelMain {

    private KernelMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: KernelMain CONNECTION_FILE (Jupyter passes it; see kernel.json's argv)");
            System.exit(2);
        }
        Path connectionFile = Path.of(args[0]);
        if (!Files.isRegularFile(connectionFile)) {
            System.err.println("kernel connection file " + connectionFile + " not found; Jupyter writes it before "
                    + "starting the kernel, so start the kernel from Jupyter");
            System.exit(2);
        }
        KernelConnectionProperties props = KernelConnectionProperties.parse(Files.readString(connectionFile));

        CellEvaluator cells = CellEvaluator.forThisJvm();
        JShellKernel kernel = JShellKernel.builder(cells)
                .name("sparkllm-java")
                .version(String.valueOf(KernelMain.class.getPackage().getImplementationVersion()))
                .build();
        kernel.onStartup();

        JupyterConnection connection = new JupyterConnection(props);
        kernel.becomeHandlerForConnection(connection);
        connection.connect();
        connection.waitUntilClose();
        System.exit(0); // Spark and the engine keep non-daemon threads; the kernel's life ends with the connection
    }
}
