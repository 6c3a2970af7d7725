"""Every public definition in src/gatepass has a docstring (STYLE.md: "docstrings on every public function").

The rule, read from the source alone (an AST walk, nothing is imported):

- Needing a docstring: module-level functions and classes whose name does not start with ``_``, and the methods
  (``def`` or ``async def`` directly in the class body, properties included) not starting with ``_`` of such
  classes. Dunders start with ``_`` and so are never counted; nor are private classes, nested functions or classes.
- Exempt: ``@overload`` stubs and ``@<name>.setter`` / ``@<name>.deleter`` (the getter carries the doc); a method
  whose name a documented method of a gatepass base class also defines (bases are followed through the class's
  own module and its ``from gatepass... import`` lines; bases from other libraries are not looked into); a member
  of a ``Protocol`` class whose body is only ``...`` when its name appears in that class's docstring.

A failure lists ``path:qualname`` for each missing docstring, path relative to src/.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class _Module:
    path: str
    tree: ast.Module
    classes: dict[str, ast.ClassDef]
    imported: dict[str, tuple[str, str]]  # local name -> (module, name) from ``from gatepass.x import name``


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _load() -> dict[str, _Module]:
    modules = {}
    for path in sorted((SRC / "gatepass").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
        imported = {
            alias.asname or alias.name: (node.module, alias.name)
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gatepass")
            for alias in node.names
        }
        modules[_module_name(path)] = _Module(str(path.relative_to(SRC)), tree, classes, imported)
    return modules


def _decorator_names(node: FunctionNode) -> set[str]:
    names = set()
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute):
            names.add(target.attr)
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


def _base_classes(modules: dict[str, _Module], module: str, cls: ast.ClassDef) -> Iterator[tuple[str, ast.ClassDef]]:
    """The gatepass classes ``cls`` derives from, directly or not, as (module, class)."""
    pending = [(module, base) for base in cls.bases]
    seen: set[tuple[str, str]] = set()
    while pending:
        where, base = pending.pop()
        if isinstance(base, ast.Subscript):  # Generic[T], Protocol[T]
            base = base.value
        if not isinstance(base, ast.Name):
            continue
        found = modules[where].classes.get(base.id)
        target = (where, base.id)
        if found is None and base.id in modules[where].imported:
            target = modules[where].imported[base.id]
            found = modules[target[0]].classes.get(target[1]) if target[0] in modules else None
        if found is None or target in seen:
            continue
        seen.add(target)
        yield target[0], found
        pending.extend((target[0], grand) for grand in found.bases)


def _is_protocol(cls: ast.ClassDef) -> bool:
    return any(
        (isinstance(base, ast.Name) and base.id == "Protocol")
        or (isinstance(base, ast.Attribute) and base.attr == "Protocol")
        for base in cls.bases
    )


def _stub_body(node: FunctionNode) -> bool:
    body = node.body
    return (
        len(body) == 1
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and body[0].value.value is Ellipsis
    )


def _documented(cls: ast.ClassDef, member: FunctionNode) -> bool:
    """A docstring of its own, or a ``Protocol`` stub named in its class's docstring."""
    if ast.get_docstring(member):
        return True
    return _is_protocol(cls) and _stub_body(member) and member.name in (ast.get_docstring(cls) or "")


def _method_exempt(modules: dict[str, _Module], module: str, cls: ast.ClassDef, member: FunctionNode) -> bool:
    decorators = _decorator_names(member)
    if "overload" in decorators or decorators & {"setter", "deleter"} or _documented(cls, member):
        return True
    return any(
        isinstance(node, FunctionNode) and node.name == member.name and _documented(base, node)
        for _, base in _base_classes(modules, module, cls)
        for node in base.body
    )


def missing_docstrings() -> list[str]:
    """``path:qualname`` of every public definition that needs a docstring and has none."""
    modules = _load()
    missing = []
    for name, module in modules.items():
        for node in module.tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or node.name.startswith("_"):
                continue
            if isinstance(node, FunctionNode) and "overload" in _decorator_names(node):
                continue
            if not ast.get_docstring(node):
                missing.append(f"{module.path}:{node.name}")
            if not isinstance(node, ast.ClassDef):
                continue
            for member in node.body:
                if not isinstance(member, FunctionNode) or member.name.startswith("_"):
                    continue
                if not _method_exempt(modules, name, node, member):
                    missing.append(f"{module.path}:{node.name}.{member.name}")
    return missing


def test_every_public_definition_has_a_docstring() -> None:
    missing = missing_docstrings()
    assert not missing, f"{len(missing)} public definitions without a docstring:\n" + "\n".join(missing)
