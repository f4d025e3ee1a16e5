#!/usr/bin/env bash
# Spark GPU discovery script (spark.worker.resource.gpu.discoveryScript on a standalone worker,
# spark.executor.resource.gpu.discoveryScript on YARN and Kubernetes): prints the GPUs this process may use in
# Spark's ResourceInformation format, {"name": "gpu", "addresses": ["0", "1", ...]}.
#
# - CUDA_VISIBLE_DEVICES set (by the resource manager, or by hand for a worker that should own some of the node's
#   GPUs): its entries, as CUDA reads them: indices or GPU-/MIG- UUIDs, up to the first entry that is neither
#   ("NoDevFiles", which Slurm sets when a job has no GPU, or "-1"; set but empty counts the same). Such entries
#   hide every later GPU from CUDA, so they end the list here too; nothing before them means no GPU.
# - Otherwise nvidia-smi's GPU indices. An nvidia-smi that fails (no driver) or prints no index means no GPU.
#
# The engine maps Spark's address back to a device through the same CUDA_VISIBLE_DEVICES (ExecutorDevice): the
# address's position in that list is its cuda:N. Uses no program besides nvidia-smi.
set -euo pipefail

trim() {
  local s="$1"
  s="${s#"${s%%[![:space:]]*}"}"
  s="${s%"${s##*[![:space:]]}"}"
  printf '%s' "$s"
}

addresses=()
if [[ -n "${CUDA_VISIBLE_DEVICES+set}" ]]; then
  IFS=',' read -r -a entries <<< "${CUDA_VISIBLE_DEVICES}" || true
  for e in "${entries[@]+"${entries[@]}"}"; do
    e="$(trim "$e")"
    [[ "$e" =~ ^[0-9]+$ || "$e" =~ ^(GPU|MIG)-[A-Za-z0-9/-]+$ ]] || break
    addresses+=("$e")
  done
elif command -v nvidia-smi > /dev/null 2>&1; then
  if out="$(nvidia-smi --query-gpu=index --format=csv,noheader 2> /dev/null)"; then
    while IFS= read -r line; do
      line="$(trim "$line")"
      [[ "$line" =~ ^[0-9]+$ ]] && addresses+=("$line")
    done <<< "$out"
  fi
fi

json=""
for a in "${addresses[@]+"${addresses[@]}"}"; do
  json+="${json:+, }\"$a\""
done
echo "{\"name\": \"gpu\", \"addresses\": [${json}]}"
