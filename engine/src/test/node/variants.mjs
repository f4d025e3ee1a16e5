// Tokenizer variants that exercise the tokenizer.json components the two real tokenizers do not use
// (Metaspace pre-tokenizer and decoder, Split/Digits, Unicode normalizers, ByteLevel, unk handling, added-token
// flags). Each is a real tokenizer.json, validated by loading it into Hugging Face tokenizers.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Tokenizer, BPE, byteLevelPreTokenizer } = require('tokenizers');

const clone = (x) => JSON.parse(JSON.stringify(x));
const added = (id, content, flags = {}) => ({ id, content, single_word: false, lstrip: false, rstrip: false,
  normalized: false, special: false, ...flags });
const llamaDecoders = [{ type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
  { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }];
const llamaNormalizers = [{ type: 'Prepend', prepend: '\u2581' }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }];

function metaspace(base, scheme, split) {
  const t = clone(base);
  t.normalizer = null;
  t.pre_tokenizer = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: scheme, split };
  t.decoder = { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Metaspace', replacement: '\u2581',
    prepend_scheme: scheme, split }] };
  const n = Object.keys(t.model.vocab).length;
  t.added_tokens.push(added(n, '[INST]', { lstrip: true }), added(n + 1, '[/INST]', { special: true, lstrip: true, rstrip: true }),
    added(n + 2, '<<SYS>>', { normalized: true, single_word: true }), added(n + 3, 'world', { single_word: true }));
  return t;
}

// A byte-level BPE (GPT-2 style) trained by Hugging Face itself on the corpus text.
function byteLevel(dir, corpusFile, corpus) {
  const trainFile = path.join(dir, 'train.txt');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(trainFile, Array(20).fill(corpus.join('\n')).join('\n'));
  const tok = new Tokenizer(BPE.empty());
  tok.setPreTokenizer(byteLevelPreTokenizer(false, true));
  tok.train([trainFile]);
  const file = path.join(dir, 'trained.json');
  tok.save(file);
  const t = JSON.parse(fs.readFileSync(file, 'utf8'));
  t.decoder = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true };
  t.post_processor = { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true };
  const n = Math.max(...Object.values(t.model.vocab)) + 1;
  t.added_tokens = [added(n, '<|endoftext|>', { special: true }), added(n + 1, '<|user|>', { special: true, rstrip: true })];
  return t;
}

/** name -> tokenizer.json object. */
export function variants(llama2, kjv, dir, corpusFile, corpus) {
  const out = {};
  out['llama2-metaspace-first'] = metaspace(llama2, 'first', false);
  out['llama2-metaspace-always-split'] = metaspace(llama2, 'always', true);
  out['llama2-metaspace-never-split'] = metaspace(llama2, 'never', true);

  const nfkc = clone(kjv);
  nfkc.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' },
    { type: 'Strip', strip_left: true, strip_right: true, left: true, right: true },
    { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }, ...llamaNormalizers] };
  out['kjv-nfkc-lower-strip'] = nfkc;
  for (const form of ['NFC', 'NFD', 'NFKD']) {
    const t = clone(kjv);
    t.normalizer = { type: 'Sequence', normalizers: [{ type: form }, ...llamaNormalizers] };
    out['kjv-' + form.toLowerCase()] = t;
  }
  const behaviors = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];
  behaviors.forEach((behavior, i) => {
    const t = clone(kjv);
    t.pre_tokenizer = { type: 'Sequence', pretokenizers: [
      { type: 'Digits', individual_digits: i % 2 === 0 },
      { type: 'Split', pattern: i % 2 ? { String: '\u2581' } : { Regex: '[\u2581\\p{P}]+' }, behavior, invert: i === 3 }] };
    t.decoder = { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { Regex: '\u2581+' }, content: ' ' },
      { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 2, stop: 0 }] };  // stop > 0 panics in tokenizers on an empty text
    out['kjv-split-' + behavior] = t;
  });
  const unk = clone(kjv);
  unk.model.byte_fallback = false;
  unk.decoder = { type: 'Sequence', decoders: llamaDecoders.filter((d) => d.type !== 'ByteFallback') };
  out['kjv-unk-fused'] = unk;
  const unkUnfused = clone(unk);
  unkUnfused.model.fuse_unk = false;
  unkUnfused.decoder = null;
  out['kjv-unk-unfused-nodecoder'] = unkUnfused;
  const ignoreMerges = clone(kjv);
  ignoreMerges.model.ignore_merges = true;
  ignoreMerges.model.merges = ignoreMerges.model.merges.map((m) => m.join(' '));
  ignoreMerges.post_processor = { type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
    pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } } };
  out['kjv-ignore-merges-bos-eos'] = ignoreMerges;
  out['bytelevel'] = byteLevel(path.join(dir, 'bytelevel'), corpusFile, corpus);
  // Llama-3's shape: its word regex as a Split, then ByteLevel without its own regex, and ignore_merges.
  const llama3 = clone(out['bytelevel']);
  llama3.pre_tokenizer = { type: 'Sequence', pretokenizers: [
    { type: 'Split', pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" },
      behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] };
  llama3.model.ignore_merges = true;
  llama3.post_processor = { type: 'Sequence', processors: [
    { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [llama3.added_tokens[0].id], tokens: ['<|endoftext|>'] } } }] };
  out['bytelevel-llama3-split'] = llama3;
  // The remaining pre-tokenizers, each followed by ByteLevel (without its regex) to reach the trained alphabet.
  const noRegexByteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };
  const withPreTokenizer = (name, pretokenizers, normalizer = null) => {
    const t = clone(out['bytelevel']);
    t.pre_tokenizer = { type: 'Sequence', pretokenizers: [...pretokenizers, noRegexByteLevel] };
    t.normalizer = normalizer;
    out[name] = t;
  };
  withPreTokenizer('bytelevel-whitespace', [{ type: 'Whitespace' }]);
  withPreTokenizer('bytelevel-bert', [{ type: 'BertPreTokenizer' }],
    { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }, { type: 'Lowercase' }] });
  withPreTokenizer('bytelevel-wssplit-punct', [{ type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Contiguous' }]);
  return out;
}
