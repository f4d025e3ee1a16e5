#!/usr/bin/env python3
"""The Spark job's generation speed against the engine alone on the same rows (issue 13's `spark_ratio`).

  gpu_spark_ratio.py LLM MODEL_DIR OUT_DIR [--rows 1000] [--new 128] [--device cuda]   (SPARK_JARS as for `llm batch`)

Writes ROWS prompts, then runs `llm batch` (Spark local mode) and `llm generate --prompts-file` on them, both greedy
with --ignore-eos so every row generates exactly NEW tokens. For each run it records the process's wall time, the
model load time it logged, its peak resident memory (VmHWM of the JVM, polled) and the GPU memory in use (nvidia-smi,
polled). `spark_ratio` is the job's completion tokens/s over the engine's, both over the time after the model was
loaded; `spark_ratio_wall` is the same over the whole processes (Spark's start-up and the staging included);
`spark_ratio_generation` compares the job's generation phase alone (its summary's `generate_seconds`, the chunk jobs'
span, less the engine's load) with the engine's time after its load: what Spark costs while rows are generated,
without the driver's fixed seconds of set-up and checks that a short run is dominated by.
Prints and writes OUT_DIR/spark-ratio.json; exit 1 when a row is missing or a run failed.
"""
import argparse, glob, json, os, re, subprocess, time

from gpu_host import gpus

p = argparse.ArgumentParser()
p.add_argument("llm"); p.add_argument("model"); p.add_argument("out")
p.add_argument("--rows", type=int, default=1000); p.add_argument("--new", type=int, default=128)
p.add_argument("--device", default="cuda")
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)

openings = ["In the beginning", "And the LORD said unto Moses", "Blessed are the meek", "Write a short note about",
            "Summarise the following record:", "The weather in the valley", "Once upon a time", "Dear customer,"]
prompts = [f"{openings[i % len(openings)]} (row {i}): tell me about item number {i * 7919 % 100003}" for i in range(a.rows)]
rows_path, text_path = os.path.join(a.out, "ratio-prompts.jsonl"), os.path.join(a.out, "ratio-prompts.txt")
with open(rows_path, "w") as f:
    for i, t in enumerate(prompts):
        f.write(json.dumps({"id": f"r{i:05d}", "prompt": t}) + "\n")
with open(text_path, "w") as f:
    f.write("\n".join(prompts) + "\n")
common = ["--device", a.device, "--temperature", "0", "--max-new-tokens", str(a.new), "--ignore-eos"]


def run(cmd, log_path, stdout_path=None):
    """Runs cmd (whose launcher execs the JVM, so the child's pid is the JVM's), polling its memory every second."""
    t0 = time.time()
    with open(log_path, "w") as log, open(stdout_path or os.devnull, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out if stdout_path else log, stderr=log, text=True)
        hwm_kb, gpu_mb = 0, 0
        while proc.poll() is None:
            try:
                status = open(f"/proc/{proc.pid}/status").read()
                hwm_kb = max(hwm_kb, int(re.search(r"VmHWM:\s+(\d+)", status).group(1)))
            except (OSError, AttributeError):
                pass
            gpu_mb = max([gpu_mb] + [mem for _, mem, _ in gpus()])
            time.sleep(1)
    text = open(log_path).read()
    # the backend logs "weights X loaded in S s"; the job's holder logs "engine created ... in N ms"
    m = re.search(r"loaded in ([\d.]+) s", text)
    load_s = float(m.group(1)) if m else 0.0
    m = re.search(r"engine created .* in (\d+) ms", text)
    if m: load_s = max(load_s, int(m.group(1)) / 1000)
    return {"exit": proc.returncode, "wall_s": round(time.time() - t0, 2), "load_s": load_s,
            "peak_rss_gb": round(hwm_kb / 1e6, 2), "gpu_mem_peak_mb": gpu_mb}


table = os.path.join(a.out, "ratio-out")
job = run([a.llm, "batch", "--model", a.model, "--input", rows_path, "--output", table, "--output-format", "json",
           "--show", "0"] + common, os.path.join(a.out, "ratio-job.log"))
outputs = [json.loads(l) for f in glob.glob(os.path.join(table, "chunk=*", "*.json")) for l in open(f) if l.strip()]
summary_path = os.path.join(table, "_sparkllm_summary.json")
summary = json.load(open(summary_path)) if os.path.exists(summary_path) else {}
job["generate_seconds"] = summary.get("generate_seconds")
job["completion_tokens"] = summary.get("completion_tokens", sum(o.get("completion_tokens") or 0 for o in outputs))
job["rows_out"] = len(outputs)
job["rows_failed"] = sum(1 for o in outputs if o.get("error") is not None)

gen_out = os.path.join(a.out, "ratio-generate.jsonl")
engine = run([a.llm, "generate", "--model", a.model, "--prompts-file", text_path, "--json"] + common,
             os.path.join(a.out, "ratio-generate.log"), gen_out)
results = [json.loads(l) for l in open(gen_out) if l.startswith("{")]
engine["completion_tokens"] = sum(r.get("completion_tokens") or 0 for r in results)
engine["rows_out"] = len(results)


def rate(r, after_load):
    seconds = r["wall_s"] - (r["load_s"] if after_load else 0)
    return r["completion_tokens"] / seconds if seconds > 0 else 0.0


for r in (job, engine):
    r["tok_s_after_load"] = round(rate(r, True), 1)
    r["tok_s_wall"] = round(rate(r, False), 1)
result = {"model": a.model, "device": a.device, "rows": a.rows, "new_tokens": a.new, "job": job, "engine": engine,
          "spark_ratio": round(rate(job, True) / rate(engine, True), 3) if rate(engine, True) else None,
          "spark_ratio_wall": round(rate(job, False) / rate(engine, False), 3) if rate(engine, False) else None}
gen = (job.get("generate_seconds") or 0) - job["load_s"]
if gen > 0 and rate(engine, True):
    job["tok_s_generation"] = round(job["completion_tokens"] / gen, 1)
    result["spark_ratio_generation"] = round(job["completion_tokens"] / gen / rate(engine, True), 3)
ok = job["exit"] == 0 and engine["exit"] == 0 and job["rows_out"] == a.rows and job["rows_failed"] == 0 \
    and engine["rows_out"] == a.rows
result["ok"] = ok
json.dump(result, open(os.path.join(a.out, "spark-ratio.json"), "w"), indent=1)
print(json.dumps(result, indent=1))
raise SystemExit(0 if ok else 1)
