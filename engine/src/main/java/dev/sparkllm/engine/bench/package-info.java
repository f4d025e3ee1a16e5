/**
 * Benchmark mains (not tests): each prints a table and a JSON line for the benchmark record.
 * {@link dev.sparkllm.engine.bench.CpuBackendBenchmark} measures CPU backend decode throughput.
 */
package dev.sparkllm.engine.bench;
