"""The JSON Schema for editors: committed, current, and accepting every shipped scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from simulation.cli import main
from simulation.scenario.jsonschema import schema_text
from tests.conftest import ROOT

COMMITTED = ROOT / "scenarios" / "scenario.schema.json"
SHIPPED = sorted((ROOT / "scenarios").rglob("*.yaml"))


def test_the_committed_schema_is_current() -> None:
    assert COMMITTED.read_text() == schema_text(), "run: repatsim schema > " + str(COMMITTED)


def test_repatsim_schema_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(COMMITTED.read_text())


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenarios_point_at_it_and_satisfy_it(path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    first = path.read_text().splitlines()[0]
    relative = first.removeprefix("# yaml-language-server: $schema=")
    assert first != relative and (path.parent / relative).resolve() == COMMITTED
    data = yaml.safe_load(path.read_text())
    data = json.loads(json.dumps(data, default=str))  # dates as text, as an editor sees them
    jsonschema.validate(data, json.loads(COMMITTED.read_text()))


def test_the_schema_rejects_a_misspelt_key() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(COMMITTED.read_text())
    data = json.loads(json.dumps(yaml.safe_load(SHIPPED[0].read_text()), default=str))
    data["run"]["sede"] = 3
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("repatsim ")
