/**
 * Hugging Face model directories and safetensors files.
 *
 * <p>{@link dev.sparkllm.engine.checkpoint.ModelDirectory#open} reads {@code config.json} (both spellings),
 * {@code generation_config.json}, the GPTQ settings and every safetensors header, and checks all tensor shapes
 * against the config without reading weight data; {@code loadWeights()} then builds
 * {@link dev.sparkllm.engine.model.LlamaWeights} with {@link dev.sparkllm.engine.checkpoint.DenseLinear} and
 * {@link dev.sparkllm.engine.gptq.GptqLinear} layers. {@link dev.sparkllm.engine.checkpoint.SafetensorsFile}
 * validates a file's header before trusting it and maps tensors one at a time with 64-bit offsets;
 * {@link dev.sparkllm.engine.checkpoint.SafetensorsWriter} makes files for tests and tools. Every problem is a
 * {@link dev.sparkllm.engine.checkpoint.CheckpointException} naming the file.
 */
package dev.sparkllm.engine.checkpoint;
