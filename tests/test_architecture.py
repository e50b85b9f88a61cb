"""The import layers (pyproject.toml, ``[tool.importlinter]``, checked by ``lint-imports`` in
``make lint``) cover the whole package: a new top-level module must be given its layer, or the
contract would say nothing about it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import partnerscope

ROOT = Path(__file__).resolve().parents[1]


def contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    found: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return found


def test_every_top_level_module_has_a_layer():
    (layers,) = [c for c in contracts() if c["type"] == "layers"]
    listed = {
        name.strip().removeprefix("partnerscope.")
        for layer in layers["layers"]  # type: ignore[attr-defined]
        for name in re.split(r"[|:]", layer)
    }
    package = Path(partnerscope.__file__).parent
    modules = {
        p.stem if p.is_file() else p.name
        for p in package.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    assert modules - listed == set(), "give each new module its layer in pyproject.toml"
    assert listed - modules == set(), "a layer names a module that is gone"
