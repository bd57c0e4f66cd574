"""The JSON Schema of scenario files, for editors (completion and checks as you type).

Generated from the pydantic schema, plus what the loader adds before validation: ``extends``
(a parent file) and ``timeline+`` (events appended to the parent's timeline). A committed copy,
``scenarios/scenario.schema.json``, is checked by a test to be current; the shipped scenarios
point at it with a ``# yaml-language-server: $schema=...`` first line.
"""

from __future__ import annotations

import json
from typing import Any

from simulation.scenario.schema import Scenario

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = SCHEMA_URI
    schema["title"] = "repatsim scenario"
    properties = schema.setdefault("properties", {})
    properties["extends"] = {
        "type": "string",
        "description": "A scenario file this one changes (path relative to this file).",
    }
    properties["timeline+"] = {
        "type": "array",
        "items": properties["timeline"].get("items", {}),
        "description": "Timeline events appended to the extended file's timeline.",
    }
    required = schema.pop("required", [])
    if required:  # a file that extends another may leave them to its parent
        schema["if"] = {"required": ["extends"]}
        schema["then"] = {}
        schema["else"] = {"required": required}
    return schema


def schema_text() -> str:
    """The schema as the committed file holds it (sorted keys, two-space indent)."""
    return json.dumps(scenario_json_schema(), indent=2, sort_keys=True) + "\n"


def schema_comment(relative: str) -> str:
    """The first line that points editors at the schema (``relative`` to the scenario file)."""
    return f"# yaml-language-server: $schema={relative}"
