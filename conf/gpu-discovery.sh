#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript): prints the GPUs this executor may use
# as {"name": "gpu", "addresses": ["0", "1", ...]}. Honours CUDA_VISIBLE_DEVICES when the resource manager set it
# (YARN, Kubernetes device plugins); otherwise asks nvidia-smi. Prints no addresses when there is no GPU.
set -euo pipefail

addresses=()
if [[ -n "${CUDA_VISIBLE_DEVICES:-}" && "${CUDA_VISIBLE_DEVICES}" != "NoDevFiles" ]]; then
  IFS=',' read -r -a addresses <<< "${CUDA_VISIBLE_DEVICES}"
elif command -v nvidia-smi > /dev/null 2>&1; then
  while IFS= read -r index; do
    [[ -n "$index" ]] && addresses+=("$(echo "$index" | tr -d '[:space:]')")
  done < <(nvidia-smi --query-gpu=index --format=csv,noheader)
fi

json=""
for a in "${addresses[@]+"${addresses[@]}"}"; do
  json+="${json:+,}\"$a\""
done
echo "{\"name\": \"gpu\", \"addresses\": [${json}]}"
