/** Benchmark mains (run by hand or by the benchmark harness, never by unit tests). */
package dev.sparkllm.engine.bench;
