"""The design rules: each documented with examples, each with data cases that give what they expect."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from netspec.api import lint_source, load_program
from netspec.app.cli import main
from netspec.check.rules import REGISTRY, Rule, RuleConfig, by_code, run_rules
from netspec.check.shapes import infer_shapes
from netspec.diagnostics import Diagnostic, DiagnosticSink, Severity
from netspec.layers.ops import is_operation

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "rules"
EXAMPLES = sorted((ROOT / "examples").glob("*.ns"))
EXPECT = re.compile(r"^#\s*expect:\s*(\S+)\s+(\d+)\s*$", re.MULTILINE)
CODE = re.compile(r"^NS\d{3}$")


def case_folder(rule: Rule) -> Path:
    return CASES / f"{rule.code}-{rule.name}"


def found(text: str, path: str, code: str) -> list[tuple[str, int]]:
    return sorted((d.code, d.span.line) for d in lint_source(text, path) if d.code == code)


def errors(diagnostics: list[Diagnostic]) -> list[str]:
    return [
        f"{d.code} {d.span.line}: {d.message}" for d in diagnostics if d.severity is Severity.ERROR
    ]


def by_id(rule: Rule) -> str:
    return f"{rule.code}-{rule.name}"


# ---- the registry ----------------------------------------------------------------------------


def test_codes_and_names_are_unique() -> None:
    assert len({r.code for r in REGISTRY}) == len(REGISTRY)
    assert len({r.name for r in REGISTRY}) == len(REGISTRY)


def test_registry_is_in_code_order() -> None:
    assert [r.code for r in REGISTRY] == sorted(r.code for r in REGISTRY)


def test_every_case_folder_belongs_to_a_rule() -> None:
    folders = {p.name for p in CASES.iterdir() if p.is_dir()}
    assert folders == {f"{r.code}-{r.name}" for r in REGISTRY}


def test_lookup_by_code_or_name() -> None:
    assert by_code("NS201") is by_code("linear-collapse") is REGISTRY[0]
    assert by_code("NS999") is None


@pytest.mark.parametrize("rule", REGISTRY, ids=by_id)
def test_rule_is_documented(rule: Rule) -> None:
    assert CODE.match(rule.code)
    # Design warnings and hints are NS2xx, the output layer against the loss NS3xx.
    assert rule.code[2] in "23"
    assert rule.kebab_case, rule.name
    assert rule.severity in (Severity.WARNING, Severity.INFO)
    assert rule.summary and rule.summary.endswith("."), rule.summary
    prose = rule.doc.split("Bad:")[0].splitlines()[1:]
    assert any(line.strip() for line in prose), "the docstring explains what and why"
    assert set(rule.examples) == {"Bad", "Good"}, rule.doc


@pytest.mark.parametrize("rule", REGISTRY, ids=by_id)
def test_bad_example_of_the_docstring_triggers_the_rule(rule: Rule) -> None:
    diagnostics = lint_source(rule.examples["Bad"], f"{rule.code}-bad-example.ns")
    assert not errors(diagnostics)
    assert rule.code in {d.code for d in diagnostics}


@pytest.mark.parametrize("rule", REGISTRY, ids=by_id)
def test_good_example_of_the_docstring_is_clean(rule: Rule) -> None:
    diagnostics = lint_source(rule.examples["Good"], f"{rule.code}-good-example.ns")
    # The fixed example should not trade one warning for another.
    assert [(d.code, d.message) for d in diagnostics if d.severity is not Severity.INFO] == []
    assert rule.code not in {d.code for d in diagnostics}


def _section(page: str, code: str) -> str:
    """The part of docs/rules.md under `## CODE`, up to the next rule's heading."""
    start = page.index(f"\n## {code}\n")
    end = page.find("\n## ", start + 1)
    return page[start : end if end != -1 else len(page)]


@pytest.mark.parametrize("rule", REGISTRY, ids=by_id)
def test_every_place_a_rule_is_explained_shows_the_mistake_and_the_design(
    rule: Rule, capsys
) -> None:
    # The docstring, `netspec rule CODE` and docs/rules.md each show the mistake the rule reports
    # next to a correct design it leaves alone, and the two differ.
    bad, good = rule.examples["Bad"], rule.examples["Good"]
    assert bad.strip() != good.strip()
    assert main(["rule", rule.code]) == 0
    told = capsys.readouterr().out
    assert bad in told and good in told
    assert told.index("Bad:") < told.index("Good:")
    section = _section((ROOT / "docs" / "rules.md").read_text(), rule.code)
    assert bad in section and good in section


# ---- the data cases --------------------------------------------------------------------------


@pytest.mark.parametrize("rule", REGISTRY, ids=by_id)
def test_rule_has_cases(rule: Rule) -> None:
    assert (case_folder(rule) / "bad.ns").is_file()
    assert (case_folder(rule) / "good.ns").is_file()


@pytest.mark.parametrize("rule", REGISTRY, ids=by_id)
def test_bad_case_gives_exactly_what_it_expects(rule: Rule) -> None:
    path = case_folder(rule) / "bad.ns"
    text = path.read_text()
    expected = sorted((code, int(line)) for code, line in EXPECT.findall(text))
    assert expected, f"{path} has no `# expect: CODE LINE` lines"
    assert {code for code, _ in expected} == {rule.code}
    assert not errors(lint_source(text, str(path)))
    assert found(text, str(path), rule.code) == expected


@pytest.mark.parametrize("rule", REGISTRY, ids=by_id)
def test_good_case_gives_nothing_of_its_code(rule: Rule) -> None:
    path = case_folder(rule) / "good.ns"
    text = path.read_text()
    assert not errors(lint_source(text, str(path)))
    assert found(text, str(path), rule.code) == []


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_draw_no_warning(example: Path) -> None:
    diagnostics = lint_source(example.read_text(), str(example))
    assert [
        (d.code, d.span.line, d.message) for d in diagnostics if d.severity is not Severity.INFO
    ] == []


# ---- how findings are reported ---------------------------------------------------------------


def test_a_finding_in_a_block_says_where_the_block_was_used() -> None:
    text = (case_folder(by_code("NS201")) / "bad.ns").read_text()
    (diagnostic,) = [d for d in lint_source(text, "bad.ns") if d.span.line == 31]
    assert [n.message for n in diagnostic.notes] == [
        "dense_1 (line 32) takes its output",
        "in block linear_pair, used at line 37",
    ]
    assert [n.span.line for n in diagnostic.notes if n.span is not None] == [32, 37]


def test_a_block_used_twice_reports_once_with_the_other_layers() -> None:
    text = "block pair { dense(4)\n dense(4) }\nmodel m {\n input [2]\n pair\n relu\n pair\n}\n"
    found_here = [d for d in lint_source(text, "t.ns") if d.code == "NS201"]
    assert len(found_here) == 1
    assert found_here[0].message.startswith("dense (4 units, no activation) feeds dense_1")
    assert found_here[0].span.line == 1
    assert any(
        "1 more layer from" in n.message and "dense_2" in n.message for n in found_here[0].notes
    )


def test_the_seed_without_activations_names_layers_and_widths() -> None:
    text = "model seed {\n    input [2]\n    dense(4)\n    dense(3)\n    dense(1)\n}\n"
    messages = [d.message for d in lint_source(text, "seed.ns") if d.code == "NS201"]
    assert messages[0] == (
        "dense (4 units, no activation) feeds dense_1 directly: the two are one linear map; "
        "add an activation such as relu to dense"
    )


def _without_activations(text: str) -> str:
    return re.sub(r",\s*(activation=)?relu\b", "", text)


def test_the_seed_without_activations_warns_at_the_layers_to_change() -> None:
    """The seed's lesson: its two hidden layers stripped of relu each get NS201 at their own
    line (the layer to change), with the layer they feed as related information."""
    path = ROOT / "examples" / "seed.ns"
    text = _without_activations(path.read_text())
    lines = text.splitlines()
    for model in ("seed", "seed_keras"):
        start = lines.index(next(line for line in lines if line.startswith(f"model {model} ")))
        end = lines.index("}", start)
        spec = "\n".join(lines[start : end + 1]) + "\n"
        warned = [d for d in lint_source(spec, "seed.ns") if d.code == "NS201"]
        spec_lines = spec.splitlines()
        assert [spec_lines[d.span.line - 1].strip().split("(")[0] for d in warned] == [
            "dense",
            "dense",
        ]
        for diagnostic, feeds in zip(warned, ("(3", "(1")):
            (related,) = [n for n in diagnostic.notes if n.span is not None]
            assert related.span.line == diagnostic.span.line + 1
            assert spec_lines[related.span.line - 1].strip().startswith("dense" + feeds)


def test_an_error_upstream_causes_no_rule_findings_downstream() -> None:
    # The window does not fit: everything after the conv has an unknown shape.
    text = "model m {\n input [2, 2, 1]\n conv2d(4, 3)\n dense(4)\n dense(1, softmax)\n}\n"
    diagnostics = lint_source(text, "t.ns")
    assert [d.code for d in diagnostics] == ["NS101"]


def test_loss_rules_point_at_the_loss_too() -> None:
    text = "model m {\n input [4]\n dense(3)\n compile(loss=categorical_crossentropy)\n}\n"
    (diagnostic,) = [d for d in lint_source(text, "t.ns") if d.code == "NS301"]
    assert diagnostic.span.line == 3
    assert diagnostic.notes[0].span is not None and diagnostic.notes[0].span.line == 4


# ---- configuration ---------------------------------------------------------------------------


def run(text: str, config: RuleConfig) -> list[str]:
    sink = DiagnosticSink("t.ns")
    for graph in load_program(text, "t.ns").graphs:
        run_rules(infer_shapes(graph, sink), sink, config)
    return [d.code for d in sink.items]


def test_thresholds_come_from_the_config() -> None:
    text = "model m {\n input [8]\n dense(8, relu)\n dropout(0.6)\n dense(1)\n}\n"
    assert "NS221" in run(text, RuleConfig())
    assert "NS221" not in run(text, RuleConfig(high_dropout_rate=0.7))


def test_blow_up_thresholds() -> None:
    text = by_code("NS209").examples["Bad"]
    assert "NS209" in run(text, RuleConfig())
    assert "NS209" not in run(text, RuleConfig(blowup_min_params=10**9))
    assert "NS209" not in run(text, RuleConfig(blowup_share=1.0))


def test_depth_threshold() -> None:
    text = "model m {\n input [8]\n repeat 4 { dense(8, relu) }\n dense(1)\n}\n"
    assert "NS225" not in run(text, RuleConfig())
    assert "NS225" in run(text, RuleConfig(deep_network_layers=4))


def test_saturating_threshold() -> None:
    text = "model m {\n input [8]\n repeat 3 { dense(8, tanh) }\n dense(1)\n}\n"
    assert "NS226" not in run(text, RuleConfig())
    assert "NS226" in run(text, RuleConfig(saturating_layers=2))


@pytest.mark.parametrize(
    "options",
    [
        {"high_dropout_rate": 1.5},
        {"blowup_share": "half"},
        {"blowup_min_params": -1},
        {"deep_network_layers": 0},
        {"deep_network_layers": True},
        {"saturating_layers": 0},
    ],
)
def test_bad_thresholds_are_refused(options: dict) -> None:
    with pytest.raises(ValueError):
        RuleConfig(**options)


# ---- facts the rules rely on -----------------------------------------------------------------


def _keras_layer(keras, kind, **extra):
    """A Keras layer of a catalog kind, built with the fewest arguments it takes (and `extra`)."""
    layers = keras.layers
    if is_operation(kind):
        # `x * 0.5`: the Keras target applies the operation in a Lambda of netspec's name.
        return layers.Lambda(lambda t: t)
    cls = getattr(layers, kind.keras_class)
    if kind.keras_class == "Activation":
        return cls("relu")
    if kind.keras_class == "InputLayer":
        return cls(shape=(2,))
    if kind.keras_class in ("Bidirectional", "TimeDistributed"):
        return cls(layers.LSTM(2) if kind.keras_class == "Bidirectional" else layers.Dense(2))
    required = {
        "units": 2, "input_dim": 4, "output_dim": 2, "rate": 0.1, "stddev": 0.1,
        "target_shape": (2,), "dims": (1,), "n": 2, "scale": 1.0, "filters": 2,
        "kernel_size": 1, "pool_size": 2, "groups": 1, "axes": 1, "num_heads": 2, "key_dim": 2,
        "equation": "ab,bc->ac", "output_shape": 2, "height": 2, "width": 2, "factor": 0.1,
        "height_factor": 0.1, "width_factor": 0.1,
    }  # fmt: skip
    args = {a.name: required[a.name] for a in kind.args if a.required}
    return cls(**args, **extra)


def test_mask_traits_match_keras() -> None:
    """NS214 asks a kind's mask trait whether it keeps a mask: that is Keras' own
    `supports_masking`, for every kind with a layer class of its own; a kind that makes a mask
    when an argument says so (embedding's mask_zero) supports it then."""
    keras = pytest.importorskip("keras")
    from netspec.layers.catalog import all_kinds
    from netspec.layers.traits import MaskFlow

    for kind in all_kinds():
        if kind.fixed_activation is not None:
            continue  # `tanh` is Activation("tanh"), checked as the activation kind
        if not hasattr(keras.layers, kind.keras_class):
            continue  # keras_hub's PositionEmbedding: keras_hub is not installed here
        mask = kind.traits.mask
        layer = _keras_layer(keras, kind)
        assert layer.supports_masking is (mask.flow is not MaskFlow.DROPS), kind.name
        if isinstance(mask.makes, str):
            masked = _keras_layer(keras, kind, **{mask.makes: True})
            assert masked.supports_masking, kind.name


def test_merge_kinds_say_what_they_compute() -> None:
    """NS204 asks a merge what it computes (a mean keeps probabilities, a product weighs)."""
    from netspec.layers.catalog import all_kinds
    from netspec.layers.traits import Merge

    for kind in all_kinds():
        assert (kind.traits.merge is not Merge.NONE) is kind.is_merge, kind.name


# ---- messages that give the fix --------------------------------------------------------------


def test_an_activation_on_the_strides_says_to_write_activation() -> None:
    text = "model m {\n input [28, 28, 1]\n conv2d(32, 3, relu)\n flatten\n dense(10)\n}\n"
    (diagnostic,) = lint_source(text, "t.ns")
    assert diagnostic.code == "NS006" and diagnostic.span.line == 3
    assert diagnostic.message.endswith("`relu` is an activation: write activation=relu")


def test_an_activation_where_a_layer_takes_none_says_to_add_a_layer() -> None:
    text = "model m {\n input [28, 28, 1]\n max_pool2d(2, relu)\n flatten\n dense(10)\n}\n"
    (diagnostic,) = lint_source(text, "t.ns")
    assert diagnostic.code == "NS006"
    assert "max_pool2d does not take: add a relu layer after it" in diagnostic.message


def test_a_recurrent_layer_after_a_recurrent_layer_says_return_sequences() -> None:
    text = "model m {\n input [10, 8]\n lstm(32)\n lstm(16)\n}\n"
    (diagnostic,) = lint_source(text, "t.ns")
    assert diagnostic.code == "NS106" and diagnostic.span.line == 4
    assert "lstm before it gives only its last step" in diagnostic.message
    assert diagnostic.help == "set return_sequences=true on lstm"
    assert [note.span.line for note in diagnostic.notes if note.span] == [3]
    # Through dropout, and a wrapped one: the help names the layer inside the wrapper.
    text = "model m {\n input [10, 8]\n bidirectional(lstm(8))\n dropout(0.1)\n gru(4)\n}\n"
    (diagnostic,) = lint_source(text, "t.ns")
    assert diagnostic.help == "set return_sequences=true on the lstm inside bidirectional"
    # Flatten made the vector: the general advice stays.
    text = "model m {\n input [10, 8]\n flatten\n lstm(4)\n}\n"
    (diagnostic,) = lint_source(text, "t.ns")
    assert diagnostic.help is None and "repeat_vector" in diagnostic.message


def test_a_pair_rule_names_the_other_layer_as_related_information(tmp_path, capsys) -> None:
    """SARIF carries the consumer as a related location of the producer's warning."""
    import json

    from netspec.app.cli import main

    path = tmp_path / "seed.ns"
    path.write_text("model seed {\n    input [2]\n    dense(4)\n    dense(1)\n}\n")
    main(["lint", "--format", "sarif", str(path)])
    (result,) = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    assert result["ruleId"] == "NS201"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    (related,) = result["relatedLocations"]
    assert related["physicalLocation"]["region"]["startLine"] == 4
    assert related["message"]["text"] == "dense_1 (line 4) takes its output"


@pytest.mark.parametrize(
    ("code", "at", "other"),
    [("NS203", 4, 3), ("NS208", 6, 7), ("NS217", 6, 5)],
)
def test_every_pair_rule_points_at_the_other_layer_of_its_pair(
    code: str, at: int, other: int
) -> None:
    """The warning stands at the layer to change; the note points at the other of the pair."""
    text = (
        "model m {\n    input [16]\n    dense(8, relu)\n    relu\n    dropout(0.3)\n"
        "    dropout(0.2)\n    batch_norm\n    dense(1)\n}\n"
    )
    (found,) = [d for d in lint_source(text, "pairs.ns") if d.code == code]
    assert found.span.line == at
    assert [n.span.line for n in found.notes if n.span is not None] == [other]


def test_kl_divergence_on_raw_scores_is_the_head_against_the_loss() -> None:
    """KLDivergence has no from_logits: a linear head is clipped into [1e-7, 1], not squashed."""
    text = (
        "model m {\n    input [16]\n    dense(32, relu)\n    dense(10)\n"
        "    compile(loss=kl_divergence, optimizer=adam)\n}\n"
    )
    found = [(d.code, d.span.line) for d in lint_source(text, "kld.ns") if d.code == "NS302"]
    assert found == [("NS302", 4)]
    softmax = text.replace("dense(10)", "dense(10, softmax)")
    assert [d for d in lint_source(softmax, "kld.ns") if d.code.startswith("NS30")] == []
