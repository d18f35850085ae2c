"""The reviewers' notebooks: parameters injected papermill-style, figures counted, sources clean."""

import json
import os
import tempfile
from pathlib import Path

import nbformat
import pytest

from risk.io.notebooks import count_images, inject_parameters
from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_parameters_go_after_the_parameters_cell_and_replace_an_earlier_injection():
    params = nbformat.v4.new_code_cell("results = None", metadata={"tags": ["parameters"]})
    nb = _nb(nbformat.v4.new_markdown_cell("# t"), params, nbformat.v4.new_code_cell("print(results)"))
    inject_parameters(nb, {"results": "/r", "area_name": "某县"})
    inject_parameters(nb, {"results": "/r2", "area_name": "某县"})
    assert [c.metadata.get("tags", []) for c in nb.cells][1:3] == [["parameters"], ["injected-parameters"]]
    assert len(nb.cells) == 4
    assert "results = '/r2'\narea_name = '某县'" in nb.cells[2].source


def test_count_images_counts_png_outputs_only():
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "AAA", "text/plain": "<Figure>"}),
                    nbformat.v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=1),
                    nbformat.v4.new_output("stream", text="hi")]
    assert count_images(_nb(cell, nbformat.v4.new_markdown_cell("![x](y.png)"))) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_sources_are_clean_and_take_parameters(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [c for c in code if c.outputs or c.execution_count], "outputs are stripped in the repository"
    assert "parameters" in code[0].metadata.get("tags", []) and "results = None" in code[0].source
    text = json.dumps([c.source for c in nb.cells], ensure_ascii=False)
    assert "凌源" not in text  # the title comes from the run's area
    assert "matplotlib.use" not in text and "%matplotlib inline" in text



# A notebook job as the warm start runs it (risk.warm): a process that imported the stack, matplotlib with Agg
# among it, before the script ran; WARM marks it a warm worker. `warm_marker` is a module only this job imports:
# a kernel forked from the job holds it, a new Python does not.
JOB = """\
import json, os, resource, sys
sys.path.insert(0, sys.argv[2])
import matplotlib.pyplot, numpy, pandas
import warm_marker
if os.environ.get("WARM"):
    os.environ["RISK_WARM_WORKER"] = "1"
from risk.io.notebooks import count_images, execute
nb = execute(sys.argv[1])
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"job": os.getpid(), "images": count_images(nb), "children_cpu": kids.ru_utime + kids.ru_stime,
                  "kernel": json.loads(nb.cells[1].outputs[0]["text"])}))
"""

CELLS = ["%matplotlib inline\nimport json, os, sys, time\nimport matplotlib.pyplot as plt\nimport pandas as pd\n"
         "import psutil\nplt.plot([0, 1], [1, 0])",
         "t = time.process_time()\nwhile time.process_time() - t < 0.5:\n    pass\n"
         "print(json.dumps({'pid': os.getpid(), 'parents': [p.pid for p in psutil.Process().parents()],\n"
         "                  'cmdline': psutil.Process().cmdline(), 'marker': 'warm_marker' in sys.modules,\n"
         "                  'max_columns': pd.get_option('display.max_columns')}))"]


def _notebook_job(tmp_path, warm: bool, cells=CELLS):
    import subprocess
    import sys

    nb = _nb(*[nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(nb, tmp_path / "probe.ipynb")
    (tmp_path / "warm_marker.py").write_text("", encoding="utf-8")
    (tmp_path / "job.py").write_text(JOB, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("RISK_WARM_WORKER", "RISK_WARM_SOCKET")}
    env.update(MPLBACKEND="Agg", PYTHONPATH=str(ROOT), **({"WARM": "1"} if warm else {}))
    return subprocess.Popen([sys.executable, str(tmp_path / "job.py"), str(tmp_path / "probe.ipynb"), str(tmp_path)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finished_job(tmp_path, warm: bool) -> tuple[dict, dict]:
    job = _notebook_job(tmp_path, warm=warm)
    out, err = job.communicate()
    assert job.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    return result, result["kernel"]


def test_a_warm_notebook_job_runs_its_kernel_in_a_fork_of_itself_with_inline_figures(tmp_path):
    result, kernel = _finished_job(tmp_path, warm=True)
    assert kernel["marker"]  # the kernel holds what the job had imported: it is a fork of the job ...
    assert result["job"] in kernel["parents"]  # ... below it (server, supervisor), not a new Python
    assert "risk.kernel" not in " ".join(kernel["cmdline"])
    assert result["images"] == 1  # pyplot, imported with Agg before the fork, draws inline figures
    assert kernel["max_columns"] == 20  # pandas shows tables as it does in a new kernel
    assert result["children_cpu"] >= 0.5  # the kernel's CPU (a cell spins 0.5 s) counts in the job's usage
    assert not list(Path(tempfile.gettempdir()).glob(f"risk-kernel-{result['job']}-*.sock"))  # server stopped


def test_outside_a_warm_worker_the_kernel_is_a_new_python(tmp_path):
    result, kernel = _finished_job(tmp_path, warm=False)
    assert not kernel["marker"] and "risk.kernel" in " ".join(kernel["cmdline"])
    assert result["job"] in kernel["parents"]
    assert result["images"] == 1 and kernel["max_columns"] == 20


@pytest.mark.slow
def test_a_killed_notebook_job_leaves_no_kernel_behind(tmp_path):
    import signal
    import time

    import psutil

    pidfile = tmp_path / "kernel.pid"
    cells = [f"import os, time\nopen({str(pidfile)!r} + '.tmp', 'w').write(str(os.getpid()))\n"
             f"os.replace({str(pidfile)!r} + '.tmp', {str(pidfile)!r})\ntime.sleep(600)"]
    job = _notebook_job(tmp_path, warm=True, cells=cells)
    for _ in range(1200):  # until the kernel runs the cell
        if pidfile.exists() or job.poll() is not None:
            break
        time.sleep(0.05)
    kernel = psutil.Process(int(pidfile.read_text()))
    family = [psutil.Process(job.pid), *psutil.Process(job.pid).children(recursive=True)]
    assert kernel in family[1:]
    os.kill(job.pid, signal.SIGKILL)
    job.communicate()
    _, alive = psutil.wait_procs(family[1:], timeout=60)  # the launcher sees its parent gone within 0.5 s
    assert not alive, alive
