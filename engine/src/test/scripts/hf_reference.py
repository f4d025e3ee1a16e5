#!/usr/bin/env python3
"""Reference outputs from Hugging Face transformers for the engine's CPU backend tests.

Runs on a machine with torch and transformers (the project's GPU machine has them; no GPTQ loader is
needed). Each GPTQ checkpoint is dequantised in torch from the format's definition, independently of the
engine's Java code:

  qweight int32 [in*bits/32, out]: value i of column o sits at bit bits*i of the column's little-endian bit
      stream (3-bit values straddle words), least significant first;
  qzeros  int32 [groups, out*bits/32]: the same packing along the output dimension; checkpoint_format "gptq"
      ("v1") stores zero-points minus one, "gptq_v2" stores them as they are;
  scales  fp16 [groups, out]; g_idx int32 [in] maps input row i to its group (act-order scrambles it);
  W[o, i] = scales[g_idx[i], o] * (q[i, o] - zero[g_idx[i], o]).

The dequantised weights are loaded into LlamaForCausalLM in float32 (TF32 off) and used for greedy
generation with log-probabilities and for windowed perplexity, written as one JSON file.

usage: hf_reference.py OUT.json MODEL_DIR[=NAME]... [--heldout FILE] [--window 256] [--new-tokens 32]
"""
import argparse
import json
import math
import os
import sys

import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer as RawTokenizer
from transformers import AutoConfig, AutoTokenizer, LlamaForCausalLM

PROMPTS = [
    "In the beginning God created",
    "And the LORD said unto Moses,",
    "Blessed are the",
    "For God so loved the world, that",
    "The quick brown fox jumps over the lazy dog.",
]


def unpack_bits(packed, bits, count, dim):
    """Unpacks `count` values of `bits` bits along `dim` of an int32 tensor, least significant first."""
    words = packed.to(torch.int64) & 0xFFFFFFFF
    if dim == 1:
        words = words.t()
    idx = torch.arange(count, device=words.device)
    bit = idx * bits
    word = bit // 32
    shift = (bit % 32).unsqueeze(1)
    lo = words[word] >> shift
    nxt = torch.clamp(word + 1, max=words.shape[0] - 1)
    hi = torch.where(shift + bits > 32, words[nxt] << (32 - shift), torch.zeros_like(lo))
    vals = (lo | hi) & ((1 << bits) - 1)
    return vals.t() if dim == 1 else vals


def quant_config(model_dir):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    q = cfg.get("quantization_config")
    path = os.path.join(model_dir, "quantize_config.json")
    if q is None and os.path.exists(path):
        q = json.load(open(path))
    return q


def load_tensors(model_dir, q):
    files = [f for f in os.listdir(model_dir) if f.endswith(".safetensors")]
    tensors = {}
    for f in sorted(files):
        tensors.update(load_file(os.path.join(model_dir, f)))
    if q is None:
        return {k: v.float() for k, v in tensors.items()}
    bits = q["bits"]
    v1 = q.get("checkpoint_format", "gptq") == "gptq"
    out = {}
    for name, t in tensors.items():
        if name.endswith(".qweight"):
            base = name[: -len(".qweight")]
            qweight = tensors[base + ".qweight"]
            in_features = qweight.shape[0] * 32 // bits
            out_features = qweight.shape[1]
            qv = unpack_bits(qweight, bits, in_features, 0)                      # [in, out]
            zeros = unpack_bits(tensors[base + ".qzeros"], bits, out_features, 1)  # [groups, out]
            if v1:
                zeros = zeros + 1
            scales = tensors[base + ".scales"].float()                            # [groups, out]
            g_idx = tensors[base + ".g_idx"].long()                               # [in]
            w = scales[g_idx] * (qv.float() - zeros[g_idx].float())               # [in, out]
            out[base + ".weight"] = w.t().contiguous()
        elif name.endswith((".qzeros", ".scales", ".g_idx", ".bias")) and name.rsplit(".", 1)[0] + ".qweight" in tensors:
            continue
        else:
            out[name] = t.float()
    return out


def build_model(model_dir, device):
    q = quant_config(model_dir)
    config = AutoConfig.from_pretrained(model_dir)
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    try:
        config._attn_implementation = "eager"
    except Exception as e:  # older/newer transformers spell this differently; sdpa in float32 is fine too
        print("note: could not select eager attention:", e, file=sys.stderr)
    model = LlamaForCausalLM(config)
    state = load_tensors(model_dir, q)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if "rotary" not in m]
    if missing or unexpected:
        raise SystemExit(f"{model_dir}: missing {missing} unexpected {unexpected}")
    return model.float().to(device).eval()


@torch.no_grad()
def greedy(model, tok, raw, prompt, new_tokens, device):
    ids = tok(prompt, add_special_tokens=True)["input_ids"]
    raw_ids = raw.encode(prompt).ids
    seq = list(ids)
    steps = []
    for _ in range(new_tokens):
        logits = model(torch.tensor([seq], device=device)).logits[0, -1].float()
        logp = torch.log_softmax(logits, dim=-1)
        top = torch.topk(logp, 5)
        nxt = int(torch.argmax(logits))
        steps.append({
            "token": nxt,
            "logprob": float(logp[nxt]),
            "top_ids": [int(i) for i in top.indices],
            "top_logprobs": [float(v) for v in top.values],
            "margin": float(top.values[0] - top.values[1]),
        })
        seq.append(nxt)
        if nxt == tok.eos_token_id:
            break
    return {"prompt": prompt, "prompt_ids": ids, "tokenizers_prompt_ids": raw_ids, "output_ids": seq[len(ids):],
            "text": tok.decode(seq[len(ids):], skip_special_tokens=True), "steps": steps}


@torch.no_grad()
def perplexity(model, tok, lines, window, device):
    stream = []
    for line in lines:
        stream += tok(line, add_special_tokens=True)["input_ids"] + [tok.eos_token_id]
    nll, count = 0.0, 0
    start = 0
    while start + 1 < len(stream):
        chunk = stream[start: start + window + 1]
        logits = model(torch.tensor([chunk[:-1]], device=device)).logits[0].float()
        logp = torch.log_softmax(logits, dim=-1)
        target = torch.tensor(chunk[1:], device=device)
        nll -= float(logp.gather(1, target.unsqueeze(1)).sum())
        count += len(chunk) - 1
        start += window
    return {"perplexity": math.exp(nll / count), "tokens": count, "window": window}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("models", nargs="+")
    ap.add_argument("--heldout")
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--new-tokens", type=int, default=32)
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = "cuda" if torch.cuda.is_available() else "cpu"
    heldout = [l.strip() for l in open(args.heldout)] if args.heldout else []
    heldout = [l for l in heldout if l]
    result = {"generator": "hf_reference.py", "torch": torch.__version__,
              "transformers": __import__("transformers").__version__, "device": device,
              "dtype": "float32", "models": {}}
    for spec in args.models:
        path, _, name = spec.partition("=")
        name = name or os.path.basename(os.path.normpath(path))
        tok = AutoTokenizer.from_pretrained(path)
        raw = RawTokenizer.from_file(os.path.join(path, "tokenizer.json"))
        model = build_model(path, device)
        entry = {"generations": [greedy(model, tok, raw, p, args.new_tokens, device) for p in PROMPTS]}
        if heldout:
            entry["heldout"] = perplexity(model, tok, heldout, args.window, device)
        result["models"][name] = entry
        print(name, entry.get("heldout"), repr(entry["generations"][0]["text"]), file=sys.stderr, flush=True)
        del model
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
