/**
 * GPTQ weights in the AutoGPTQ layout ({@code qweight}, {@code qzeros}, {@code scales}, {@code g_idx}) and the
 * CPU {@link dev.sparkllm.engine.gptq.GptqLinear} that computes with them packed: rows sorted by group at
 * load (act-order), one fixed summation order for every batch and output split.
 */
package dev.sparkllm.engine.gptq;
