"""Small modules, short functions: every module under src/gatepass has at most 500 lines, and every function or
method at most 60, counted from its ``def`` line to its last line (decorators excluded)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "gatepass"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method, nested ones too, with its qualified name (``Class.method``, ``outer.inner``)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + node.name, node
            yield from functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from functions(node, f"{prefix}{node.name}.")
        else:
            yield from functions(node, prefix)


def function_length(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    end = node.end_lineno if node.end_lineno is not None else node.lineno
    return end - node.lineno + 1


def long_functions(source: str, where: str) -> list[str]:
    found = []
    for name, node in functions(ast.parse(source)):
        length = function_length(node)
        if length > MAX_FUNCTION_LINES:
            found.append(f"{where}:{name}:{length}")
    return found


def _where(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_modules_are_at_most_500_lines() -> None:
    long = []
    for path in sorted(SRC.rglob("*.py")):
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            long.append(f"{_where(path)}:<module>:{lines}")
    assert not long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(long)


def test_functions_are_at_most_60_lines() -> None:
    long = [item for path in sorted(SRC.rglob("*.py")) for item in long_functions(path.read_text(), _where(path))]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


def test_function_length_counts_from_def_to_last_line_without_decorators() -> None:
    body = [f"        x{i} = {i}" for i in range(MAX_FUNCTION_LINES - 1)]
    source = "\n".join(
        [
            "import functools",
            "class Box:",
            "    @functools.cache",
            "    @staticmethod",
            "    def fits():",  # 1 + 59 lines: exactly at the limit
            *body,
            "    async def too_long(self):",  # 1 + 59 + 3 lines
            *body,
            "        def inner():",
            "            return 1",
            "        return inner",
        ]
    )
    assert long_functions(source, "box.py") == [f"box.py:Box.too_long:{MAX_FUNCTION_LINES + 3}"]
    lengths = {name: function_length(node) for name, node in functions(ast.parse(source))}
    assert lengths == {"Box.fits": MAX_FUNCTION_LINES, "Box.too_long": MAX_FUNCTION_LINES + 3, "Box.too_long.inner": 2}
