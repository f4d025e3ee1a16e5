#!/usr/bin/env python3
"""Peers for `llm bench gpu`, timed on the same GPU in the same call: fp16 torch.matmul and torch's int4
kernel (aten._weight_int4pack_mm, group 128, the kernel gpt-fast uses) at Llama-2-70B layer shapes, and a
whole 70B decode step with every linear through the int4 kernel, SDPA attention over a 512-token KV cache
and bf16 lm_head, replayed as one CUDA graph (random weights). Prints JSON to stdout.

usage: gpu_peers.py [--batches 1,16,64,128,256] [--steps 1,16,64,256]
"""
import argparse, json, time
import torch
import torch.nn.functional as F

SHAPES = [("qkv", 8192, 10240), ("o", 8192, 8192), ("gate_up", 8192, 57344), ("down", 28672, 8192)]


def bench(fn, reps=20):
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / reps


def int4_layer(k, n, group=128):
    w = torch.randint(0, 16, (n, k), dtype=torch.int32, device="cuda")
    packed = ((w[:, ::2] << 4) | w[:, 1::2]).to(torch.uint8)
    wp = torch.ops.aten._convert_weight_to_int4pack(packed, 8)
    sz = torch.empty(k // group, n, 2, dtype=torch.bfloat16, device="cuda")
    sz[..., 0] = 0.0045
    sz[..., 1] = 0.0
    return wp, sz


def int4_mm(x, layer, group=128):
    return torch.ops.aten._weight_int4pack_mm(x, layer[0], group, layer[1])


def kernels(batches):
    rows = []
    for name, k, n in SHAPES:
        w16 = [torch.randn(k, n, dtype=torch.float16, device="cuda") * 0.02 for _ in range(2)]
        w4 = int4_layer(k, n)
        for b in batches:
            x16 = torch.randn(b, k, dtype=torch.float16, device="cuda")
            xb = x16.to(torch.bfloat16)
            i = [0]

            def f16():
                i[0] ^= 1
                torch.matmul(x16, w16[i[0]])
            ms16 = bench(f16)
            try:
                ms4 = bench(lambda: int4_mm(xb, w4))
            except Exception as e:  # the kernel's API moves between torch versions
                ms4 = None
            rows.append({"shape": name, "k": k, "n": n, "batch": b, "fp16_ms": ms16, "int4_ms": ms4})
        del w16, w4
        torch.cuda.empty_cache()
    return rows


def whole_step(batches, layers=80, ctx=512):
    """One 70B decode step through torch's int4 kernel, as one CUDA graph; tokens per second per batch."""
    hidden, heads, kv, hd, inter, vocab = 8192, 64, 8, 128, 28672, 32000
    L = [dict(qkv=int4_layer(hidden, 10240), o=int4_layer(hidden, hidden), gu=int4_layer(hidden, 2 * inter),
              down=int4_layer(inter, hidden)) for _ in range(layers)]
    head = torch.randn(hidden, vocab, dtype=torch.bfloat16, device="cuda") * 0.02
    out = {}
    for b in batches:
        kc = torch.randn(layers, b, kv, ctx, hd, dtype=torch.bfloat16, device="cuda")
        vc = torch.randn(layers, b, kv, ctx, hd, dtype=torch.bfloat16, device="cuda")
        x0 = torch.randn(b, hidden, dtype=torch.bfloat16, device="cuda")

        def step():
            x = x0
            for l in range(layers):
                h = F.rms_norm(x, (hidden,))
                qkv = int4_mm(h, L[l]["qkv"])
                q = qkv[:, :hidden].view(b, heads, 1, hd)
                a = F.scaled_dot_product_attention(q, kc[l], vc[l], enable_gqa=True).reshape(b, hidden)
                x = x + int4_mm(a, L[l]["o"])
                h = F.rms_norm(x, (hidden,))
                gu = int4_mm(h, L[l]["gu"])
                x = x + int4_mm(F.silu(gu[:, :inter]) * gu[:, inter:], L[l]["down"])
            return F.rms_norm(x, (hidden,)) @ head

        try:
            s = torch.cuda.Stream()
            with torch.cuda.stream(s):
                step()
            torch.cuda.synchronize()
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g):
                step()
            ms = bench(g.replay, reps=5)
            out[str(b)] = {"ms": ms, "tok_s": b / (ms / 1e3)}
            del g
        except Exception as e:
            out[str(b)] = {"error": str(e)[:200]}
        del kc, vc
        torch.cuda.empty_cache()
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", default="1,16,64,128,256")
    ap.add_argument("--steps", default="1,16,64")
    a = ap.parse_args()
    torch.manual_seed(0)
    result = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
              "kernels": kernels([int(b) for b in a.batches.split(",")])}
    if a.steps:
        result["int4_whole_step_cuda_graph"] = whole_step([int(b) for b in a.steps.split(",")])
    print(json.dumps(result, indent=1))
