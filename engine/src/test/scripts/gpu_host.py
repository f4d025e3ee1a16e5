"""What the GPU host's cards are doing, for the scripts that poll them while a job runs."""
import subprocess


def gpus():
    """[(index, memory used MiB, utilization %)] per GPU from nvidia-smi; [] without one."""
    try:
        r = subprocess.run(["nvidia-smi", "--query-gpu=index,memory.used,utilization.gpu", "--format=csv,noheader,nounits"],
                           capture_output=True, text=True, timeout=10)
        return [tuple(int(x) for x in line.split(",")) for line in r.stdout.strip().splitlines() if line.count(",") == 2]
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return []
