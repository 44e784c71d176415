"""The losses and metrics of the catalog of call values (keras.losses, keras.metrics), each
with its constructor arguments in Keras' order, their kinds, defaults and ranges."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netspec.layers.base import Arg
from netspec.layers.call_kinds import (
    CallKind,
    Family,
    Fault,
    K,
    Relation,
    above_zero,
    all_of,
    number_arg,
    optional_number_arg,
    within,
)
from netspec.layers.training import LOSS_ALIASES

# ---- losses (keras.losses) -------------------------------------------------------------------


# Keras' standardize_reduction; `none` (the word) and None both keep per-sample losses.
_REDUCTION = Arg(
    "reduction",
    K.CHOICE,
    "sum_over_batch_size",
    choices=("sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight"),
    nullable=True,
)
_DTYPE = Arg("dtype", K.DTYPE, None, nullable=True)
_FROM_LOGITS = Arg("from_logits", K.BOOL, False)
_LAST_AXIS = Arg("axis", K.AXIS, -1)
_ANY_AXIS = Arg("axis", K.AXIS, None, nullable=True)
_IGNORE_CLASS = Arg("ignore_class", K.INT, None, nullable=True)
_SMOOTHING = "label_smoothing"


def _name(default: str | None) -> Arg:
    # Keras names a loss or metric after itself; the name is any string (None where Keras'
    # own default is None: auc, precision, recall).
    return Arg("name", K.STRING, default, nullable=default is None)


def _loss(
    name: str, keras_class: str, *args: Arg, relation: Relation | None = None, **extra: Any
) -> CallKind:
    aliases = tuple(alias for alias, target in LOSS_ALIASES.items() if target == name)
    return CallKind(
        name, keras_class, Family.LOSS, args, aliases=aliases, relation=relation, **extra
    )


def _plain_loss(name: str, keras_class: str, keras_name: str | None = None) -> CallKind:
    return _loss(name, keras_class, _REDUCTION, _name(keras_name or name), _DTYPE)


def _crossentropy(name: str, keras_class: str, *head: Arg, relation: Relation) -> CallKind:
    tail = (_FROM_LOGITS, number_arg(_SMOOTHING, 0.0), _LAST_AXIS, _REDUCTION)
    return _loss(name, keras_class, *head, *tail, _name(name), _DTYPE, relation=relation)


# A focal loss' alpha weighs the positive class against the negative: a fraction.
_FOCAL = (number_arg("alpha", 0.25), number_arg("gamma", 2.0, minimum=0))

LOSS_CALLS: tuple[CallKind, ...] = (
    _crossentropy("binary_crossentropy", "BinaryCrossentropy", relation=within(_SMOOTHING, 0, 1)),
    _crossentropy(
        "binary_focal_crossentropy",
        "BinaryFocalCrossentropy",
        Arg("apply_class_balancing", K.BOOL, False),
        *_FOCAL,
        relation=all_of(within(_SMOOTHING, 0, 1), within("alpha", 0, 1)),
    ),
    _crossentropy(
        "categorical_crossentropy", "CategoricalCrossentropy", relation=within(_SMOOTHING, 0, 1)
    ),
    _crossentropy(
        "categorical_focal_crossentropy",
        "CategoricalFocalCrossentropy",
        *_FOCAL,
        relation=all_of(within(_SMOOTHING, 0, 1), within("alpha", 0, 1)),
    ),
    _plain_loss("categorical_hinge", "CategoricalHinge"),
    _loss(
        "cosine_similarity",
        "CosineSimilarity",
        _LAST_AXIS,
        _REDUCTION,
        _name("cosine_similarity"),
        _DTYPE,
    ),
    _plain_loss("ctc", "CTC"),
    _loss("dice", "Dice", _REDUCTION, _name("dice"), _ANY_AXIS, _DTYPE),
    _plain_loss("hinge", "Hinge"),
    # A delta of 0 or less makes the loss linear everywhere, or negative.
    _loss(
        "huber",
        "Huber",
        number_arg("delta", 1.0),
        _REDUCTION,
        _name("huber_loss"),
        _DTYPE,
        relation=above_zero("delta"),
    ),
    _plain_loss("kl_divergence", "KLDivergence"),
    _plain_loss("log_cosh", "LogCosh"),
    _plain_loss("mean_absolute_error", "MeanAbsoluteError"),
    _plain_loss("mean_absolute_percentage_error", "MeanAbsolutePercentageError"),
    _plain_loss("mean_squared_error", "MeanSquaredError"),
    _plain_loss("mean_squared_logarithmic_error", "MeanSquaredLogarithmicError"),
    _plain_loss("poisson", "Poisson"),
    _loss(
        "sparse_categorical_crossentropy",
        "SparseCategoricalCrossentropy",
        _FROM_LOGITS,
        _IGNORE_CLASS,
        _REDUCTION,
        _LAST_AXIS,
        _name("sparse_categorical_crossentropy"),
        _DTYPE,
    ),
    _plain_loss("squared_hinge", "SquaredHinge"),
    # Tversky's alpha and beta weigh false positives and negatives: negative ones reward errors.
    _loss(
        "tversky",
        "Tversky",
        number_arg("alpha", 0.5, minimum=0),
        number_arg("beta", 0.5, minimum=0),
        _REDUCTION,
        _name("tversky"),
        _ANY_AXIS,
        _DTYPE,
    ),
)

# ---- metrics (keras.metrics): their constructors differ from the losses of the same name -----


def _metric(
    name: str,
    keras_class: str,
    *args: Arg,
    aliases: tuple[str, ...] = (),
    relation: Relation | None = None,
    keras_string: str | None = "",
) -> CallKind:
    return CallKind(
        name,
        keras_class,
        Family.METRIC,
        args,
        aliases=aliases,
        relation=relation,
        keras_string=keras_string,
    )


def _plain_metric(
    name: str, keras_class: str, *tail: Arg, aliases: tuple[str, ...] = (), **extra: Any
) -> CallKind:
    return _metric(name, keras_class, _name(name), _DTYPE, *tail, aliases=aliases, **extra)


def _thresholds(args: Mapping[str, Any]) -> Fault | None:
    """Keras' thresholds: one number or a list of them, each in [0, 1]."""
    value = args.get("thresholds")
    if value is None:
        return None
    items = value if isinstance(value, tuple) else (value,)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not 0 <= item <= 1:
            return Fault(f"`thresholds` must be numbers in [0, 1], got {item!r}", "thresholds")
    return None


def _number_list(name: str) -> Relation:
    def check(args: Mapping[str, Any]) -> Fault | None:
        value = args.get(name)
        items = value if isinstance(value, tuple) else (value,)
        if value is not None and not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in items
        ):
            return Fault(f"`{name}` must be a list of numbers >= 0, got {value!r}", name)
        return None

    return check


_THRESHOLDS = Arg("thresholds", K.ANY, None, nullable=True)
_TOP_K = Arg("top_k", K.INT, None, nullable=True, minimum=1)
_CLASS_ID = Arg("class_id", K.INT, None, nullable=True, minimum=0)
# Keras' metric crossentropies default label_smoothing to the integer 0.
_METRIC_SMOOTHING = number_arg(_SMOOTHING, 0)
_K = Arg("k", K.INT, 5, minimum=1)


def _confusion(name: str, keras_class: str) -> CallKind:
    return _metric(
        name, keras_class, _THRESHOLDS, _TOP_K, _CLASS_ID, _name(None), _DTYPE, relation=_thresholds
    )


METRIC_CALLS: tuple[CallKind, ...] = (
    _plain_metric("accuracy", "Accuracy", aliases=("acc",)),
    _metric(
        "auc",
        "AUC",
        # Keras refuses 1 or fewer unless `thresholds` is given, and then ignores it.
        Arg("num_thresholds", K.INT, 200, minimum=2),
        Arg("curve", K.CHOICE, "ROC", choices=("roc", "pr", "prgain")),
        Arg(
            "summation_method",
            K.CHOICE,
            "interpolation",
            choices=("interpolation", "majoring", "minoring"),
        ),
        _name(None),
        _DTYPE,
        _THRESHOLDS,
        Arg("multi_label", K.BOOL, False),
        Arg("num_labels", K.INT, None, nullable=True, minimum=1),
        Arg("label_weights", K.ANY, None, nullable=True),
        _FROM_LOGITS,
        relation=all_of(_thresholds, _number_list("label_weights")),
    ),
    _plain_metric(
        "binary_accuracy",
        "BinaryAccuracy",
        number_arg("threshold", 0.5),
        relation=within("threshold", 0, 1),
    ),
    _plain_metric(
        "binary_crossentropy",
        "BinaryCrossentropy",
        _FROM_LOGITS,
        _METRIC_SMOOTHING,
        relation=within(_SMOOTHING, 0, 1),
    ),
    _plain_metric("categorical_accuracy", "CategoricalAccuracy"),
    _plain_metric(
        "categorical_crossentropy",
        "CategoricalCrossentropy",
        _FROM_LOGITS,
        _METRIC_SMOOTHING,
        _LAST_AXIS,
        relation=within(_SMOOTHING, 0, 1),
    ),
    _plain_metric("categorical_hinge", "CategoricalHinge"),
    _plain_metric("cosine_similarity", "CosineSimilarity", _LAST_AXIS),
    _metric(
        "f1_score",
        "F1Score",
        Arg("average", K.CHOICE, None, choices=("micro", "macro", "weighted"), nullable=True),
        # Keras refuses a threshold outside (0, 1].
        optional_number_arg("threshold"),
        _name("f1_score"),
        _DTYPE,
        relation=within("threshold", 0, 1, open_low=True),
    ),
    _plain_metric("hinge", "Hinge"),
    _plain_metric("kl_divergence", "KLDivergence"),
    # Keras' metric is LogCoshError, named `logcosh`, which keras.metrics.get() knows as
    # "log_cosh_error" only; netspec's name is the loss'.
    _metric(
        "log_cosh",
        "LogCoshError",
        _name("logcosh"),
        _DTYPE,
        aliases=("logcosh",),
        keras_string="log_cosh_error",
    ),
    _plain_metric("mean_absolute_error", "MeanAbsoluteError", aliases=("mae",)),
    _plain_metric(
        "mean_absolute_percentage_error", "MeanAbsolutePercentageError", aliases=("mape",)
    ),
    _plain_metric("mean_squared_error", "MeanSquaredError", aliases=("mse",)),
    _plain_metric(
        "mean_squared_logarithmic_error", "MeanSquaredLogarithmicError", aliases=("msle",)
    ),
    _plain_metric("poisson", "Poisson"),
    _confusion("precision", "Precision"),
    _confusion("recall", "Recall"),
    _plain_metric("root_mean_squared_error", "RootMeanSquaredError"),
    _plain_metric("sparse_categorical_accuracy", "SparseCategoricalAccuracy"),
    _plain_metric(
        "sparse_categorical_crossentropy",
        "SparseCategoricalCrossentropy",
        _FROM_LOGITS,
        _IGNORE_CLASS,
        _LAST_AXIS,
    ),
    _metric(
        "sparse_top_k_categorical_accuracy",
        "SparseTopKCategoricalAccuracy",
        _K,
        _name("sparse_top_k_categorical_accuracy"),
        _DTYPE,
        Arg("from_sorted_ids", K.BOOL, False),
    ),
    _plain_metric("squared_hinge", "SquaredHinge"),
    _metric(
        "top_k_categorical_accuracy",
        "TopKCategoricalAccuracy",
        _K,
        _name("top_k_categorical_accuracy"),
        _DTYPE,
    ),
)
