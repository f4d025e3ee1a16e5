/**
 * Synthetic checkpoints in the reference model's exact layout: {@link dev.sparkllm.engine.checkpoint.synthetic.SyntheticCheckpoint}
 * writes the model directory of a GPTQ branch of Llama-2-7B/13B/70B-chat (configs, tokenizer, one safetensors file
 * of AutoGPTQ tensors) with random weights, streamed to disk chunk by chunk so that a 40 GB file needs a few MB of
 * memory. For load, memory and speed tests without downloading a real model.
 */
package dev.sparkllm.engine.checkpoint.synthetic;
