"""Generated code is in black's layout already: black leaves it unchanged, so `gen` need not run
black (netspec.targets.base.format_python), and a user's own black never makes it stale."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import black
import pytest

from netspec.api import generate_source
from netspec.targets import base
from netspec.targets.base import TARGETS, GenerationError
from netspec.targets.layout import LINE_LENGTH, lay_out

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.ns"))
SPECS = EXAMPLES + sorted((ROOT / "tests" / "codegen_cases").glob("*.ns"))
CASES = [(spec, target) for spec in SPECS for target in TARGETS]


def _black(source: str) -> str:
    return black.format_str(source, mode=black.Mode())


@pytest.mark.parametrize(
    ("spec", "target"), CASES, ids=[f"{s.parent.name}/{s.stem}-{t}" for s, t in CASES]
)
def test_black_leaves_generated_code_unchanged(
    spec: Path, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[str] = []
    run_black = base.run_black

    def black_ran(source: str) -> str:
        ran.append(source)
        return run_black(source)

    monkeypatch.setattr(base, "run_black", black_ran)
    try:
        source = generate_source(spec.read_text(encoding="utf-8"), spec.name, target)
    except GenerationError:
        pytest.skip(f"{spec.name} is not generated for {target}")
    assert _black(source) == source
    if spec in EXAMPLES:  # gen of the examples is quick: every statement laid out, no black
        assert not ran, "gen ran black: a statement is not laid out in black's layout"


STATEMENTS = [
    'conv = keras.layers.Conv2D(64, (7, 7), strides=(2, 2), padding="same", name="conv_with_a_long_name")(x)',
    "x = torch.cat([first_branch_output, second_branch_output, third_branch_output_x], dim=1)",
    'x = self.layer_with_a_rather_long_name(x.permute(0, 2, 3, 1), weights["layer/kernel"])[0]',
    'y = weights_and_more_weights_table["a_very_long_key_that_is_long/kernel", "other", 3]',
    "return first_output_tensor, second_output_tensor, third_output_tensor, fourth_tensor",
    "del first_value_with_a_long_name, second_value_with_a_long_name, third_value_long_x",
    "add = first_term_of_the_sum + second_term_of_the_sum + third_term_of_the_sum_xyz",
    "y = features.permute(0, 2, 3, 1).reshape(-1, 4, 6, 5).permute(0, 3, 1, 2).contiguous()",
    'x = f(lambda a, b: a + b, [value for value in range(10)], "it, is (a) string", other=3)',
    "z = g((first_element_of_tuple_abcdef, second_element_of_tuple_abcdef), h(aaaa, bbbbbbb, c))",
    "w = (first_operand_of_the_expression + second_operand_of_the_expression) * thirdxyz",
    "a, b = self.lstm(x, (state_h_of_the_first_layer, state_c_of_the_first_layer_and_more_a))",
    "v = nested(outer_argument, inner(deep_argument_one, deep_argument_two, deep_argument_three, x))",
]


def _meaning(source: str) -> str:
    """The AST, with `del (a, b)` read as `del a, b` (the same deletions, as black reads it)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        one_tuple = isinstance(node, ast.Delete) and len(node.targets) == 1
        if one_tuple and isinstance(node.targets[0], ast.Tuple):
            node.targets = node.targets[0].elts
    return ast.dump(tree)


@pytest.mark.parametrize("statement", STATEMENTS)
@pytest.mark.parametrize("indent", [0, 8, 24])
def test_layout_keeps_the_meaning_and_is_black_stable(statement: str, indent: int) -> None:
    laid = lay_out(statement, indent)
    pad = " " * indent
    nested = "".join(" " * (4 * i) + "if True:\n" for i in range(indent // 4))
    source = nested + pad + laid + "\n"
    original = nested + pad + statement + "\n"
    assert _meaning(source) == _meaning(original)
    lines = source.splitlines()
    if all(len(line) <= LINE_LENGTH for line in lines):
        assert _black(source) == source  # the statements are black's own spacing
    else:
        assert laid == statement  # not laid out: left to black whole


@pytest.mark.parametrize("target", TARGETS)
def test_gen_of_an_example_does_not_import_black(target: str, tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from netspec.app.cli import main\n"
        "try:\n"
        f"    main(['gen', '-t', {target!r}, '-o', sys.argv[2], sys.argv[1]])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('black' in sys.modules)\n"
    )
    out = tmp_path / "model.py"
    result = subprocess.run(
        [sys.executable, "-c", probe, str(ROOT / "examples" / "tiny_resnet.ns"), str(out)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.exists()
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_a_module_that_does_not_compile_is_never_returned() -> None:
    table = "class A:\n    # fmt: off\n    T = {\n        'a': (1,),\n    }\n    # fmt: on\n"
    assert base.format_python(table + "    x = 1\n", laid_out=True).startswith("class A:")
    with pytest.raises(GenerationError, match="does not parse"):
        base.format_python(table + "    x = (1,\n", laid_out=True)
    with pytest.raises(GenerationError, match="does not parse"):
        base.format_python("def f(:\n    pass\n", laid_out=True)
