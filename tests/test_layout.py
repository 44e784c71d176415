"""The package's layout is its pipeline: imports point one way, read from the source itself.

Stages, lowest first: the shared base (diagnostics, codes, resources), layers (the catalog),
language (parse, lower, IR), check (shapes, rules), config, targets, the api, the applications.
A module may import its own stage and the stages below it, never one above; no two modules import
each other, directly or round a longer circle; and the targets read the checked IR, never the
front end that makes it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import netspec

PACKAGE = Path(netspec.__file__).resolve().parent

STAGES = (
    ("netspec.diagnostics", "netspec.codes", "netspec.resources", "netspec.version"),
    ("netspec.layers",),
    ("netspec.language",),
    ("netspec.check",),
    ("netspec.config",),
    ("netspec.targets",),
    ("netspec.api",),
    ("netspec.app", "netspec.__main__"),
)
FRONT_END = (
    "netspec.api",
    "netspec.config",
    "netspec.app",
    "netspec.language.parser",
    "netspec.language.grammar",
    "netspec.language.syntax_errors",
    "netspec.language.lower",
    "netspec.language.fmt",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The netspec modules a module imports, anywhere in it (lazy imports in functions count;
    imports only for type checkers do not)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for child in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("netspec"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("netspec"):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
    return {name for name in found if name in known}


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    known = set(modules)
    return {name: imports_of(path, known) - {name} for name, path in modules.items()}


def stage_of(module: str) -> int | None:
    for index, prefixes in enumerate(STAGES):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def test_every_module_belongs_to_a_stage() -> None:
    loose = [m for m in all_modules() if m != "netspec" and stage_of(m) is None]
    assert loose == []


def test_imports_point_down_the_pipeline() -> None:
    upward = [
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        if module != "netspec"
        for target in targets
        if stage_of(target) is not None and stage_of(target) > stage_of(module)
    ]
    assert upward == []


def test_no_import_cycles() -> None:
    graph = import_graph()
    # Tarjan's strongly connected components, iteratively: a component of two or more modules
    # is a circle of imports.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    circles: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    assert circles == []


def test_targets_never_import_the_front_end() -> None:
    reached = [
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        if module.startswith("netspec.targets")
        for target in targets
        if any(target == f or target.startswith(f + ".") for f in FRONT_END)
    ]
    assert reached == []


def test_a_target_loads_without_the_parser() -> None:
    """Importing a target (or the catalog) does not load lark, jinja2's users aside."""
    code = (
        "import sys, netspec.targets.torch.target, netspec.layers.catalog\n"
        "print(sorted(m for m in ('lark', 'netspec.api', 'netspec.language.parser') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
