"""The committed notebooks are the ones tools/make_notebooks.py writes, executed, and they still
run top to bottom (their reduced settings), so the published examples keep working."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_notebooks", ROOT / "tools" / "make_notebooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()
NAMES = list(TOOL.NOTEBOOKS)


def _sources(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def _outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def test_the_notebooks_folder_holds_the_tools_notebooks() -> None:
    assert sorted(p.stem for p in TOOL.HERE.glob("*.ipynb")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_a_committed_notebook_is_the_tools_current_one_executed(name: str) -> None:
    committed = nbformat.read(TOOL.HERE / f"{name}.ipynb", as_version=4)
    message = f"notebooks/{name}.ipynb is stale: run python tools/make_notebooks.py {name}"
    assert _sources(committed) == _sources(TOOL.build(name)), message
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), message
    outputs = _outputs(committed)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert [o for o in outputs if "image/png" in o.get("data", {})], "no figure in the notebook"


@pytest.mark.parametrize("name", NAMES)
def test_a_notebook_executes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPATSIM_FULL", raising=False)
    nb = TOOL.execute(TOOL.build(name))  # raises CellExecutionError on any failing cell
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert [o for o in outputs if "image/png" in o.get("data", {})], "the notebook drew no figure"


def _must_not_run(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    raise AssertionError("the tool ran a notebook it should have refused")


def test_the_tool_refuses_full_runs_into_the_committed_folder(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REPATSIM_FULL", "1")
    monkeypatch.setattr(TOOL, "execute", _must_not_run)
    assert TOOL.main([]) == 2
    assert TOOL.main(["no_such_notebook", "--out", "elsewhere"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and "--out" in errors[0] and "no_such_notebook" in errors[1]
