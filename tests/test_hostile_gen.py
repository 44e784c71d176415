"""Hostile input to gen, the configuration and the command line: a diagnostic or a clear error,
never an internal error; generated modules immune to names that shadow Python's builtins."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from generated import import_generated

import netspec
from netspec import codes
from netspec.api import generate_source, lint_source
from netspec.app.cli import main
from netspec.targets.base import TARGETS, GenerationError

HUGE = "9" * 320  # past a float's range: float() of it overflows


def errors(spec: str) -> list[netspec.Diagnostic]:
    return [d for d in netspec.lint_source(spec, "h.ns") if d.severity.value == "error"]


# --- 1. upsampling sizes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        f"model m {{\n    input [4, 4, 3]\n    upsampling2d({HUGE})\n}}\n",
        f"model m {{\n    input [4, 4, 3]\n    upsampling2d(({HUGE}, 2))\n}}\n",
        "model m {\n    input [4611686018427387904, 4, 3]\n    upsampling2d(4)\n}\n",
        "model m {\n    input [4611686018427387904, 3]\n    upsampling1d(4)\n}\n",
    ],
)
def test_an_upsampling_past_64_bits_is_out_of_range_on_its_size(spec: str) -> None:
    found = [d for d in errors(spec) if d.code == codes.VALUE_OUT_OF_RANGE]
    assert found, errors(spec)
    assert found[0].span.line == 3
    assert "size" in found[0].message


def test_an_output_past_a_floats_range_is_counted_without_overflow() -> None:
    dims = ", ".join(["4611686018427387904"] * 20)
    found = errors(f"model m {{\n    input [{dims}]\n    dense(1)\n}}\n")
    assert any(d.code == codes.WEIGHT_TOO_LARGE and "10^373" in d.message for d in found)


# --- 2. gen on specs that lint clean ------------------------------------------------------------


def compiled(compile_args: str, units: int = 3) -> str:
    return f"model m {{\n    input [2]\n    dense({units})\n    compile({compile_args})\n}}\n"


@pytest.mark.parametrize(
    ("compile_args", "argument"),
    [
        (f"loss=huber(delta={HUGE}), optimizer=sgd", "delta"),
        (f"loss=mse, optimizer=sgd(learning_rate={HUGE})", "learning_rate"),
        (f"loss=mse, optimizer=sgd(momentum={HUGE})", "momentum"),
        (f"loss=mse, optimizer=adam(beta_1={HUGE})", "beta_1"),
        (
            f"loss=categorical_crossentropy(label_smoothing={HUGE}), optimizer=sgd",
            "label_smoothing",
        ),
        ("loss=huber(delta=nan), optimizer=sgd", "delta"),
        ('loss=huber(delta="x"), optimizer=sgd', "delta"),
    ],
)
def test_torch_refuses_a_hyper_parameter_it_cannot_hold(compile_args: str, argument: str) -> None:
    """Refused either by lint (optimizers' arguments are checked against Keras) or by the torch
    target; either way the argument is named."""
    spec = compiled(compile_args)
    with pytest.raises(GenerationError) as error:
        generate_source(spec, "h.ns", "torch")
    said = [error.value.message, *(d.message for d in error.value.diagnostics)]
    assert any(f"`{argument}`" in text for text in said), said


def test_torch_maps_a_losss_positional_arguments_as_keras_does() -> None:
    source = generate_source(compiled("loss=huber(5.0), optimizer=sgd", 1), "h.ns", "torch")
    assert "nn.HuberLoss(delta=5.0)" in source
    source = generate_source(compiled("loss=mse(sum), optimizer=sgd", 1), "h.ns", "torch")
    assert (
        "No m_loss()" in source
    )  # a reduction torch does not take: said in a comment, not dropped


def test_keras_renders_weighted_metrics_as_a_list_of_metric_objects(tmp_path: Path) -> None:
    pytest.importorskip("keras")
    spec = compiled('loss=mse, optimizer=sgd, weighted_metrics=[mae(name="w"), "mse"]', 1)
    source = generate_source(spec, "h.ns", "keras")
    assert 'weighted_metrics=[keras.metrics.MeanAbsoluteError(name="w"), "mse"]' in source
    module = import_generated(source, tmp_path, "keras")
    model = module.build_m()
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0)


@pytest.mark.parametrize(
    ("spec", "argument"),
    [
        (compiled("loss=mse, optimizer=sgd, loss_weights=foo(1)"), "loss_weights"),
        (compiled("loss=mse, optimizer=sgd, weighted_metrics=[_(1)]"), "weighted_metrics"),
        (compiled("loss=mse, optimizer=sgd, steps_per_execution=__()"), "steps_per_execution"),
        (compiled("loss=mse, optimizer=sgd(learning_rate=_(1))"), "optimizer"),
        (
            "model m {\n    input [2]\n    dense(1, kernel_initializer=variance_scaling(mode=_(1)))\n}\n",
            "kernel_initializer",
        ),
        ("model m {\n    input [5, 2]\n    lstm(1, use_cudnn=__(1))\n}\n", "use_cudnn"),
    ],
)
def test_keras_refuses_a_call_it_has_no_class_for(spec: str, argument: str) -> None:
    with pytest.raises(GenerationError) as error:
        generate_source(spec, "h.ns", "keras")
    assert "internal error" not in error.value.message
    if not errors(spec):  # lint may come to check these arguments itself; gen refuses regardless
        assert f"`{argument}`" in error.value.message


@pytest.mark.parametrize("target", TARGETS)
def test_a_call_inside_a_call_never_crashes_gen(target: str) -> None:
    spec = "model m {\n    input [2]\n    dense(1, kernel_initializer=constant(__()))\n}\n"
    try:
        source = generate_source(spec, "h.ns", target)
    except GenerationError as error:
        assert "internal error" not in error.message
        assert "__(...)" in error.message or errors(spec)
    else:
        compile(source, "h.py", "exec")


# --- 3. the configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"[tool.netspec.rules]\nhigh-dropout-rate = nan\n", "high-dropout-rate"),
        (b"[tool.netspec.rules]\ndeep-network-layers = -1\n", "deep-network-layers"),
        (b'[tool.netspec]\nselect = ["NS"] # \xe9\xff\n', "not UTF-8"),
        (b"[tool.netspec]\nx = " + b"[" * 50_000 + b"]" * 50_000 + b"\n", "not valid TOML"),
    ],
)
def test_a_bad_pyproject_is_a_configuration_error(
    content: bytes, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_bytes(content)
    spec = tmp_path / "m.ns"
    spec.write_text("model m {\n    input [2]\n    dense(1)\n}\n", encoding="utf-8")
    assert main(["lint", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err
    assert str(tmp_path / "pyproject.toml") in err and expected in err


# --- 4. standard input closed -------------------------------------------------------------------

CLOSED_STDIN = """
import os, sys
os.close(0)
{closing}
from netspec.app.cli import main
sys.exit(main({argv!r}))
"""


@pytest.mark.parametrize("closing", ["", "sys.stdin = None"])
@pytest.mark.parametrize(
    "argv",
    [["lint", "-"], ["lint", "--stdin-filename", "x.ns"], ["summary", "-"], ["fmt", "-"],
     ["gen", "-", "-t", "numpy"], ["lsp"]],
)  # fmt: skip
def test_closed_standard_input_is_a_clear_error(
    argv: list[str], closing: str, tmp_path: Path
) -> None:
    code = CLOSED_STDIN.format(closing=closing, argv=argv)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "standard input is closed" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


# --- 5. an empty selection ----------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--select", "--extend-select", "--ignore"])
@pytest.mark.parametrize("value", ["", " , "])
def test_a_selection_flag_naming_no_code_is_a_usage_error(
    flag: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "bad.ns"
    spec.write_text("model m {\n    dense(1)\n}\n", encoding="utf-8")
    assert main(["lint", str(spec), f"{flag}={value}"]) == 2
    err = capsys.readouterr().err
    assert f"{flag}: {value!r} names no code" in err


def test_a_selection_with_a_trailing_comma_still_selects(tmp_path: Path) -> None:
    spec = tmp_path / "bad.ns"
    spec.write_text("model m {\n    dense(1)\n}\n", encoding="utf-8")
    assert main(["lint", str(spec), "--select=NS0,", "--quiet"]) == 1


# --- 6. names that shadow builtins --------------------------------------------------------------

SHADOWS = """\
model shadows {
    len = input [8, 8, 3]
    a = len -> conv2d(4, 3, padding=same, strides=2, activation=relu, name=range)
    b = a -> batch_norm(name=sum)
    c = b -> max_pool2d(2, padding=same, name=max)
    d = c -> avg_pool2d(1, name=min)
    e = d -> upsampling2d(2, interpolation=bilinear, name=print)
    f = e -> depthwise_conv2d(3, padding=same, activation=relu, name=abs)
    g = f -> separable_conv2d(4, 3, padding=same, activation=relu, name=tuple)
    h = g -> conv2d_transpose(4, 3, strides=2, padding=same, activation=relu, name=list)
    i = h -> global_avg_pool2d(name=zip)
    j = i -> dense(6, gelu, name=int)
    k = j -> dropout(0.1, name=bool)
    l = k -> layer_norm(name=object)
    m = l -> dense(6, relu, name=dict)
    n = m -> reshape((3, 2), name=str)
    o = n -> lstm(4, return_sequences=true, name=iter)
    p = o -> gru(4, name=next)
    q = p -> dense(4, relu, name=isinstance)
    r = j -> dense(4, tanh, name=getattr)
    s = concat(q, r, name=super)
    t = s -> dense(3, name=enumerate)
    u = s -> dense(3, name=sorted)
    v = add(t, u, name=map)
    w = v -> softmax(name=reversed)
    output w
}

model stack {
    input [5]
    dense(4, relu, name=len)
    dense(2, name=range)
}

model tokens {
    ord = input [6] int32
    x = ord -> embedding(10, 4, name=chr)
    y = x -> simple_rnn(3, name=bytes)
    output y
}
"""


def _inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [
        rng.normal(size=(2, 8, 8, 3)).astype("float32"),
        rng.normal(size=(2, 5)).astype("float32"),
        rng.integers(0, 10, size=(2, 6)).astype("int32"),
    ]


def _run(module, target: str) -> list[tuple[int, ...]]:
    """Each model of SHADOWS built and run once on a batch of two."""
    classes = ("Shadows", "Stack", "Tokens")
    if target == "numpy":
        return [getattr(module, c)()(x).shape for c, x in zip(classes, _inputs())]
    if target == "keras":
        builders = (module.build_shadows, module.build_stack, module.build_tokens)
        return [tuple(build()(x).shape) for build, x in zip(builders, _inputs())]
    import torch

    shapes = []
    for cls, x in zip(classes, _inputs()):
        tensor = torch.from_numpy(x)
        model = getattr(module, cls)().eval()
        with torch.no_grad():
            out = model(tensor.permute(0, 3, 1, 2) if tensor.ndim == 4 else tensor)
        shapes.append(tuple(out.shape))
    return shapes


@pytest.mark.parametrize("target", TARGETS)
def test_layers_named_like_builtins_generate_and_run(target: str, tmp_path: Path) -> None:
    pytest.importorskip({"numpy": "numpy", "keras": "keras", "torch": "torch"}[target])
    assert not errors(SHADOWS)
    source = generate_source(SHADOWS, "shadows.ns", target)
    module = import_generated(source, tmp_path, target)
    assert _run(module, target) == [(2, 3), (2, 2), (2, 3)]


@pytest.mark.parametrize("name", ["keras", "np", "torch", "nn", "F", "type", "float"])
def test_names_the_generated_code_uses_are_refused(name: str) -> None:
    spec = f"model m {{\n    input [2]\n    dense(1, name={name})\n}}\n"
    assert codes.UNUSABLE_NAME in [d.code for d in errors(spec)]
    spec = f"model m {{\n    {name} = input [2]\n    y = {name} -> dense(1)\n    output y\n}}\n"
    assert codes.UNUSABLE_NAME in [d.code for d in errors(spec)]


@pytest.mark.parametrize("target", ["keras", "torch", "numpy"])
def test_a_model_class_that_shadows_a_builtin_is_refused(target: str) -> None:
    """`value_error` would be class ValueError, which the generated code raises itself."""
    spec = "model value_error {\n    input [2]\n    dense(1)\n}\n"
    (found,) = lint_source(spec, "h.ns")
    assert (found.code, found.span.line, found.span.column) == ("NS020", 1, 7)
    assert "ValueError" in found.message and "builtin" in found.message
    with pytest.raises(GenerationError) as error:
        generate_source(spec, "h.ns", target)
    assert "NS020" in {d.code for d in error.value.diagnostics}


def test_relu_capped_at_zero_builds_in_torch_as_in_keras(tmp_path) -> None:
    """Keras accepts relu(max_value=0) (zeros out); torch's Hardtanh refuses max_val 0."""
    import numpy as np
    from generated import import_generated

    spec = "model m {\n    input [3]\n    relu(0.0)\n}\n"
    module = import_generated(generate_source(spec, "m.ns", "torch"), tmp_path, "torch")
    import torch

    out = module.M()(torch.tensor([[-1.0, 0.5, 2.0]]))
    assert np.array_equal(out.detach().numpy(), np.zeros((1, 3), dtype=np.float32))


def test_keras_names_each_call_by_its_catalog_class(tmp_path: Path) -> None:
    """`huber_loss`, `acc` and `log_cosh` are spellings of Huber, Accuracy and LogCoshError."""
    pytest.importorskip("keras")
    from generated import import_generated

    spec = compiled("loss=huber_loss(2.0), optimizer=sgd, metrics=[acc, log_cosh]", 1)
    source = generate_source(spec, "h.ns", "keras")
    assert "keras.losses.Huber(2.0)" in source
    module = import_generated(source, tmp_path, "keras")
    model = module.build_m()
    assert model.loss.__class__.__name__ == "Huber"


def test_keras_gets_a_float_where_the_catalog_says_float(tmp_path: Path) -> None:
    """F1Score refuses `threshold=1` (an int): an integer written where Keras takes a float is
    generated as a float, in call values and layer arguments alike."""
    pytest.importorskip("keras")

    spec = (
        "model m {\n    input [2]\n    dense(1, sigmoid)\n"
        "    compile(loss=binary_crossentropy, optimizer=sgd(learning_rate=1), "
        "metrics=[f1_score(threshold=1)])\n}\n"
    )
    assert netspec.lint_source(spec) == []
    source = generate_source(spec, "h.ns", "keras")
    assert "keras.metrics.F1Score(threshold=1.0)" in source
    assert "learning_rate=1.0" in source
    module = import_generated(source, tmp_path, "keras")
    model = module.build_m()
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0)
