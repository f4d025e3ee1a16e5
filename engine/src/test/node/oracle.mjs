// Parity oracle for dev.sparkllm.engine.tokenizer: encodes a shared corpus with Hugging Face `tokenizers`
// (its Node binding) and writes the expected ids and decodes as JSON for the JUnit tests to compare against.
//
// usage: node oracle.mjs <corpus.json> <outDir> [<name>=<tokenizer dir> ...]
//   builds <outDir>/llama2/tokenizer.json from llama-tokenizer-js's vocabulary and merges (the real Llama-2
//   vocabulary, in the shape of Meta's tokenizer.json), then writes <outDir>/expected.json covering llama2 and
//   every named tokenizer dir, variants exercising other components (variants.mjs), plus llama-tokenizer-js's own test cases (recorded by running its test suite).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import llamaTokenizer from 'llama-tokenizer-js';
import { variants } from './variants.mjs';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('tokenizers');

const [corpusFile, outDir, ...namedDirs] = process.argv.slice(2);
if (!corpusFile || !outDir) {
  console.error('usage: node oracle.mjs <corpus.json> <outDir> [<name>=<tokenizer dir> ...]');
  process.exit(2);
}
const corpus = JSON.parse(fs.readFileSync(corpusFile, 'utf8'));
fs.mkdirSync(outDir, { recursive: true });

// Llama-2's tokenizer.json as Meta ships it: BPE with byte fallback over the SentencePiece vocabulary,
// Prepend/Replace normaliser, no pre-tokenizer, Replace/ByteFallback/Fuse/Strip decoders, merges as "a b".
function writeLlama2(dir) {
  const vocab = {};
  llamaTokenizer.vocabById.forEach((token, id) => { vocab[token] = id; });
  const merges = [...llamaTokenizer.merges.entries()].sort((a, b) => a[1] - b[1]).map(([pair]) => pair);
  const special = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false,
    normalized: false, special: true });
  const json = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: { type: 'Sequence', normalizers: [
      { type: 'Prepend', prepend: '\u2581' },
      { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] },
    pre_tokenizer: null,
    post_processor: { type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
             { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } } },
    decoder: { type: 'Sequence', decoders: [
      { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
      { type: 'ByteFallback' }, { type: 'Fuse' },
      { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null,
      end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges },
  };
  const addedToken = (content) => ({ __type: 'AddedToken', content, lstrip: false, normalized: false,
    rstrip: false, single_word: false });
  const config = { add_bos_token: true, add_eos_token: false, bos_token: addedToken('<s>'),
    eos_token: addedToken('</s>'), unk_token: addedToken('<unk>'), pad_token: null,
    clean_up_tokenization_spaces: false, legacy: false, model_max_length: 1000000000000000019884624838656,
    tokenizer_class: 'LlamaTokenizer' };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2));
}

// llama-tokenizer-js's own test suite, recorded: its tests call encode/decode on the object they are given;
// we hand them the real tokenizer behind a recorder, so each passing assertion becomes an (input, output) case.
function recordLlamaTokenizerJsCases() {
  const encodes = [];
  const decodes = [];
  const recorder = {
    encode(text, addBos, addPrecedingSpace, logPerformance) {
      const ids = llamaTokenizer.encode(text, addBos, addPrecedingSpace, false);  // no timing output
      encodes.push({ text, ids, addBos, addPrecedingSpace });
      return ids;
    },
    decode(ids, addBos = true, addPrecedingSpace = true) {
      const text = llamaTokenizer.decode(ids, addBos, addPrecedingSpace);
      decodes.push({ ids, text, addBos, addPrecedingSpace });
      return text;
    },
  };
  llamaTokenizer.defaultTests(recorder);
  return { encodes, decodes };
}

async function expectations(tokenizerDir) {
  const tok = Tokenizer.fromFile(path.join(tokenizerDir, 'tokenizer.json'));
  const cases = [];
  for (const text of corpus) {
    const withSpecial = await tok.encode(text, null, { addSpecialTokens: true });
    const plain = await tok.encode(text, null, { addSpecialTokens: false });
    const ids = withSpecial.getIds();
    cases.push({
      text,
      ids,
      tokens: withSpecial.getTokens(),
      idsNoSpecial: plain.getIds(),
      decoded: await tok.decode(ids, false),
      decodedSkip: await tok.decode(ids, true),
    });
  }
  // Random id streams (seeded, so reruns agree): many byte-fallback ids, so invalid and split UTF-8 is common.
  let seed = 12345;
  const random = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const vocabSize = tok.getVocabSize(true);
  const streams = [];
  for (let s = 0; s < 40; s++) {
    const ids = [];
    const length = 1 + random(60);
    for (let i = 0; i < length; i++) ids.push(random(3) === 0 ? random(vocabSize) : random(300));
    streams.push({ ids, decoded: await tok.decode(ids, false), decodedSkip: await tok.decode(ids, true) });
  }
  return { dir: path.resolve(tokenizerDir), vocabSize, cases, streams };
}

const llamaDir = path.join(outDir, 'llama2');
writeLlama2(llamaDir);
const result = { tokenizers: {}, llamaTokenizerJs: recordLlamaTokenizerJsCases() };
// llama-tokenizer-js never recognises special tokens, so it is the reference for text whose special-token
// strings must stay text (content segments): BOS plus the text encoded as plain characters.
result.literalSpecials = corpus.filter((text) => /<\/?s>|<unk>/.test(text))
  .map((text) => ({ text, ids: llamaTokenizer.encode(text, true, true, false) }));
result.tokenizers.llama2 = await expectations(llamaDir);
const named = {};
for (const arg of namedDirs) {
  const eq = arg.indexOf('=');
  named[arg.slice(0, eq)] = arg.slice(eq + 1);
  result.tokenizers[arg.slice(0, eq)] = await expectations(arg.slice(eq + 1));
}
// Variants built from llama2 and (when given) kjv, each in its own directory without tokenizer_config.json.
const readJson = (dir) => JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
if (named.kjv) {
  const all = variants(readJson(llamaDir), readJson(named.kjv), outDir, corpusFile, corpus);
  for (const [name, json] of Object.entries(all)) {
    const dir = path.join(outDir, 'variants', name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
    result.tokenizers[name] = await expectations(dir);
  }
}
fs.writeFileSync(path.join(outDir, 'expected.json'), JSON.stringify(result));
console.log(`wrote ${path.join(outDir, 'expected.json')}`);
