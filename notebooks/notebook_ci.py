"""Execute the project's notebooks headless in a real Jupyter, check them, and strip their outputs.

Run with Debian's Python, which has nbclient and nbformat (apt-get install python3-nbclient jupyter-nbconvert):

    /usr/bin/python3 notebooks/notebook_ci.py execute OUT_DIR NOTEBOOK...   # what notebooks/run-all calls
    /usr/bin/python3 notebooks/notebook_ci.py strip NOTEBOOK...             # before committing a notebook

`execute` fails a notebook when it is missing, when it was committed with outputs, when a cell raises, or when
a cell tagged "plot" produced no image/png output. Every notebook is written to OUT_DIR even when it failed, so
the executed cells up to the failure can be read there.
"""
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbconvert.preprocessors.coalescestreams import coalesce_streams
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

KERNEL_NAME = "sparkllm-java"
PLOT_TAG = "plot"
CELL_TIMEOUT_S = int(os.environ.get("SPARKLLM_NOTEBOOK_CELL_TIMEOUT", "240"))


def committed_outputs(nb):
    """Cells that still carry outputs or an execution count: a notebook is committed stripped."""
    return [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]


def missing_plots(nb):
    """Indices of cells tagged 'plot' whose outputs hold no image/png."""
    missing = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code" or PLOT_TAG not in c.get("metadata", {}).get("tags", []):
            continue
        if not any("image/png" in o.get("data", {}) for o in c.get("outputs", [])):
            missing.append(i)
    return missing


def cell_head(nb, index):
    first = nb.cells[index].source.strip().splitlines()
    return first[0] if first else ""


def execute(path, out_dir):
    """Runs one notebook; returns a list of problems (empty when it passed)."""
    if not os.path.isfile(path):
        return [f"{path} is missing; notebooks/run-all expects it (restore it or update the list in run-all)"]
    nb = nbformat.read(path, as_version=4)
    problems = [f"cell {i} was committed with outputs ({cell_head(nb, i)!r}); run "
                f"'/usr/bin/python3 notebooks/notebook_ci.py strip {path}' and commit again"
                for i in committed_outputs(nb)]
    client = NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=CELL_TIMEOUT_S, startup_timeout=180,
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
    try:
        client.execute()
    except CellExecutionError as e:
        problems.append(f"a cell failed:\n{e}")
    except CellTimeoutError as e:
        problems.append(f"a cell ran past {CELL_TIMEOUT_S} s (SPARKLLM_NOTEBOOK_CELL_TIMEOUT): {e}")
    except DeadKernelError as e:
        problems.append(f"the kernel died (see the kernel's stderr above): {e}")
    else:
        problems += [f"cell {i} is tagged '{PLOT_TAG}' but shows no image/png ({cell_head(nb, i)!r})"
                     for i in missing_plots(nb)]
    nb, _ = coalesce_streams(nb, {})  # one output per stream and cell, as a notebook shows it
    out = os.path.join(out_dir, os.path.basename(path))
    nbformat.write(nb, out)
    return problems


def strip(path):
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = []
            c.execution_count = None
    nbformat.write(nb, path)


def main(argv):
    if len(argv) >= 3 and argv[1] == "execute":
        out_dir, paths = argv[2], argv[3:]
        os.makedirs(out_dir, exist_ok=True)
        passed, failed = 0, 0
        for path in paths:
            start = time.monotonic()
            problems = execute(path, out_dir)
            took = time.monotonic() - start
            status = "FAILED" if problems else "ok"
            print(f"{os.path.basename(path)}: {status} in {took:.1f} s", flush=True)
            for p in problems:
                print("  " + p.replace("\n", "\n  "), flush=True)
            failed += bool(problems)
            passed += not problems
        print(f"{passed} passed, {failed} failed")
        return 1 if failed else 0
    if len(argv) >= 3 and argv[1] == "strip":
        for path in argv[2:]:
            strip(path)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
