// Parity oracle for dev.sparkllm.engine.tokenizer: encodes a shared corpus with Hugging Face `tokenizers`
// (its Node binding) and writes the expected ids and decodes as JSON for the JUnit tests to compare against.
//
// usage: node oracle.mjs <corpus.json> <outDir> [<name>=<tokenizer dir> ...] [--golden=<name>:<chat_templates.json>]
//                         [--legacy-golden=<name>:<transformers_llama_legacy.json>] [--chat=<conversations.json>]
//   builds <outDir>/llama2/tokenizer.json from llama-tokenizer-js's vocabulary and merges (the real Llama-2
//   vocabulary, in the shape of Meta's tokenizer.json, with Meta's tokenizer_config.json saying "legacy": false)
//   and <outDir>/llama2-spm/tokenizer.model (the same vocabulary as a SentencePiece model, alone in its dir, for
//   spm_encode), then writes <outDir>/expected.json covering llama2 and every named tokenizer dir, variants
//   exercising other components (variants.mjs), llama-tokenizer-js's own test cases (recorded by running its test
//   suite), and, with --chat, the ids of Meta's reference chat_completion for each conversation on llama2.
//
//   Each dir's expectations come in the two tokenizer modes of the engine (TokenizerMode):
//   - <name>: mode "files", tokenizer.json exactly as `tokenizers` applies it, whatever tokenizer_config.json says;
//   - <name>-transformers5: mode "transformers5", where a Llama tokenizer class applies (named by
//     tokenizer_config.json, or picked by config.json's model_type): transformers 5 builds such a tokenizer with no
//     normalizer and a Metaspace pre-tokenizer (split false) whose prepend_scheme is "first" (legacy false or
//     absent), "always" (legacy true; CodeLlama ignores legacy) or "never" (add_prefix_space false). We reproduce
//     that by rewriting tokenizer.json that way (transformersTokenizer). --golden and --legacy-golden check the
//     emulation against ids transformers itself computed (engine/src/test/scripts/chat_template_golden.py and
//     transformers_llama_tokenizer_probe.py) for the named dir, and fail on any difference.
//   Where a Llama class applies, also <name>-raw (the same tokenizer.json without config files), and for a "legacy":
//   false dir its copies <name>-legacy ("legacy": true) and <name>-noprefix ("add_prefix_space": false), each in
//   both modes.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import llamaTokenizer from 'llama-tokenizer-js';
import { variants } from './variants.mjs';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('tokenizers');

const args = process.argv.slice(2);
const goldenArg = args.find((a) => a.startsWith('--golden='));
const legacyGoldenArg = args.find((a) => a.startsWith('--legacy-golden='));
const chatArg = args.find((a) => a.startsWith('--chat='));
const [corpusFile, outDir, ...namedDirs] = args.filter((a) => ![goldenArg, legacyGoldenArg, chatArg].includes(a));
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

// The same vocabulary as a SentencePiece tokenizer.model (a serialised ModelProto), as Meta ships Llama-2's: BPE
// with byte fallback, <unk>/<s>/</s> as ids 0-2, byte pieces 3-258, identity normalisation, a dummy prefix, runs
// of spaces kept. SentencePiece's BPE merges the adjacent pair whose merged piece scores highest, so each piece's
// score is minus the rank of the first merge in tokenizer.json that makes it: the order transformers' converter
// took the merges from (pieces no merge makes, the single characters, score lowest). Written alone in its dir, so
// the engine loads it as SentencePiece.
function writeLlama2Model(dir) {
  const varint = (n) => {
    const out = [];
    let v = BigInt.asUintN(64, BigInt(n));
    do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; out.push(b); } while (v);
    return out;
  };
  const key = (field, wire) => varint(field * 8 + wire);
  const bytes = (field, b) => [...key(field, 2), ...varint(b.length), ...b];
  const int = (field, n) => [...key(field, 0), ...varint(n)];
  const float = (field, x) => { const b = Buffer.alloc(4); b.writeFloatLE(x); return [...key(field, 5), ...b]; };
  const utf8 = (text) => [...Buffer.from(text, 'utf8')];
  const firstRank = new Map();
  for (const [pair, rank] of llamaTokenizer.merges.entries()) {
    const piece = pair.replace(' ', '');
    if (!(firstRank.get(piece) <= rank)) firstRank.set(piece, rank);
  }
  const NORMAL = 1, UNKNOWN = 2, CONTROL = 3, BYTE = 6;
  const chunks = llamaTokenizer.vocabById.map((piece, id) => {
    const type = id === 0 ? UNKNOWN : id < 3 ? CONTROL : id < 259 ? BYTE : NORMAL;
    const score = type !== NORMAL ? 0 : -(firstRank.has(piece) ? firstRank.get(piece) : 1e6 + id);
    return Buffer.from(bytes(1, [...bytes(1, utf8(piece)), ...float(2, score), ...int(3, type)]));
  });
  // trainer_spec: model_type BPE, vocab_size, byte_fallback, unk/bos/eos/pad ids
  chunks.push(Buffer.from(bytes(2, [...int(3, 2), ...int(4, llamaTokenizer.vocabById.length), ...int(35, 1),
    ...int(40, 0), ...int(41, 1), ...int(42, 2), ...int(43, -1)])));
  // normalizer_spec: identity, add_dummy_prefix, no remove_extra_whitespaces, escape_whitespaces
  chunks.push(Buffer.from(bytes(3, [...bytes(1, utf8('identity')), ...int(3, 1), ...int(4, 0), ...int(5, 1)])));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'tokenizer.model'), Buffer.concat(chunks));
}

// Meta's reference chat_completion (llama/generation.py of the Llama-2 release): a system message is folded into
// the first user message as B_SYS + system + E_SYS + content; each user/assistant pair is encoded on its own as
// "[INST] {user.strip()} [/INST] {answer.strip()} " with BOS before and EOS after, the final user message as
// "[INST] {user.strip()} [/INST]" with BOS before. Meta encodes with SentencePiece, which never reads <s> or </s>
// in text: here `tokenizers` on llama2's tokenizer.json without its added tokens, which encodes text exactly as
// SentencePiece does (SentencePieceParityTest checks that with spm_encode).
const PY_WHITESPACE = '\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000';
const pyStrip = (text) => text.replace(new RegExp(`^[${PY_WHITESPACE}]+|[${PY_WHITESPACE}]+$`, 'gu'), '');
async function metaChatCompletion(textOnly, dialog) {
  const [B_INST, E_INST, B_SYS, E_SYS] = ['[INST]', '[/INST]', '<<SYS>>\n', '\n<</SYS>>\n\n'];
  if (dialog[0].role === 'system') {
    dialog = [{ role: dialog[1].role, content: B_SYS + dialog[0].content + E_SYS + dialog[1].content }, ...dialog.slice(2)];
  }
  dialog.forEach((m, i) => {
    if (m.role !== (i % 2 === 0 ? 'user' : 'assistant')) throw new Error(`message ${i} must be ${i % 2 === 0 ? 'user' : 'assistant'}`);
  });
  if (dialog[dialog.length - 1].role !== 'user') throw new Error('the last message must be from the user');
  const encode = async (text) => (await textOnly.encode(text, null, { addSpecialTokens: false })).getIds();
  const BOS = 1, EOS = 2;
  const ids = [];
  for (let i = 0; i + 1 < dialog.length; i += 2) {
    ids.push(BOS, ...(await encode(`${B_INST} ${pyStrip(dialog[i].content)} ${E_INST} ${pyStrip(dialog[i + 1].content)} `)), EOS);
  }
  ids.push(BOS, ...(await encode(`${B_INST} ${pyStrip(dialog[dialog.length - 1].content)} ${E_INST}`)));
  return ids;
}

async function llama2ChatCases(llamaDir, conversationsFile) {
  const json = JSON.parse(fs.readFileSync(path.join(llamaDir, 'tokenizer.json'), 'utf8'));
  json.added_tokens = [];
  const file = path.join(outDir, 'llama2-text-only.json');
  fs.writeFileSync(file, JSON.stringify(json));
  const textOnly = Tokenizer.fromFile(file);
  const cases = [];
  for (const c of JSON.parse(fs.readFileSync(conversationsFile, 'utf8'))) {
    cases.push({ name: c.name, messages: c.messages, ids: await metaChatCompletion(textOnly, c.messages) });
  }
  return { file: path.resolve(conversationsFile), cases };
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

// Llama tokenizer classes, each with whether it reads "legacy" (CodeLlamaTokenizer does not), and the class
// transformers picks from config.json's model_type when tokenizer_config.json names none.
const LLAMA_CLASSES = { LlamaTokenizer: true, LlamaTokenizerFast: true, CodeLlamaTokenizer: false, CodeLlamaTokenizerFast: false };
const MODEL_TYPE_CLASSES = { llama: 'LlamaTokenizerFast', mistral: 'LlamaTokenizerFast', mixtral: 'LlamaTokenizerFast' };

const readJsonIfPresent = (file) => (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null);

// transformers 5's prepend scheme for a dir, or null where no Llama class applies (tokenizer.json as written):
// "never" with add_prefix_space false, "always" with legacy true (classes that read it), else "first".
function llamaPrependScheme(tokenizerDir) {
  const config = readJsonIfPresent(path.join(tokenizerDir, 'tokenizer_config.json')) || {};
  const modelType = (readJsonIfPresent(path.join(tokenizerDir, 'config.json')) || {}).model_type;
  const cls = config.tokenizer_class || MODEL_TYPE_CLASSES[modelType];
  if (!(cls in LLAMA_CLASSES)) return null;
  if (config.add_prefix_space === false) return 'never';
  return LLAMA_CLASSES[cls] && config.legacy === true ? 'always' : 'first';
}

// The tokenizer transformers 5 would use for a dir: tokenizer.json as written where no Llama class applies;
// else tokenizer.json with transformers' normalizer (none), pre-tokenizer (Metaspace, split false) and decoder
// (Replace, ByteFallback, Fuse, Strip unless "never"), written beside the expectations as
// <outDir>/emulated/<name>.json. Returns { tok, emulation }.
function transformersTokenizer(tokenizerDir, name) {
  const file = path.join(tokenizerDir, 'tokenizer.json');
  const scheme = llamaPrependScheme(tokenizerDir);
  if (!scheme) return { tok: Tokenizer.fromFile(file), emulation: null };
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  json.normalizer = null;
  json.pre_tokenizer = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: scheme, split: false };
  json.decoder = { type: 'Sequence', decoders: [
    { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
    ...(scheme === 'never' ? [] : [{ type: 'Strip', content: ' ', start: 1, stop: 0 }])] };
  const emulatedDir = path.join(outDir, 'emulated');
  fs.mkdirSync(emulatedDir, { recursive: true });
  const emulatedFile = path.join(emulatedDir, name + '.json');
  fs.writeFileSync(emulatedFile, JSON.stringify(json));
  return { tok: Tokenizer.fromFile(emulatedFile), emulation: 'transformers5:' + scheme };
}

// A copy of a dir (tokenizer.json, config files) under <outDir>/<name>, its tokenizer_config.json edited.
function copyWithConfig(dir, name, edit) {
  const target = path.join(outDir, name);
  fs.mkdirSync(target, { recursive: true });
  fs.copyFileSync(path.join(dir, 'tokenizer.json'), path.join(target, 'tokenizer.json'));
  if (fs.existsSync(path.join(dir, 'config.json'))) fs.copyFileSync(path.join(dir, 'config.json'), path.join(target, 'config.json'));
  const config = readJsonIfPresent(path.join(dir, 'tokenizer_config.json')) || {};
  edit(config);
  fs.writeFileSync(path.join(target, 'tokenizer_config.json'), JSON.stringify(config, null, 2));
  return target;
}

// transformers 5's ids and decodes for "legacy" false / true / absent, and raw tokenizers' ids, recorded by
// engine/src/test/scripts/transformers_llama_tokenizer_probe.py for the named dir: the emulation (and raw
// tokenizers) must reproduce every one.
async function checkLegacyGolden(dir, name, goldenFile) {
  const golden = JSON.parse(fs.readFileSync(goldenFile, 'utf8'));
  const wrong = [];
  let checked = 0;
  const same = (label, want, got) => {
    if (JSON.stringify(want) !== JSON.stringify(got)) wrong.push(`${label}: transformers ${JSON.stringify(want)} emulation ${JSON.stringify(got)}`);
    checked++;
  };
  // The probe's modes as tokenizer_config.json edits; codellama_true and noprefix only in newer probe output.
  const edits = {
    false: (c) => { c.legacy = false; },
    true: (c) => { c.legacy = true; },
    absent: (c) => { delete c.legacy; },
    codellama_true: (c) => { c.legacy = true; c.tokenizer_class = 'CodeLlamaTokenizer'; },
    noprefix: (c) => { c.add_prefix_space = false; },
  };
  for (const [mode, edit] of Object.entries(edits)) {
    if (!golden[mode]) {
      if (['false', 'true', 'absent'].includes(mode)) wrong.push(`${goldenFile} has no "${mode}" mode`);
      continue;
    }
    const modeDir = copyWithConfig(dir, `${name}-legacy-${mode}`, edit);
    const { tok } = transformersTokenizer(modeDir, `${name}-legacy-${mode}`);
    for (const [text, ids] of Object.entries(golden[mode])) {
      const got = (await tok.encode(text, null, { addSpecialTokens: true })).getIds();
      same(`legacy ${mode} ids of ${JSON.stringify(text)}`, ids, got);
      same(`legacy ${mode} decode of ${JSON.stringify(text)}`, golden[mode + '_decode'][text], await tok.decode(ids, false));
      if (golden[mode + '_decode_skip']) {
        same(`legacy ${mode} decode skipping specials of ${JSON.stringify(text)}`, golden[mode + '_decode_skip'][text], await tok.decode(ids, true));
      }
    }
  }
  const raw = Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
  for (const [text, ids] of Object.entries(golden.raw)) {
    same(`raw ids of ${JSON.stringify(text)}`, ids, (await raw.encode(text, null, { addSpecialTokens: true })).getIds());
  }
  if (wrong.length) {
    console.error(`the emulation of transformers differs from ${goldenFile} in ${wrong.length} of ${checked} checks:\n${wrong.join('\n')}`);
    process.exit(1);
  }
  return { file: path.resolve(goldenFile), checked };
}

// Golden ids from transformers' apply_chat_template (no special tokens added) and tokenizer(text) (with them).
async function checkGolden(tok, goldenFile) {
  const golden = JSON.parse(fs.readFileSync(goldenFile, 'utf8'));
  const wrong = [];
  let checked = 0;
  const compare = async (label, text, ids, addSpecialTokens) => {
    const got = (await tok.encode(text, null, { addSpecialTokens })).getIds();
    if (JSON.stringify(got) !== JSON.stringify(ids)) wrong.push(`${label}: transformers ${JSON.stringify(ids)} emulation ${JSON.stringify(got)}`);
    checked++;
  };
  for (const c of golden.cases) if (!c.error) await compare(`${c.template} / ${c.conversation}`, c.text, c.ids, false);
  for (const r of golden.raw) await compare(`raw ${r.conversation}`, r.text, r.ids, true);
  if (wrong.length) {
    console.error(`the emulation of transformers differs from ${goldenFile} in ${wrong.length} of ${checked} cases:\n${wrong.join('\n')}`);
    process.exit(1);
  }
  return { file: path.resolve(goldenFile), transformers: golden.transformers, checked };
}

// The tokenizer of a dir in one of the engine's modes: "files" is tokenizer.json as written.
function tokenizerIn(mode, tokenizerDir, name) {
  if (mode === 'files') return { tok: Tokenizer.fromFile(path.join(tokenizerDir, 'tokenizer.json')), emulation: null };
  return transformersTokenizer(tokenizerDir, name);
}

async function expectations(tokenizerDir, name, mode) {
  const { tok, emulation } = tokenizerIn(mode, tokenizerDir, name);
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
  return { dir: path.resolve(tokenizerDir), mode, emulation, vocabSize, cases, streams };
}

const llamaDir = path.join(outDir, 'llama2');
writeLlama2(llamaDir);
const result = { tokenizers: {}, llamaTokenizerJs: recordLlamaTokenizerJsCases() };
// llama-tokenizer-js never recognises special tokens, so it is the reference for text whose special-token
// strings must stay text (content segments): BOS plus the text encoded as plain characters.
result.literalSpecials = corpus.filter((text) => /<\/?s>|<unk>/.test(text))
  .map((text) => ({ text, ids: llamaTokenizer.encode(text, true, true, false) }));
// Expectations for a dir in both modes; where a Llama class applies, also for <name>-raw (the same tokenizer.json
// in <outDir>/<name>-raw without tokenizer_config.json) and, for a legacy:false dir, its -legacy and -noprefix copies.
async function withRaw(name, dir) {
  result.tokenizers[name] = await expectations(dir, name, 'files');
  const scheme = llamaPrependScheme(dir);
  if (!scheme) return;
  result.tokenizers[name + '-transformers5'] = await expectations(dir, name, 'transformers5');
  const rawDir = path.join(outDir, name + '-raw');
  fs.mkdirSync(rawDir, { recursive: true });
  fs.copyFileSync(path.join(dir, 'tokenizer.json'), path.join(rawDir, 'tokenizer.json'));
  result.tokenizers[name + '-raw'] = await expectations(rawDir, name + '-raw', 'files');
  if (scheme === 'first') {
    for (const [suffix, edit] of [['-legacy', (c) => { c.legacy = true; }], ['-noprefix', (c) => { c.add_prefix_space = false; }]]) {
      const copy = copyWithConfig(dir, name + suffix, edit);
      result.tokenizers[name + suffix] = await expectations(copy, name + suffix, 'files');
      result.tokenizers[name + suffix + '-transformers5'] = await expectations(copy, name + suffix, 'transformers5');
    }
  }
}
writeLlama2Model(path.join(outDir, 'llama2-spm'));
await withRaw('llama2', llamaDir);
const named = {};
for (const arg of namedDirs) {
  const eq = arg.indexOf('=');
  named[arg.slice(0, eq)] = arg.slice(eq + 1);
  await withRaw(arg.slice(0, eq), arg.slice(eq + 1));
}
if (goldenArg) {
  const spec = goldenArg.slice('--golden='.length);
  const colon = spec.indexOf(':');
  const name = spec.slice(0, colon);
  if (!named[name]) {
    console.error(`--golden names tokenizer '${name}', which is not among the named dirs`);
    process.exit(2);
  }
  result.golden = { tokenizer: name, ...(await checkGolden(transformersTokenizer(named[name], name).tok, spec.slice(colon + 1))) };
}
if (legacyGoldenArg) {
  const spec = legacyGoldenArg.slice('--legacy-golden='.length);
  const colon = spec.indexOf(':');
  const name = spec.slice(0, colon);
  if (!named[name]) {
    console.error(`--legacy-golden names tokenizer '${name}', which is not among the named dirs`);
    process.exit(2);
  }
  result.legacyGolden = { tokenizer: name, ...(await checkLegacyGolden(named[name], name, spec.slice(colon + 1))) };
}
// Variants built from llama2 and (when given) kjv, each in its own directory without tokenizer_config.json.
const readJson = (dir) => JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
if (named.kjv) {
  const all = variants(readJson(llamaDir), readJson(named.kjv), outDir, corpusFile, corpus);
  for (const [name, json] of Object.entries(all)) {
    const dir = path.join(outDir, 'variants', name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
    result.tokenizers[name] = await expectations(dir, name, 'files');
  }
}
if (chatArg) result.llama2Chat = await llama2ChatCases(llamaDir, chatArg.slice('--chat='.length));
fs.writeFileSync(path.join(outDir, 'expected.json'), JSON.stringify(result));
console.log(`wrote ${path.join(outDir, 'expected.json')}`);
