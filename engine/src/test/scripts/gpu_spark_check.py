#!/usr/bin/env python3
"""`bin/llm batch --device cuda` in Spark local mode against `bin/llm generate --device cuda` on a GPU host.

  gpu_spark_check.py LLM MODEL_DIR PROMPTS_JSONL OUT_DIR      (SPARK_JARS must name a folder of Spark's jars)

Writes OUT_DIR/spark-prompts.jsonl: the prompts file's rows plus bad ones (a null prompt, an empty prompt, a row
whose temperature column is negative, a prompt far over the context with --truncation fail), runs the job greedily
over it with JSON output, then generates the good rows' prompts with `llm generate --device cuda`. Checks that
every input id has exactly one output row, that each bad row is an error row and no good one is, and that each
good row's text equals the generate command's. Prints and writes OUT_DIR/spark-check.json; exit 1 on a failed check.
"""
import glob, json, os, subprocess, sys, time

llm, model, prompts, out = sys.argv[1:5]
os.makedirs(out, exist_ok=True)
good = [json.loads(line) for line in open(prompts) if line.strip()]
rows = [{"id": r["id"], "prompt": r["prompt"], "temp": None} for r in good]
bad = {"bad-null": None, "bad-empty": "", "bad-temperature": "And God said", "bad-long": "In the beginning " * 400}
for i, (rid, prompt) in enumerate(bad.items()):
    rows.insert(3 + 4 * i, {"id": rid, "prompt": prompt, "temp": -1.0 if rid == "bad-temperature" else None})
input_path = os.path.join(out, "spark-prompts.jsonl")
with open(input_path, "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")

device = os.environ.get("CHECK_DEVICE", "cuda")  # cpu: try the check on a machine without a GPU
common = ["--temperature", "0", "--max-new-tokens", "24"]
table = os.path.join(out, "spark-out")
t0 = time.time()
# the job's log goes to its file as it runs, so a run cut short by a time limit still shows how far it got
with open(os.path.join(out, "spark-job.log"), "w") as log:
    job = subprocess.run([llm, "batch", "--model", model, "--input", input_path, "--output", table, "--output-format", "json",
                          "--device", device, "--row-param", "temperature=temp", "--truncation", "fail", "--show", "30"]
                         + common, stdout=log, stderr=subprocess.STDOUT, text=True)
job_s = time.time() - t0
outputs = [json.loads(line) for p in sorted(glob.glob(os.path.join(table, "chunk=*", "*.json")))
           for line in open(p) if line.strip()]
gen = subprocess.run([llm, "generate", "--model", model, "--device", device, "--json"] + common
                     + [a for r in good for a in ("--prompt", r["prompt"])], capture_output=True, text=True)
open(os.path.join(out, "spark-generate.log"), "w").write(gen.stderr)
generated = [json.loads(line) for line in gen.stdout.splitlines() if line.startswith("{")]

by_id = {}
for o in outputs:
    by_id.setdefault(str(o["id"]), []).append(o)
problems = []
for r in rows:
    got = by_id.get(r["id"], [])
    if len(got) != 1:
        problems.append(f"{r['id']}: {len(got)} output rows")
    elif (r["id"] in bad) != (got[0].get("error") is not None):
        problems.append(f"{r['id']}: error {got[0].get('error')!r}")
extra = set(by_id) - {r["id"] for r in rows}
if extra:
    problems.append(f"output ids not in the input: {sorted(extra)}")
equal = 0
for r, g in zip(good, generated):
    o = by_id.get(r["id"], [{}])[0]
    if o.get("generation") == g.get("text"):
        equal += 1
    else:
        problems.append(f"{r['id']}: job {o.get('generation')!r} vs generate {g.get('text')!r}")
if len(generated) != len(good):
    problems.append(f"generate printed {len(generated)} results for {len(good)} prompts")
result = {"job_exit": job.returncode, "generate_exit": gen.returncode, "input_rows": len(rows), "output_rows": len(outputs),
          "error_rows": sum(1 for o in outputs if o.get("error") is not None), "greedy_equal": equal,
          "greedy_rows": len(good), "job_seconds": round(job_s, 1), "problems": problems}
json.dump(result, open(os.path.join(out, "spark-check.json"), "w"), indent=1)
print(json.dumps(result, indent=1))
sys.exit(0 if not problems and job.returncode == 0 and gen.returncode == 0 else 1)
