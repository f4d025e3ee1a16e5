#!/usr/bin/env python3
"""One executor per GPU on a two-GPU host (issue 14): a Spark standalone master and worker on loopback, the worker
given the host's GPUs by conf/gpu-discovery.sh, and the batch job submitted twice over the same prompts: once
limited to one executor (one GPU), once with two executors (one GPU each).

  gpu_two_gpus.py BUNDLE_DIR SPARK_JARS_DIR MODEL_DIR OUT_DIR [--rows 2000] [--new 128] [--device cuda]

Runs from the repository root (for conf/gpu-discovery.sh). BUNDLE_DIR is `bin/llm bundle`'s folder (its Java
runtime runs every JVM, its jars are the application); SPARK_JARS_DIR holds Spark's jars. Each executor asks for one
GPU and each task for one GPU, so a GPU's engine is fed by one task at a time, with the job's window of requests in
flight. While a run goes, nvidia-smi is polled for each GPU's memory and load. Checks, per run: every row in the
output once and none failed; in the two-executor run, the executors' engines on two different devices (their
"engine created" log lines) and both GPUs used. Writes OUT_DIR/two-gpus.json with `gpus: 2`, both throughputs
(completion tokens over the job's wall time, Spark start-up included, as a user sees it) and `scaling`.
"""
import argparse, glob, json, os, re, shutil, socket, subprocess, sys, time

from gpu_host import gpus

p = argparse.ArgumentParser()
p.add_argument("bundle"); p.add_argument("spark_jars"); p.add_argument("model"); p.add_argument("out")
p.add_argument("--rows", type=int, default=2000); p.add_argument("--new", type=int, default=128)
p.add_argument("--device", default="cuda", help="cpu: try the cluster's mechanics on a machine without GPUs")
p.add_argument("--executor-cores", type=int, default=4)
a = p.parse_args()
bundle, out = os.path.abspath(a.bundle), os.path.abspath(a.out)
os.makedirs(out, exist_ok=True)
java_home = os.path.join(bundle, "jre")
if not os.path.exists(os.path.join(java_home, "bin", "java")):
    subprocess.run(["tar", "xJf", os.path.join(bundle, "jre.tar.xz"), "-C", bundle], check=True)
app_jars = sorted(glob.glob(os.path.join(bundle, "lib", "*.jar")))
job_jar = next(j for j in app_jars if "sparkllm-job" in os.path.basename(j))
spark_jars = sorted(glob.glob(os.path.join(os.path.abspath(a.spark_jars), "*.jar")))

# a SPARK_HOME the worker can launch executors from: Spark's jars under jars/
spark_home = os.path.join(out, "spark-home")
shutil.rmtree(spark_home, ignore_errors=True)
os.makedirs(os.path.join(spark_home, "jars"))
for j in spark_jars:
    os.symlink(j, os.path.join(spark_home, "jars", os.path.basename(j)))
open(os.path.join(spark_home, "RELEASE"), "w").write("Spark jars for sparkllm's two-GPU run\n")
opens = [l for l in open(os.path.join(bundle, "bin", "llm")).read().split() if l.startswith("--add-opens=")]
opens += ["-Djdk.reflect.useDirectMethodHandle=false", "-Dio.netty.tryReflectionSetAccessible=true"]
env = dict(os.environ, SPARK_HOME=spark_home, JAVA_HOME=java_home, SPARK_SCALA_VERSION="2.13")
env.pop("CUDA_VISIBLE_DEVICES", None)
java = os.path.join(java_home, "bin", "java")
classpath = ":".join(app_jars + [os.path.join(spark_home, "jars", "*")])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(main, args, log):
    return subprocess.Popen([java] + opens + ["-cp", classpath, main] + args, env=env,
                            stdout=open(os.path.join(out, log), "w"), stderr=subprocess.STDOUT)


def wait_for(log, text, seconds, proc):
    deadline = time.time() + seconds
    while time.time() < deadline and proc.poll() is None:
        if text in open(os.path.join(out, log)).read():
            return
        time.sleep(0.5)
    sys.exit(f"{log}: no '{text}' (after up to {seconds} s):\n" + open(os.path.join(out, log)).read()[-4000:])


port = free_port()
master = f"spark://127.0.0.1:{port}"
work = os.path.join(out, "work")
os.makedirs(work, exist_ok=True)
worker_conf = os.path.join(out, "worker.conf")
open(worker_conf, "w").write("spark.worker.resource.gpu.amount 2\nspark.worker.resource.gpu.discoveryScript "
                             + os.path.abspath("conf/gpu-discovery.sh") + "\n")
procs = [start("org.apache.spark.deploy.master.Master",
               ["--host", "127.0.0.1", "--port", str(port), "--webui-port", str(free_port())], "master.log")]
try:
    wait_for("master.log", "I have been elected leader", 120, procs[0])
    procs.append(start("org.apache.spark.deploy.worker.Worker",
                       ["--host", "127.0.0.1", "--cores", str(2 * a.executor_cores), "--memory", "24g", "--work-dir", work,
                        "--properties-file", worker_conf, "--webui-port", str(free_port()), master], "worker.log"))
    wait_for("worker.log", "Successfully registered with master", 120, procs[1])

    prompts = os.path.join(out, "prompts.jsonl")
    with open(prompts, "w") as f:
        for i in range(a.rows):
            f.write(json.dumps({"id": i, "prompt": f"Row {i}: write a few lines about item {i * 7919 % 100003}"}) + "\n")

    def run(executors):
        name = f"{executors}-executor"
        table = os.path.join(out, f"out-{name}")
        shutil.rmtree(table, ignore_errors=True)
        before = set(os.listdir(work))
        args = ["--master", master, "--deploy-mode", "client", "--class", "dev.sparkllm.job.GenerateJob",
                "--conf", "spark.executor.resource.gpu.amount=1", "--conf", "spark.task.resource.gpu.amount=1",
                "--conf", f"spark.executor.cores={a.executor_cores}",
                "--conf", f"spark.cores.max={executors * a.executor_cores}",
                "--conf", "spark.executor.memory=8g",
                "--conf", "spark.executor.extraClassPath=" + ":".join(app_jars),
                "--conf", "spark.executor.extraJavaOptions=" + " ".join(opens),
                "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
                "--conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=300s",
                "--conf", "spark.ui.enabled=false",
                job_jar, "--model", os.path.abspath(a.model), "--input", prompts, "--output", table,
                "--output-format", "json", "--device", a.device, "--temperature", "0", "--max-new-tokens", str(a.new),
                "--ignore-eos", "--show", "0", "--partitions", str(8 * executors)]
        t0 = time.time()
        driver = start("org.apache.spark.deploy.SparkSubmit", args, f"{name}-driver.log")
        peak = {}
        while driver.poll() is None:
            for index, mem, util in gpus():
                m, u = peak.get(index, (0, 0))
                peak[index] = (max(m, mem), max(u, util))
            time.sleep(1)
        wall = time.time() - t0
        rows = [json.loads(l) for f in glob.glob(os.path.join(table, "chunk=*", "*.json")) for l in open(f) if l.strip()]
        ids = [r["id"] for r in rows]
        apps = sorted(set(os.listdir(work)) - before)
        created = []
        for app in apps:
            for log in glob.glob(os.path.join(work, app, "*", "stderr")):
                created += re.findall(r"engine created #\d+ on executor (\S+): model .* on device (\S+) in", open(log).read())
        tokens = sum(r.get("completion_tokens") or 0 for r in rows)
        return {"executors": executors, "exit": driver.returncode, "wall_s": round(wall, 1), "rows_out": len(rows),
                "rows_unique": len(set(ids)), "rows_failed": sum(1 for r in rows if r.get("error") is not None),
                "completion_tokens": tokens, "tok_s": round(tokens / wall, 1), "engines": sorted(set(created)),
                "gpu_peak": {str(i): {"memory_mib": m, "utilization_pct": u} for i, (m, u) in sorted(peak.items())}}

    one = run(1)
    two = run(2)
finally:
    for proc in reversed(procs):
        proc.kill()

problems = []
for r in (one, two):
    if r["exit"] != 0: problems.append(f"{r['executors']}-executor run exit {r['exit']}")
    if r["rows_out"] != a.rows or r["rows_unique"] != a.rows or r["rows_failed"]:
        problems.append(f"{r['executors']}-executor run: {r['rows_out']} rows, {r['rows_unique']} ids, {r['rows_failed']} failed")
devices = {d for _, d in two["engines"]}
if len(two["engines"]) != 2 or (a.device != "cpu" and len(devices) != 2):
    problems.append(f"two executors' engines on two devices expected: {two['engines']}")
if a.device != "cpu" and sum(1 for g in two["gpu_peak"].values() if g["utilization_pct"] > 0) < 2:
    problems.append(f"both GPUs busy expected: {two['gpu_peak']}")
result = {"gpus": 2, "rows": a.rows, "new_tokens": a.new, "device": a.device, "one_gpu": one, "two_gpus": two,
          "one_gpu_tok_s": one["tok_s"], "two_gpu_tok_s": two["tok_s"],
          "scaling": round(two["tok_s"] / one["tok_s"], 3) if one["tok_s"] else None, "problems": problems}
json.dump(result, open(os.path.join(out, "two-gpus.json"), "w"), indent=1)
print(json.dumps(result, indent=1))
sys.exit(1 if problems else 0)
