package dev.sparkllm.engine.cli;

import dev.sparkllm.engine.bench.CpuBackendBenchmark;
import dev.sparkllm.engine.bench.GpuBenchmark;
import dev.sparkllm.engine.bench.SchedulerOverheadBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code llm bench cpu|scheduler [args]}: the committed benchmark harnesses (results go in BENCHMARKS.md). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Run a benchmark harness:",
                "  cpu        CPU backend decode tokens/s at batch 1 and 32 (args: see 'bench cpu --help')",
                "  scheduler  engine loop overhead against the simulated H200 (args: see 'bench scheduler --help')",
                "  gpu        the CUDA backend on random GPTQ weights at 7B/13B/70B shape (args: see 'bench gpu --help')"})
final class BenchCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "HARNESS", description = "cpu, scheduler or gpu")
    String harness;

    @Parameters(index = "1..*", paramLabel = "ARGS", description = "arguments for the harness")
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        String[] a = args.toArray(new String[0]);
        switch (harness) {
            case "cpu" -> CpuBackendBenchmark.main(a);
            case "scheduler" -> SchedulerOverheadBenchmark.main(a);
            case "gpu" -> GpuBenchmark.main(a);
            default -> throw new IllegalArgumentException("unknown benchmark '" + harness + "'; choose cpu, scheduler or gpu");
        }
        return 0;
    }
}
