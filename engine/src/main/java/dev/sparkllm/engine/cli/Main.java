package dev.sparkllm.engine.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The engine's command line: {@code bin/llm generate | tokenize | perplexity | bench | make-checkpoint}. */
@Command(name = "llm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Batch generation with Llama-family GPTQ models (engine command line, no Spark).",
        subcommands = {GenerateCommand.class, TokenizeCommand.class, PerplexityCommand.class, BenchCommand.class,
                MakeCheckpointCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        // Everything after "bench HARNESS" belongs to the harness, --help included.
        cl.getSubcommands().get("bench").setStopAtPositional(true);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            // Expected problems (bad model directory, bad option) get one clear line, not a stack trace.
            if (e instanceof IllegalArgumentException || e instanceof IllegalStateException
                    || e instanceof java.io.UncheckedIOException || e instanceof java.io.IOException
                    || e.getClass().getSimpleName().endsWith("CheckpointException")
                    || e instanceof dev.sparkllm.engine.cuda.CudaException) {
                cmd.getErr().println("llm " + cmd.getCommandName() + ": " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"sparkllm " + (v == null ? "(development build)" : v)};
        }
    }
}
