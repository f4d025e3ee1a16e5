/**
 * Text to token ids and back, with exact parity to Hugging Face {@code tokenizers}.
 *
 * <p>Entry point: {@link dev.sparkllm.engine.tokenizer.TokenizerLoader#load(java.nio.file.Path, TokenizerMode)} reads a
 * model directory's {@code tokenizer.json} (plus {@code tokenizer_config.json}), or a SentencePiece
 * {@code tokenizer.model} when that is all there is, and returns a {@link dev.sparkllm.engine.tokenizer.Tokenizer}.
 *
 * <p>Layout: {@code PipelineTokenizer} runs Hugging Face's pipeline over parts that each mirror one section of
 * {@code tokenizer.json}: {@code AddedVocabulary} (added tokens), {@code Normalizer}, {@code PreTokenizer}
 * (with {@code Metaspace}, {@code ByteLevel}, {@code SplitBehavior}), a {@code TokenModel} ({@code BpeModel}, or
 * {@code SentencePieceBpe} for {@code tokenizer.model}), {@code PostProcessor} and {@code Decoder}.
 * {@code StreamingDecoder} decodes generated tokens one at a time.
 *
 * <p>Llama tokenizers and {@code "legacy"}: tokenizer.json's {@code Prepend("▁")} normaliser puts ▁ before every
 * piece of text, including text right after a special token and text that already starts with a space. That is
 * SentencePiece's encoding of Meta's prompts (each turn encoded on its own), which Llama-2 was trained on, so the
 * default mode ({@link TokenizerMode#FILES}) keeps it whatever tokenizer_config.json's {@code legacy} says. Mode
 * {@link TokenizerMode#TRANSFORMERS5} does what transformers 5 does for a Llama tokenizer class (LlamaTokenizer(Fast),
 * CodeLlamaTokenizer(Fast), or none with a llama/mistral/mixtral model type): no normaliser, and a Metaspace
 * pre-tokenizer that adds ▁ only where the text does not already start with a space, with prepend scheme "first"
 * (only before the text at offset 0) when tokenizer_config.json's {@code legacy} is false or absent, "always" (also
 * after every special token) when it is true, "never" when {@code add_prefix_space} is false (CodeLlama ignores
 * {@code legacy}: "first"); decoding strips one leading space unless the scheme is "never".
 *
 * <p>Tests compare against Hugging Face {@code tokenizers} run in Node ({@code engine/src/test/node}; for
 * {@link TokenizerMode#TRANSFORMERS5}, its emulation of transformers 5, checked against transformers' own ids in
 * {@code golden/chat_templates.json} and {@code golden/transformers_llama_legacy.json}) and against SentencePiece's
 * {@code spm_encode}, also on the real Llama-2 vocabulary.
 */
package dev.sparkllm.engine.tokenizer;
