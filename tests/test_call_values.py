"""Call values (initializers, regularizers, constraints, optimizers): every catalog entry against
its real Keras constructor, and each bad argument at its code, line and column."""

from __future__ import annotations

import inspect
import os
from typing import Any

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import netspec
from netspec import codes
from netspec.layers.base import CallValue
from netspec.layers.calls import ALL_CALLS, CallKind, Family, lookup_call
from netspec.layers.common import CONSTRAINTS, INITIALIZERS, REGULARIZERS
from netspec.layers.resolve import BindError, ValueProblem, bind, check_call_value
from netspec.layers.training import OPTIMIZERS

_MODULES = {
    Family.INITIALIZER: "initializers",
    Family.REGULARIZER: "regularizers",
    Family.CONSTRAINT: "constraints",
    Family.OPTIMIZER: "optimizers",
}


def described(name: str, default: Any) -> tuple[str, str, Any]:
    # The type too: 2 == 2.0, but the generated code and the docs show the literal.
    return (name, type(default).__name__, default)


@pytest.mark.parametrize("entry", ALL_CALLS, ids=lambda entry: entry.name)
def test_entry_is_the_keras_constructor(entry: CallKind) -> None:
    keras = pytest.importorskip("keras")
    cls = getattr(getattr(keras, _MODULES[entry.family]), entry.keras_class)
    params = [
        p
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    assert [described(a.name, a.default) for a in entry.args] == [
        described(p.name, p.default) for p in params
    ]


@pytest.mark.parametrize(
    ("family", "names"),
    [
        (Family.INITIALIZER, INITIALIZERS),
        (Family.REGULARIZER, REGULARIZERS),
        (Family.CONSTRAINT, CONSTRAINTS),
        (Family.OPTIMIZER, OPTIMIZERS),
    ],
)
def test_every_accepted_name_has_an_entry(family: Family, names: tuple[str, ...]) -> None:
    assert [n for n in names if lookup_call(family, n) is None] == []


def _spec(line: str) -> str:
    return "model m {\n    input [8]\n    " + line + "\n}\n"


HUGE = "1" + "0" * 320  # past the largest float: float(HUGE) raises OverflowError

# (id, layer line, code, the text the diagnostic starts at, a fragment of the message); the line
# is always 3. A call value's own argument at fault is pointed at, not the whole value.
CASES = [
    ("huge-int-for-float", f"dropout({HUGE})", "NS007", HUGE, "321 digits"),
    ("huge-int-in-arithmetic", f"dense({HUGE} * 2)", "NS007", HUGE, "321 digits"),
    ("huge-int-in-call", f"dense(4, kernel_regularizer=l1({HUGE}))", "NS007", HUGE, "out of range"),
    ("string-for-constant", 'dense(4, kernel_initializer=constant("x"))', "NS006", '"x"', "must be a number"),
    ("string-for-l2", 'dense(4, kernel_regularizer=l2("x"))', "NS006", '"x"', "must be a number"),
    ("word-nan", "dense(4, kernel_initializer=constant(nan))", "NS006", 'nan', "got nan"),
    ("inf-constant", "dense(4, kernel_initializer=constant(1e999))", "NS007", '1e999', "out of range: inf"),
    ("negative-l2", "dense(4, kernel_regularizer=l2(-0.1))", "NS007", "-0.1", ">= 0"),
    ("negative-stddev", "dense(4, kernel_initializer=random_normal(stddev=-1.0))", "NS007", '-1.0', ">= 0"),
    ("unknown-keyword", "dense(4, kernel_initializer=random_normal(bogus=1))", "NS003", 'bogus', "no argument `bogus`"),
    ("misspelt-keyword", "dense(4, kernel_initializer=random_normal(stdev=0.1))", "NS003", 'stdev', "did you mean `stddev`"),
    ("too-many-positional", "dense(4, kernel_initializer=constant(1.0, 2.0))", "NS003", '2.0', "at most 1 positional"),
    ("duplicate-keyword", "dense(4, kernel_initializer=constant(1.0, value=2.0))", "NS004", 'value', "given twice"),
    ("unknown-option", "dense(4, kernel_initializer=variance_scaling(mode=fan_ni))", "NS002", 'fan_ni', "did you mean `fan_in`"),
    ("scale-zero", "dense(4, kernel_initializer=variance_scaling(0.0))", "NS007", "0.0", "> 0"),
    ("minval-above-maxval", "dense(4, kernel_initializer=random_uniform(1.0, 0.0))", "NS007", '0.0', "must not exceed"),
    ("rate-above-one", "dense(4, kernel_constraint=min_max_norm(rate=2.0))", "NS007", "2.0", "in [0, 1]"),
    ("orthogonal-bias", "dense(4, bias_initializer=orthogonal)", "NS102", 'orthogonal', "bias weight is a vector"),
    ("orthogonal-bias-call", "dense(4, bias_initializer=orthogonal(seed=1))", "NS102", 'orthogonal', "rank 2 or more"),
    ("identity-conv-kernel", "conv1d(4, 3, kernel_initializer=identity)", "NS102", 'identity', "rank 3"),
    ("orthogonal-regularizer-bias", "dense(4, bias_regularizer=orthogonal_regularizer)", "NS102", 'orthogonal_regularizer', "vector"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "code", "at", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_call_argument(line: str, code: str, at: str, fragment: str) -> None:
    column = len("    ") + line.index(at) + 1
    found = [
        (d.code, d.span.line, d.span.column, d.message) for d in netspec.lint_source(_spec(line))
    ]
    assert [f[:3] for f in found] == [(code, 3, column)], found
    assert fragment in found[0][3]


@pytest.mark.parametrize(
    "line",
    [
        "dense(4, kernel_initializer=orthogonal, bias_initializer=constant(0.1))",
        "dense(4, kernel_initializer=HeNormal(seed=1), kernel_regularizer=l1_l2(0.01, l2=0.02))",
        "dense(4, kernel_initializer=variance_scaling(2.0, fan_avg, uniform, 7))",
        "dense(4, kernel_constraint=max_norm(3), bias_constraint=non_neg)",
        "dense(4, kernel_initializer=identity(gain=0.5), kernel_regularizer=orthogonal_regularizer(0.1, columns))",
    ],
)
def test_good_call_values_lint_clean(line: str) -> None:
    assert netspec.lint_source(_spec(line)) == []


def test_huge_integer_through_python_binding_is_a_problem_not_an_overflow() -> None:
    with pytest.raises(BindError) as caught:
        bind("dropout", 10**400)
    assert [p.code for p in caught.value.problems] == [codes.VALUE_OUT_OF_RANGE]


@pytest.mark.parametrize(
    ("call", "code", "inner"),
    [
        (CallValue("adam", (), (("learning_rate", float("inf")),)), codes.VALUE_OUT_OF_RANGE, "learning_rate"),
        (CallValue("sgd", (0.1,), (("momentum", 1.5),)), codes.VALUE_OUT_OF_RANGE, "momentum"),
        (CallValue("sgd", (0.1,), (("momentum", -0.5),)), codes.VALUE_OUT_OF_RANGE, "momentum"),
        (CallValue("SGD", (10**400,)), codes.VALUE_OUT_OF_RANGE, 0),
        (CallValue("adam", ("fast",)), codes.WRONG_TYPE, 0),
        (CallValue("adam", (), (("beta_1", 1.0),)), codes.VALUE_OUT_OF_RANGE, "beta_1"),
        (CallValue("rmsprop", (), (("bogus", 1),)), codes.UNKNOWN_ARGUMENT, "bogus"),
        (CallValue("adam", (), (("clipnorm", 1.0), ("clipvalue", 1.0))), codes.VALUE_OUT_OF_RANGE, "clipvalue"),
    ],
)  # fmt: skip
def test_optimizer_arguments(call: CallValue, code: str, inner: int | str | None) -> None:
    with pytest.raises(ValueProblem) as caught:
        check_call_value(Family.OPTIMIZER, call, "`optimizer` of compile")
    assert (caught.value.code, caught.value.inner) == (code, inner)


def test_good_optimizer_binds_with_keras_defaults() -> None:
    bound = check_call_value(
        Family.OPTIMIZER, CallValue("sgd", (0.1,), (("momentum", 0.9),)), "`optimizer` of compile"
    )
    assert (bound["learning_rate"], bound["momentum"], bound["nesterov"]) == (0.1, 0.9, False)


def test_relu_capped_at_zero_is_what_keras_builds() -> None:
    """Keras' ReLU takes max_value=0 (it refuses only a negative one) and outputs zeros, so lint
    accepts `relu(0.0)`; a target that cannot render it must say so (torch's Hardtanh cannot)."""
    keras = pytest.importorskip("keras")
    import numpy as np

    assert netspec.lint_source(_spec("relu(0.0)")) == []
    layer = keras.layers.ReLU(max_value=0.0)
    out = keras.ops.convert_to_numpy(layer(np.array([[-1.0, 0.5, 2.0]], dtype="float32")))
    assert out.tolist() == [[0.0, 0.0, 0.0]]
    with pytest.raises(ValueError):
        keras.layers.ReLU(max_value=-1.0)
    assert [d.code for d in netspec.lint_source(_spec("relu(-1.0)"))] == ["NS007"]


@pytest.mark.parametrize(
    ("optimizer", "code", "at"),
    [
        ("sgd(learning_rate=-1)", "NS007", "-1"),
        ("sgd(momentum=2.0)", "NS007", "2.0"),
        ("adam(bogus=1)", "NS003", "bogus"),
        ("adam(learning_rate=1e999)", "NS007", "1e999"),
        ('rmsprop(rho="x")', "NS006", '"x"'),
    ],
)
def test_compile_checks_the_optimizers_arguments(optimizer: str, code: str, at: str) -> None:
    """Each at the argument at fault, as a loss's or a layer's arguments are."""
    spec = f"model m {{\n    input [2]\n    dense(1)\n    compile(loss=mse, optimizer={optimizer})\n}}\n"
    found = [(d.code, d.span.line, d.span.column) for d in netspec.lint_source(spec, "m.ns")]
    assert found == [(code, 4, spec.splitlines()[3].index(at, 32) + 1)]


def test_compile_accepts_a_good_optimizer() -> None:
    spec = "model m {\n    input [2]\n    dense(1)\n    compile(loss=mse, optimizer=sgd(0.1, momentum=0.9))\n}\n"
    assert netspec.lint_source(spec, "m.ns") == []


# ---- losses and metrics of compile(...) ------------------------------------------------------

_MODULES[Family.LOSS] = "losses"
_MODULES[Family.METRIC] = "metrics"


def test_every_loss_and_metric_name_has_an_entry() -> None:
    from netspec.layers.training import LOSS_ALIASES, LOSSES, METRICS

    assert [n for n in (*LOSSES, *LOSS_ALIASES) if lookup_call(Family.LOSS, n) is None] == []
    assert [n for n in METRICS if lookup_call(Family.METRIC, n) is None] == []


def _compiled(compile_args: str) -> str:
    return f"model m {{\n    input [2]\n    dense(1)\n    compile({compile_args})\n}}\n"


# (id, compile arguments, code, the text the diagnostic starts at, a fragment of the message);
# the line is always 4.
COMPILE_CASES = [
    ("huber-negative-delta", "loss=huber(delta=-1), optimizer=sgd", "NS007", "-1", "> 0"),
    ("huber-zero-delta-positional", "loss=huber(0), optimizer=sgd", "NS007", "0)", "> 0"),
    ("loss-unknown-keyword", "loss=mean_squared_error(bogus=1), optimizer=sgd", "NS003", "bogus", "no argument `bogus`"),
    ("loss-alias-unknown-keyword", "loss=mse(bogus=1), optimizer=sgd", "NS003", "bogus", "mean_squared_error"),
    ("loss-bad-reduction", "loss=mse(reduction=average), optimizer=sgd", "NS002", "average", "reduction"),
    ("loss-reduction-not-a-word", "loss=mse(1), optimizer=sgd", "NS006", "1)", "reduction"),
    ("loss-from-logits-not-bool", "loss=binary_crossentropy(from_logits=1), optimizer=sgd", "NS006", "1)", "true or false"),
    ("metric-unknown-keyword", "loss=mse, metrics=[mae(x=1)]", "NS003", "x=1", "no argument `x`"),
    ("weighted-metric-unknown-keyword", "loss=mse, weighted_metrics=[mae(x=1)]", "NS003", "x=1", "no argument `x`"),
    ("weighted-metric-unknown-name", "loss=mse, weighted_metrics=[bogus_metric]", "NS002", "bogus_metric", "unknown metric"),
    ("second-metric-unknown-name", "loss=mse, metrics=[mae, bogus_metric]", "NS002", "bogus_metric", "unknown metric"),
    ("top-k-not-int", 'loss=mse, metrics=[top_k_categorical_accuracy(k="x")]', "NS006", '"x"', "integer"),
    ("top-k-zero", "loss=mse, metrics=[sparse_top_k_categorical_accuracy(0)]", "NS007", "0)", ">= 1"),
    ("binary-threshold", "loss=mse, metrics=[binary_accuracy(threshold=1.5)]", "NS007", "1.5", "[0, 1]"),
    ("auc-thresholds", "loss=mse, metrics=[auc(thresholds=[0.1, 2])]", "NS007", "[0.1, 2]", "[0, 1]"),
    ("auc-curve", "loss=mse, metrics=[auc(curve=rock)]", "NS002", "rock", "did you mean `roc`"),
    ("f1-threshold-zero", "loss=mse, metrics=[f1_score(threshold=0.0)]", "NS007", "0.0", "(0, 1]"),
    ("metric-name-not-string", "loss=mse, metrics=[mae(name=3)]", "NS006", "3)", "string"),
    ("metric-duplicate", "loss=mse, metrics=[mae(\"a\", name=\"b\")]", "NS004", "name=", "given twice"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("compile_args", "code", "at", "fragment"),
    [c[1:] for c in COMPILE_CASES],
    ids=[c[0] for c in COMPILE_CASES],
)
def test_compile_checks_loss_and_metric_arguments(
    compile_args: str, code: str, at: str, fragment: str
) -> None:
    spec = _compiled(compile_args)
    column = spec.splitlines()[3].index(at) + 1
    found = [(d.code, d.span.line, d.span.column, d.message) for d in netspec.lint_source(spec)]
    assert [f[:3] for f in found] == [(code, 4, column)], found
    assert fragment in found[0][3]


def test_label_smoothing_above_one_is_out_of_range() -> None:
    # A classification loss on one raw unit draws design warnings too; only the range is asked.
    spec = _compiled("loss=categorical_crossentropy(label_smoothing=7), optimizer=sgd")
    found = [(d.code, d.span.column) for d in netspec.lint_source(spec) if d.code == "NS007"]
    assert found == [(codes.VALUE_OUT_OF_RANGE, spec.splitlines()[3].index("7") + 1)]


@pytest.mark.parametrize(
    "compile_args",
    [
        'loss=huber(delta=2.0), optimizer=sgd, metrics=[mae, mse(name="m"), root_mean_squared_error]',
        "loss=huber_loss(0.5), optimizer=sgd, weighted_metrics=[acc, log_cosh]",
        "loss=mse(reduction=none), optimizer=sgd, metrics=[precision(thresholds=0.3, top_k=1)]",
        "loss=MeanSquaredError(sum), optimizer=sgd, metrics=[auc(curve=pr, thresholds=[0.2, 0.8])]",
        "loss=log_cosh, optimizer=sgd, metrics=[f1_score(average=macro, threshold=0.5)]",
        "loss=mse, optimizer=sgd, metrics=[recall(class_id=0), top_k_categorical_accuracy(k=1)]",
    ],
)
def test_good_losses_and_metrics_lint_clean(compile_args: str) -> None:
    assert netspec.lint_source(_compiled(compile_args)) == []


@pytest.mark.parametrize(
    ("family", "call"),
    [
        (Family.LOSS, CallValue("huber", (2.0,))),
        (Family.LOSS, CallValue("binary_focal_crossentropy", (True, 0.5, 1.0))),
        (Family.LOSS, CallValue("sparse_categorical_crossentropy", (), (("ignore_class", 0),))),
        (Family.LOSS, CallValue("tversky", (0.3, 0.7))),
        (Family.METRIC, CallValue("auc", (50, "pr"), (("multi_label", True),))),
        (Family.METRIC, CallValue("precision", ((0.25, 0.5),))),
        (Family.METRIC, CallValue("sparse_top_k_categorical_accuracy", (3,))),
        (Family.METRIC, CallValue("f1_score", ("micro", 0.5))),
    ],
)
def test_keras_builds_what_lint_accepts(family: Family, call: CallValue) -> None:
    """Each accepted call is a constructor call Keras takes (the entry's class, same arguments)."""
    keras = pytest.importorskip("keras")
    check_call_value(family, call, "compile")
    entry = lookup_call(family, call.name)
    assert entry is not None
    cls = getattr(getattr(keras, _MODULES[family]), entry.keras_class)
    args = [list(v) if isinstance(v, tuple) else v for v in call.args]
    cls(*args, **dict(call.kwargs))


@pytest.mark.parametrize(
    ("family", "call", "code", "inner"),
    [
        (Family.LOSS, CallValue("huber", (-1.0,)), codes.VALUE_OUT_OF_RANGE, 0),
        (Family.LOSS, CallValue("huber", ()), None, None),
        (Family.LOSS, CallValue("categorical_focal_crossentropy", (), (("alpha", 2.0),)), codes.VALUE_OUT_OF_RANGE, "alpha"),
        (Family.LOSS, CallValue("categorical_crossentropy", (), (("label_smoothing", -0.1),)), codes.VALUE_OUT_OF_RANGE, "label_smoothing"),
        (Family.LOSS, CallValue("mse", (), (("reduction", "sum"), ("reduction", "sum"))), codes.DUPLICATE_ARGUMENT, "reduction"),
        (Family.METRIC, CallValue("mae", ("a", None, 1)), codes.UNKNOWN_ARGUMENT, 2),
        (Family.METRIC, CallValue("auc", (1,)), codes.VALUE_OUT_OF_RANGE, 0),
        (Family.METRIC, CallValue("precision", (), (("thresholds", "x"),)), codes.VALUE_OUT_OF_RANGE, "thresholds"),
        (Family.METRIC, CallValue("auc", (), (("label_weights", (1, -1)),)), codes.VALUE_OUT_OF_RANGE, "label_weights"),
    ],
)  # fmt: skip
def test_loss_and_metric_arguments(
    family: Family, call: CallValue, code: str | None, inner: int | str | None
) -> None:
    if code is None:
        assert check_call_value(family, call, "compile")["delta"] == 1.0
        return
    with pytest.raises(ValueProblem) as caught:
        check_call_value(family, call, "compile")
    assert (caught.value.code, caught.value.inner) == (code, inner)


def test_a_layer_argument_above_its_inclusive_maximum_is_out_of_range() -> None:
    """Keras' GaussianNoise refuses a standard deviation above 1 (1 itself builds)."""

    def ranges(line: str) -> list[str]:
        return [d.message for d in netspec.lint_source(_spec(line)) if d.code == "NS007"]

    assert ranges("gaussian_noise(1.0)") == []
    found = ranges("gaussian_noise(1.5)")
    assert len(found) == 1 and "in [0, 1]" in found[0], found


def test_cross_argument_faults_point_at_the_argument_the_spec_gave() -> None:
    spec = (
        "model m {\n    input [2]\n    dense(1)\n"
        "    compile(loss=mse, optimizer=adam(clipnorm=1.0, clipvalue=0.5))\n}\n"
    )
    found = [(d.code, d.span.line, d.span.column) for d in netspec.lint_source(spec)]
    assert found == [(codes.VALUE_OUT_OF_RANGE, 4, spec.splitlines()[3].index("0.5") + 1)]
