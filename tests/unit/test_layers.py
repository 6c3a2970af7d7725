"""Layers point one way and the module graph has no cycles.

Every import form counts: ``import gatepass.x``, ``from gatepass.x import y`` (the submodule ``gatepass.x.y`` when
that is a module, else the package ``gatepass.x``), relative imports, imports inside functions and under
``if TYPE_CHECKING:``. A module has the rank of its longest listed prefix (whole dotted parts) and may import only
modules of lower or equal rank. ``gatepass.faunadev`` stands apart: it uses only rank-0 modules, and only the demo and
the CLI use it. A module that matches no prefix fails the test until it is given a place here.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "gatepass"

RANK = {
    "gatepass.errors": 0,
    "gatepass.untrusted": 0,
    "gatepass.ratelimit": 0,
    "gatepass.logs": 0,
    "gatepass.tokens": 1,
    "gatepass.protocol": 2,  # the wire layer shared by core and SDK
    "gatepass.storage": 3,
    "gatepass.core": 4,
    "gatepass.recipe": 5,  # app_info, instance and the session SDK
    "gatepass.recipe.session.framework.base": 5,  # the adapter contract the SDK uses
    "gatepass.recipe.session.framework": 6,
    "gatepass.recipe.session.faunadb": 6,
    "gatepass.demo": 7,
    "gatepass.cli": 8,
    "gatepass.__main__": 8,
}
TOP_RANK = 8  # the package ``gatepass`` itself (and only it: not a fallback for unlisted modules)
APART = "gatepass.faunadev"
APART_USERS = ("gatepass.demo", "gatepass.cli")
FRAMEWORKS = "gatepass.recipe.session.framework"
FRAMEWORK_SHARED = (FRAMEWORKS, f"{FRAMEWORKS}.base")
FRAMEWORK_ALIASES = {
    (f"{FRAMEWORKS}.fastapi", f"{FRAMEWORKS}.starlette"),  # FastAPI is Starlette: a name, no code
    (f"{FRAMEWORKS}.drf", f"{FRAMEWORKS}.django"),  # DRF runs on Django: its adapter builds on Django's middleware
}
FAUNA_INTEGRATION = "gatepass.recipe.session.faunadb"


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    path: Path
    line: int

    def __str__(self) -> str:
        where = self.path.relative_to(SRC.parent) if self.path.is_relative_to(SRC.parent) else self.path
        return f"{self.source} imports {self.target} ({where}:{self.line})"


def find_modules(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Module name -> file for every ``.py`` under ``root/package`` (a package is named by its ``__init__.py``)."""
    modules: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: -(level - 1)]
    return ".".join([*base, name] if name else base)


def imports_in(module: str, path: Path, modules: Mapping[str, Path], package: str = PACKAGE) -> list[Import]:
    """Every import of a module of ``package`` written anywhere in ``path`` (``module`` is its name)."""
    found: list[Import] = []
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = _resolve_relative(module, is_package, node.level, node.module)
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.append(submodule if submodule in modules else base)
        for target in targets:
            if _within(target, package):
                found.append(Import(module, target, path, node.lineno))
    return found


def all_imports(root: Path = SRC, package: str = PACKAGE) -> list[Import]:
    modules = find_modules(root, package)
    return [imp for name, path in modules.items() for imp in imports_in(name, path, modules, package)]


def rank_of(module: str) -> int | None:
    if module == PACKAGE:
        return TOP_RANK
    prefixes = [prefix for prefix in RANK if _within(module, prefix)]
    return RANK[max(prefixes, key=len)] if prefixes else None


def layer_problems(imports: Iterable[Import]) -> list[str]:
    """Wrong-way imports, imports of unranked modules, and breaches of the rules for fauna-dev and the adapters."""
    problems: list[str] = []
    for imp in imports:
        source, target = imp.source, imp.target
        if _within(source, APART) or _within(target, APART):
            if _within(source, APART) and _within(target, APART):
                continue
            if _within(source, APART) and rank_of(target) != 0:
                problems.append(f"{imp}: {APART} may import only rank-0 modules")
            elif _within(target, APART) and not any(_within(source, user) for user in APART_USERS):
                problems.append(f"{imp}: only {' and '.join(APART_USERS)} may import {APART}")
            continue
        source_rank, target_rank = rank_of(source), rank_of(target)
        if source_rank is None or target_rank is None:
            unranked = source if source_rank is None else target
            problems.append(f"{imp}: {unranked} has no rank (add its prefix to RANK)")
        elif target_rank > source_rank:
            problems.append(f"{imp}: rank {source_rank} imports rank {target_rank}")
        if (
            _within(source, FRAMEWORKS)
            and _within(target, FRAMEWORKS)
            and source not in FRAMEWORK_SHARED
            and target not in FRAMEWORK_SHARED
            and source != target
            and (source, target) not in FRAMEWORK_ALIASES
        ):
            problems.append(f"{imp}: framework adapters must not import each other")
        if _within(source, FAUNA_INTEGRATION) and _within(target, FRAMEWORKS):
            problems.append(f"{imp}: the FaunaDB integration must not import framework code")
    return problems


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the strongly connected components of ``graph``, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    nodes = set(graph).union(*map(set, graph.values()))
    for root in sorted(nodes):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph.get(root, ()))))]
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component: list[str] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def cycle_problems(imports: Iterable[Import]) -> list[str]:
    """Every strongly connected component of more than one module, and every module that imports itself."""
    imports = list(imports)
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.source, set()).add(imp.target)
    problems: list[str] = []
    for component in sorted(strongly_connected(graph)):
        members = set(component)
        if len(component) == 1 and component[0] not in graph.get(component[0], set()):
            continue
        inside = [imp for imp in imports if imp.source in members and imp.target in members]
        edges = sorted({f"{imp.source}:{imp.line} -> {imp.target}" for imp in inside})
        label = "imports itself" if len(component) == 1 else f"cycle of {len(component)} modules"
        problems.append(f"{label}: {', '.join(component)}\n    " + "\n    ".join(edges))
    return problems


def test_imports_point_down_the_layers() -> None:
    problems = layer_problems(all_imports())
    assert not problems, "wrong-way imports:\n" + "\n".join(problems)


def test_no_import_cycles() -> None:
    problems = cycle_problems(all_imports())
    assert not problems, "import cycles:\n" + "\n".join(problems)


def test_every_module_has_a_rank() -> None:
    unranked = [name for name in find_modules(SRC) if rank_of(name) is None and not _within(name, APART)]
    assert unranked == []


# The walker itself, on a small package written for the purpose ------------------------------------------------------
def _tree(root: Path, files: Mapping[str, str]) -> Path:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body))
    return root


def _edges(root: Path, package: str = "pkg") -> set[tuple[str, str]]:
    return {(imp.source, imp.target) for imp in all_imports(root, package)}


def test_walker_sees_every_import_form(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "from .a import thing\nfrom . import b\n",
            "pkg/a.py": "import pkg.b\nimport os\n",
            "pkg/b.py": "from pkg.sub import c, NAME\n",
            "pkg/sub/__init__.py": "from .. import a\n",
            "pkg/sub/c.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg.sub.d import D\n"
                "def f():\n    from ..a import thing\n    import pkg\n"
            ),
            "pkg/sub/d.py": "from . import c\nfrom .c import f\nfrom pkg import sub\n",
        },
    )
    assert _edges(root) == {
        ("pkg", "pkg.a"),
        ("pkg", "pkg.b"),
        ("pkg.a", "pkg.b"),
        ("pkg.b", "pkg.sub.c"),
        ("pkg.b", "pkg.sub"),  # NAME is not a module: an import of the package
        ("pkg.sub", "pkg.a"),
        ("pkg.sub.c", "pkg.sub.d"),
        ("pkg.sub.c", "pkg.a"),
        ("pkg.sub.c", "pkg"),
        ("pkg.sub.d", "pkg.sub.c"),
        ("pkg.sub.d", "pkg.sub"),
    }


def test_cycles_and_self_imports_are_found(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": "def f():\n    import pkg.c\n",
            "pkg/c.py": "from . import a\n",
            "pkg/d.py": "import pkg.d\nimport pkg.a\n",
            "pkg/e.py": "import pkg.a\n",
        },
    )
    problems = cycle_problems(all_imports(root, "pkg"))
    assert len(problems) == 2
    assert problems[0].startswith("cycle of 3 modules: pkg.a, pkg.b, pkg.c\n")
    assert "pkg.c:1 -> pkg.a" in problems[0] and "pkg.e" not in problems[0]
    assert problems[1].startswith("imports itself: pkg.d")


@pytest.mark.parametrize(
    ("source", "target", "complaint"),
    [
        ("gatepass.tokens.keys", "gatepass.storage.sql", "rank 1 imports rank 3"),
        ("gatepass.protocol.body", "gatepass.core.sessions", "rank 2 imports rank 4"),
        ("gatepass.recipe.session.framework.base", "gatepass.recipe.session.framework.flask", "rank 5 imports rank 6"),
        ("gatepass.recipe.session.flows", "gatepass.recipe.session.faunadb", "rank 5 imports rank 6"),
        ("gatepass.demo.app", "gatepass.cli", "rank 7 imports rank 8"),
        ("gatepass.core.sessions", "gatepass", "rank 4 imports rank 8"),
        ("gatepass.faunadev.store", "gatepass.tokens.encoding", "may import only rank-0"),
        ("gatepass.core.server", "gatepass.faunadev.server", "only gatepass.demo and gatepass.cli"),
        ("gatepass.recipe.session.framework.flask", "gatepass.recipe.session.framework.django", "each other"),
        ("gatepass.recipe.session.faunadb.integration", "gatepass.recipe.session.framework.base", "framework code"),
        ("gatepass.newthing", "gatepass.errors", "gatepass.newthing has no rank"),
    ],
)
def test_rules_reject(source: str, target: str, complaint: str) -> None:
    problems = layer_problems([Import(source, target, Path("x.py"), 1)])
    assert len(problems) == 1 and complaint in problems[0] and problems[0].startswith(f"{source} imports {target}")


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("gatepass.core.sessions", "gatepass.tokens.keys"),
        ("gatepass.tokens.keys", "gatepass.tokens.encoding"),
        ("gatepass.storage.sql", "gatepass.ratelimit"),
        ("gatepass.recipe.session.framework.flask", "gatepass.recipe.session.framework.base"),
        ("gatepass.recipe.session.framework.base", "gatepass.recipe.session.state"),
        ("gatepass.recipe.session.faunadb.integration", "gatepass.recipe.session.flows"),
        ("gatepass.faunadev.store", "gatepass.untrusted"),
        ("gatepass.faunadev.store", "gatepass.faunadev.values"),
        ("gatepass.demo.runner", "gatepass.faunadev.server"),
        ("gatepass.cli", "gatepass.faunadev"),
        ("gatepass", "gatepass.recipe.instance"),
        ("gatepass.__main__", "gatepass.cli"),
    ],
)
def test_rules_allow(source: str, target: str) -> None:
    assert layer_problems([Import(source, target, Path("x.py"), 1)]) == []
