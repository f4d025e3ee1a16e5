#!/usr/bin/env python3
"""How transformers 5 tokenizes with a Llama tokenizer_config.json whose "legacy" is false, true or absent
(and, as a check of our reading of its source, a CodeLlama class with legacy true, and add_prefix_space false).

Runs on the GPU machine (transformers + tokenizers); from the repository root:
  python3 engine/src/test/scripts/transformers_llama_tokenizer_probe.py OUT.json
Writes ids and decodes (keeping and skipping special tokens) per mode, and the raw tokenizers ids, for a few texts that tell the modes apart.
"""
import json, os, shutil, sys, tempfile
from transformers import AutoTokenizer
from tokenizers import Tokenizer
src = "examples/models/kjv-tiny-gptq-4bit-128g-actorder"
texts = ["<s>[INST] Who begat Enos? [/INST]", " Hello world", "\u2581Hello", "Hello</s>world", "In the beginning", "  two spaces", "a\n<s>b"]
out = {}
# mode -> edit of tokenizer_config.json; codellama_true and noprefix check readings of transformers 5's source
# (CodeLlamaTokenizer ignores legacy; add_prefix_space false means prepend_scheme "never" and no Strip decoder).
edits = {
    "false": lambda c: c.update(legacy=False),
    "true": lambda c: c.update(legacy=True),
    "absent": lambda c: c.pop("legacy", None),
    "codellama_true": lambda c: c.update(legacy=True, tokenizer_class="CodeLlamaTokenizer"),
    "noprefix": lambda c: c.update(add_prefix_space=False),
}
for mode, edit in edits.items():
    d = tempfile.mkdtemp()
    for f in ["tokenizer.json", "tokenizer_config.json", "config.json"]:
        shutil.copy(os.path.join(src, f), d)
    cfg = json.load(open(os.path.join(d, "tokenizer_config.json")))
    edit(cfg)
    json.dump(cfg, open(os.path.join(d, "tokenizer_config.json"), "w"))
    tok = AutoTokenizer.from_pretrained(d)
    out[mode] = {t: tok(t)["input_ids"] for t in texts}
    out[mode + "_decode"] = {t: tok.decode(tok(t)["input_ids"]) for t in texts}
    out[mode + "_decode_skip"] = {t: tok.decode(tok(t)["input_ids"], skip_special_tokens=True) for t in texts}
    out[mode + "_class"] = type(tok).__name__
raw = Tokenizer.from_file(os.path.join(src, "tokenizer.json"))
out["raw"] = {t: raw.encode(t).ids for t in texts}
json.dump(out, open(sys.argv[1], "w"), indent=1)
print(json.dumps(out)[:3000])
