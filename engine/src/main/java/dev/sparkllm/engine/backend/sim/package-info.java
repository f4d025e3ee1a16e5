/**
 * Test doubles for backends. {@link dev.sparkllm.engine.backend.sim.SimulatedGpuBackend} computes no model: it
 * produces deterministic, KV-dependent logits and takes the time a {@link dev.sparkllm.engine.backend.sim.Roofline}
 * of a GPU and model shape predicts, for testing and benchmarking the engine loop at GPU speeds. Never a default.
 */
package dev.sparkllm.engine.backend.sim;
