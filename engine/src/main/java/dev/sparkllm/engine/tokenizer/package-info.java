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
 * <p>Tests compare against Hugging Face {@code tokenizers} run in Node ({@code engine/src/test/node}) and
 * against SentencePiece's {@code spm_encode}.
 */
package dev.sparkllm.engine.tokenizer;
