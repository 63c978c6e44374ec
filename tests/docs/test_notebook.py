"""examples/notebook.ipynb runs from top to bottom on this checkout, and is stored without outputs.

The notebook is executed with nbclient in a temporary working directory, on a kernel of
this test's own Python (a kernelspec written into a temporary folder for it, so no other
installed ``python3`` kernel can be picked up; a first cell added in memory checks it).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "notebook.ipynb"
KERNEL_NAME = "lesde-notebook-test"
CELL_TIMEOUT_S = 300
WHERE_AM_I = "import json, os, sys\nprint(json.dumps({'prefix': sys.prefix, 'executable': os.path.realpath(sys.executable)}))"


def test_notebook_is_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "the notebook has no code cells"
    with_outputs = [n for n, cell in enumerate(nb.cells) if cell.cell_type == "code" and cell.outputs]
    counted = [n for n, cell in enumerate(nb.cells) if cell.cell_type == "code" and cell.execution_count is not None]
    assert not with_outputs, f"cells {with_outputs} have outputs: strip them (jupyter nbconvert --clear-output --inplace {NOTEBOOK.name})"
    assert not counted, f"cells {counted} have execution counts: strip them (jupyter nbconvert --clear-output --inplace {NOTEBOOK.name})"
    assert "widgets" not in nb.metadata, "the notebook's metadata holds widget state: strip it"


def test_notebook_runs_without_errors(tmp_path):
    kernels = tmp_path / "kernels"
    write_kernel_spec(kernels / KERNEL_NAME, overrides={"display_name": KERNEL_NAME})  # argv: this sys.executable
    manager = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    workdir = tmp_path / "cwd"
    workdir.mkdir()

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(WHERE_AM_I, id="where-am-i"))
    client = NotebookClient(nb, km=manager, timeout=CELL_TIMEOUT_S, allow_errors=False, resources={"metadata": {"path": str(workdir)}})
    client.execute()  # raises CellExecutionError naming the cell on any error

    where = json.loads("".join(output.text for output in nb.cells[0].outputs if output.output_type == "stream"))
    assert where == {"prefix": sys.prefix, "executable": os.path.realpath(sys.executable)}, "the notebook ran on another Python"
    errors = [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs if output.output_type == "error"]
    assert not errors
    images = [cell.id for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs if "image/png" in output.get("data", {})]
    assert len(images) >= 2, f"the figures did not display as images (cells with a PNG: {images})"
    assert not any(workdir.iterdir()), f"the notebook wrote into its working directory: {sorted(p.name for p in workdir.iterdir())}"
