/**
 * Text to token ids and back, with exact parity to Hugging Face {@code tokenizers}.
 *
 * <p>Entry point: {@link dev.sparkllm.engine.tokenizer.TokenizerLoader#load(java.nio.file.Path)} reads a model
 * directory's {@code tokenizer.json} (plus {@code tokenizer_config.json}), or a SentencePiece
 * {@code tokenizer.model} when that is all there is, and returns a {@link dev.sparkllm.engine.tokenizer.Tokenizer}.
 *
 * <p>Layout: {@code PipelineTokenizer} runs Hugging Face's pipeline over parts that each mirror one section of
 * {@code tokenizer.json}: {@code AddedVocabulary} (added tokens), {@code Normalizer}, {@code PreTokenizer}
 * (with {@code Metaspace}, {@code ByteLevel}, {@code SplitBehavior}), a {@code TokenModel} ({@code BpeModel}, or
 * {@code SentencePieceBpe} for {@code tokenizer.model}), {@code PostProcessor} and {@code Decoder}.
 * {@code StreamingDecoder} decodes generated tokens one at a time.
 *
 * <p>Llama tokenizers and {@code "legacy"}: tokenizer.json's {@code Prepend("▁")} normaliser puts ▁ before every
 * piece of text, including text right after a special token ({@code "<s>[INST]"} gives {@code <s> ▁ [ ...}).
 * When tokenizer_config.json names a Llama class (LlamaTokenizer, LlamaTokenizerFast, CodeLlamaTokenizer(Fast),
 * or none, with a llama/mistral/mixtral model type) and says {@code "legacy": false}, we do what transformers 5
 * does instead: no normaliser, and a Metaspace pre-tokenizer with prepend scheme "first", so ▁ goes only before
 * the text at offset 0 of the input ({@code <s> [ ...}), and not there either when that text already starts with
 * a space. Decoding is unchanged (the decoder strips one leading space of the whole text either way). Without
 * {@code "legacy": false} we keep tokenizer.json's semantics.
 *
 * <p>Tests compare against Hugging Face {@code tokenizers} run in Node ({@code engine/src/test/node}; for
 * legacy:false, its emulation of transformers, checked against transformers' own ids in
 * {@code golden/chat_templates.json}) and against SentencePiece's {@code spm_encode}.
 */
package dev.sparkllm.engine.tokenizer;
