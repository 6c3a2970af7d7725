"""Layers point one way: tokens <- storage <- core <- (sdk, fauna, cli). A wrong-way import fails here."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "gatepass"
RANK = {
    "errors": 0,
    "untrusted": 0,
    "tokens": 1,
    "protocol": 2,
    "storage": 2,
    "core": 3,
    "faunadev": 3,
    "recipe": 4,
    "demo": 5,
    "cli": 6,
}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "cli"


def test_imports_point_down_the_layers() -> None:
    wrong: list[str] = []
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC.parent).with_suffix("")
        module = ".".join(relative.parts)
        if module.endswith("__init__"):
            module = module.rsplit(".", 1)[0]
        own = _layer(module) if module != "gatepass" else "cli"  # the package re-exports the SDK lazily
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gatepass."):
                target = _layer(node.module)
                if RANK.get(target, 0) > RANK.get(own, 0):
                    wrong.append(f"{module} imports {node.module}")
    assert wrong == []
