"""A layer kind's name is written in the catalog and in the targets' registries, nowhere else in
the package: a rule or a target asks the kind's traits instead of keeping a list of names that a
new kind would have to join by hand.

A word that is also a word of another vocabulary (an activation function, an argument name or
one of its choices, a loss) is not a kind name here: `"relu"` as an activation is fine; nor, in a
target, the name of a function its templates define (the numpy module's `_dense`, `_lstm`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import netspec
from netspec.layers import catalog
from netspec.layers.common import ACTIVATIONS
from netspec.layers.training import LOSSES, METRICS, OPTIMIZERS
from netspec.targets.base import templates_dir

PACKAGE = Path(netspec.__file__).resolve().parent

OTHER_WORDS = {
    *ACTIVATIONS,
    *LOSSES,
    *METRICS,
    *OPTIMIZERS,
    *(arg.name for kind in catalog.all_kinds() for arg in kind.args),
    *(choice for kind in catalog.all_kinds() for arg in kind.args for choice in arg.choices),
}
ALL_KIND_NAMES = {kind.name for kind in catalog.all_kinds()}
KIND_NAMES = ALL_KIND_NAMES - OTHER_WORDS
# The functions the generated modules define (`def _dense(`) and the torch target's weight
# conversions: words of a target's own vocabulary, in that target's files.
TEMPLATE_FUNCTIONS = {
    line.split("(")[0].removeprefix("def _")
    for path in templates_dir().glob("*.jinja")
    for line in path.read_text(encoding="utf-8").splitlines()
    if line.startswith("def _")
}
TARGET_WORDS = {"numpy": TEMPLATE_FUNCTIONS, "torch": {"reshape"}}


def allowed(path: Path) -> bool:
    relative = path.relative_to(PACKAGE).as_posix()
    return relative.startswith("layers/") or relative.endswith("/registry.py")


def target_words(path: Path) -> set[str]:
    parts = path.relative_to(PACKAGE).parts
    return TARGET_WORDS.get(parts[1], set()) if parts[0] == "targets" and len(parts) > 2 else set()


def docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.add(id(value))
    return found


def test_the_vocabulary_has_kind_names_to_look_for() -> None:
    assert {"dense", "conv2d", "max_pool2d", "global_avg_pool1d", "time_distributed"} <= KIND_NAMES


def test_no_kind_name_is_written_outside_the_catalog_and_the_registries() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if allowed(path):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = docstrings(tree)
        own = target_words(path)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in KIND_NAMES
                and node.value not in own
                and id(node) not in skip
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.value!r}")
    assert found == []


def names_a_kind(node: ast.expr) -> bool:
    """`kind.name`, `node.kind.name`, `spec.kind`: an expression that holds a kind's name."""
    return isinstance(node, ast.Attribute) and (
        node.attr == "kind" or (node.attr == "name" and "kind" in ast.unparse(node.value))
    )


def literal_names(node: ast.expr) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return {e.value for e in node.elts if isinstance(e, ast.Constant)} - {None}
    return set()


def test_no_kind_is_told_apart_by_its_name() -> None:
    """Whatever the word, comparing a kind's name with a literal is asking by name."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if allowed(path):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            if any(names_a_kind(s) for s in sides):
                words = set().union(*(literal_names(s) for s in sides)) & ALL_KIND_NAMES
                if words:
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {sorted(words)}")
    assert found == []


def test_the_docs_category_is_not_asked_as_meaning() -> None:
    """`kind.category` is a heading of docs/layers.md; rules and targets ask the traits."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("layers/") or relative == "app/docs.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "category"
                and "kind" in ast.unparse(node.value)
            ):
                found.append(f"{relative}:{node.lineno}")
    assert found == []
