"""The catalog of call values: Keras' initializers, regularizers, constraints, optimizers,
losses and metrics, each with its arguments in Keras' order, their kinds, defaults and ranges."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from netspec.layers.base import Arg, CallValue, LayerKind, ValueKind, keras_snake_case
from netspec.layers.training import LOSS_ALIASES

K = ValueKind


class Family(enum.Enum):
    """What a call value makes; the value is the word messages use for it."""

    INITIALIZER = "initializer"
    REGULARIZER = "regularizer"
    CONSTRAINT = "constraint"
    OPTIMIZER = "optimizer"
    LOSS = "loss"
    METRIC = "metric"


@dataclass(frozen=True)
class Fault:
    """A relation's problem (a check across arguments, or a bound an Arg cannot state) and the
    argument that answers for it: the diagnostic points at it when the spec gave it."""

    message: str
    argument: str


# A check across arguments, given them all bound (defaults included): the problem, or None.
Relation = Callable[[Mapping[str, Any]], Fault | None]


@dataclass(frozen=True)
class CallKind:
    """One entry: the spec's snake_case name, the Keras class and its constructor arguments.

    `weight_ranks` is (least, most) rank of the weight it can initialize or regularize, where
    Keras refuses others when the layer is built (orthogonal needs a matrix); None for any."""

    name: str
    keras_class: str
    family: Family
    args: tuple[Arg, ...] = ()
    aliases: tuple[str, ...] = ()
    weight_ranks: tuple[int, int | None] | None = None
    relation: Relation | None = None

    def arg(self, name: str) -> Arg | None:
        for arg in self.args:
            if arg.name == name:
                return arg
        return None


def _number(
    name: str,
    default: Any,
    minimum: float | None = None,
    below: float | None = None,
    maximum: float | None = None,
) -> Arg:
    return Arg(name, K.FLOAT, default, minimum=minimum, below=below, maximum=maximum)


def _optional_number(name: str, minimum: float | None = None) -> Arg:
    return Arg(name, K.FLOAT, None, minimum=minimum, nullable=True)


def _all_of(*relations: Relation) -> Relation:
    def check(args: Mapping[str, Any]) -> Fault | None:
        for relation in relations:
            problem = relation(args)
            if problem:
                return problem
        return None

    return check


def _ordered(low: str, high: str) -> Relation:
    """`low` <= `high`; the diagnostic points at `high` when the spec gave it."""

    def check(args: Mapping[str, Any]) -> Fault | None:
        if args[low] is not None and args[high] is not None and args[low] > args[high]:
            return Fault(f"`{low}` ({args[low]!r}) must not exceed `{high}` ({args[high]!r})", high)
        return None

    return check


def _within(name: str, low: float, high: float, *, open_low: bool = False) -> Relation:
    """`name` in [low, high] (or (low, high]), pointed at when the spec gave it."""

    def check(args: Mapping[str, Any]) -> Fault | None:
        value = args.get(name)
        if value is None or (low < value <= high) or (not open_low and value == low):
            return None
        bracket = "(" if open_low else "["
        return Fault(f"`{name}` must be in {bracket}{low:g}, {high:g}], got {value!r}", name)

    return check


def _above_zero(name: str) -> Relation:
    def check(args: Mapping[str, Any]) -> Fault | None:
        value = args.get(name)
        if value is not None and value <= 0:
            return Fault(f"`{name}` must be > 0, got {value!r}", name)
        return None

    return check


# ---- initializers (keras.initializers) -------------------------------------------------------

_SEED = Arg("seed", K.INT, None, nullable=True)
_AXES = (
    Arg("input_axes", K.AXIS, None, nullable=True),
    Arg("output_axes", K.AXIS, None, nullable=True),
)
_MATRIX_OR_MORE = (2, None)


def _initializer(name: str, keras_class: str, *args: Arg, **extra: Any) -> CallKind:
    return CallKind(name, keras_class, Family.INITIALIZER, args, **extra)


def _fan_initializer(name: str, keras_class: str) -> CallKind:
    return _initializer(name, keras_class, _SEED, *_AXES)


def _normal(name: str, keras_class: str, **extra: Any) -> CallKind:
    # Keras takes a negative stddev silently; torch's normal_ refuses it, and it means nothing.
    return _initializer(
        name, keras_class, _number("mean", 0.0), _number("stddev", 0.05, minimum=0), _SEED, **extra
    )


def _uniform(name: str, **extra: Any) -> CallKind:
    return _initializer(
        name,
        "RandomUniform",
        _number("minval", -0.05),
        _number("maxval", 0.05),
        _SEED,
        relation=_ordered("minval", "maxval"),
        **extra,
    )


INITIALIZER_CALLS: tuple[CallKind, ...] = (
    _initializer("constant", "Constant", _number("value", 0.0)),
    _fan_initializer("glorot_normal", "GlorotNormal"),
    _fan_initializer("glorot_uniform", "GlorotUniform"),
    _fan_initializer("he_normal", "HeNormal"),
    _fan_initializer("he_uniform", "HeUniform"),
    _initializer("identity", "Identity", _number("gain", 1.0), weight_ranks=(2, 2)),
    _fan_initializer("lecun_normal", "LecunNormal"),
    _fan_initializer("lecun_uniform", "LecunUniform"),
    _initializer("ones", "Ones"),
    _initializer(
        "orthogonal", "Orthogonal", _number("gain", 1.0), _SEED, weight_ranks=_MATRIX_OR_MORE
    ),
    _normal("random_normal", "RandomNormal"),
    _uniform("random_uniform"),
    _normal("truncated_normal", "TruncatedNormal"),
    _initializer(
        "variance_scaling",
        "VarianceScaling",
        _number("scale", 1.0),
        Arg("mode", K.CHOICE, "fan_in", choices=("fan_in", "fan_out", "fan_avg")),
        Arg(
            "distribution",
            K.CHOICE,
            "truncated_normal",
            choices=("truncated_normal", "untruncated_normal", "normal", "uniform"),
        ),
        _SEED,
        *_AXES,
        relation=_above_zero("scale"),
    ),
    _initializer("zeros", "Zeros"),
    # Keras' own short names for RandomUniform and RandomNormal.
    _uniform("uniform"),
    _normal("normal", "RandomNormal"),
)

# ---- regularizers (keras.regularizers): Keras refuses a negative, nan or inf factor ----------

REGULARIZER_CALLS: tuple[CallKind, ...] = (
    CallKind("l1", "L1", Family.REGULARIZER, (_number("l1", 0.01, minimum=0),)),
    CallKind("l2", "L2", Family.REGULARIZER, (_number("l2", 0.01, minimum=0),)),
    CallKind(
        "l1_l2",
        "L1L2",
        Family.REGULARIZER,
        (_number("l1", 0.0, minimum=0), _number("l2", 0.0, minimum=0)),
    ),
    CallKind(
        "orthogonal_regularizer",
        "OrthogonalRegularizer",
        Family.REGULARIZER,
        (
            _number("factor", 0.01, minimum=0),
            Arg("mode", K.CHOICE, "rows", choices=("rows", "columns")),
        ),
        weight_ranks=(2, 2),
    ),
)

# ---- constraints (keras.constraints) ---------------------------------------------------------

_AXIS = Arg("axis", K.AXIS, 0)

CONSTRAINT_CALLS: tuple[CallKind, ...] = (
    # A negative norm bound would flip the weights' sign at every step.
    CallKind("max_norm", "MaxNorm", Family.CONSTRAINT, (_number("max_value", 2, minimum=0), _AXIS)),
    CallKind(
        "min_max_norm",
        "MinMaxNorm",
        Family.CONSTRAINT,
        (
            _number("min_value", 0.0, minimum=0),
            _number("max_value", 1.0, minimum=0),
            _number("rate", 1.0, minimum=0, maximum=1.0),
            _AXIS,
        ),
        relation=_ordered("min_value", "max_value"),
    ),
    CallKind("non_neg", "NonNeg", Family.CONSTRAINT),
    CallKind("unit_norm", "UnitNorm", Family.CONSTRAINT, (_AXIS,)),
)

# ---- optimizers (keras.optimizers) -----------------------------------------------------------

_FRACTION = {"minimum": 0, "below": 1}  # torch refuses betas and rho outside [0, 1)


def _optimizer_tail(*, weight_decay: bool = True) -> tuple[Arg, ...]:
    """The arguments of Keras' base optimizer, in the order every subclass repeats them."""
    return (
        *((_optional_number("weight_decay", minimum=0),) if weight_decay else ()),
        _optional_number("clipnorm", minimum=0),
        _optional_number("clipvalue", minimum=0),
        _optional_number("global_clipnorm", minimum=0),
        Arg("use_ema", K.BOOL, False),
        _number("ema_momentum", 0.99, minimum=0, maximum=1.0),
        Arg("ema_overwrite_frequency", K.INT, None, nullable=True, minimum=1),
        _optional_number("loss_scale_factor"),
        Arg("gradient_accumulation_steps", K.INT, None, nullable=True, minimum=2),
        Arg("name", K.STRING, None, nullable=True),
    )


def _one_clip(args: Mapping[str, Any]) -> Fault | None:
    """Keras refuses more than one clipping argument; the second one given is at fault."""
    given = [n for n in ("clipnorm", "clipvalue", "global_clipnorm") if args.get(n) is not None]
    if len(given) > 1:
        return Fault(
            f"only one of clipnorm, clipvalue and global_clipnorm can be set, got {', '.join(given)}",
            given[1],
        )
    return None


_OPTIMIZER_RELATION = _one_clip


def _optimizer(
    name: str,
    keras_class: str,
    *args: Arg,
    weight_decay: bool = True,
    extra: Relation | None = None,
) -> CallKind:
    relation = _all_of(_OPTIMIZER_RELATION, extra) if extra else _OPTIMIZER_RELATION
    tail = _optimizer_tail(weight_decay=weight_decay)
    return CallKind(name, keras_class, Family.OPTIMIZER, (*args, *tail), relation=relation)


def _learning_rate(default: float) -> Arg:
    # Keras also takes a schedule object, which a spec cannot write; a negative rate ascends.
    return _number("learning_rate", default, minimum=0)


_EPSILON = _number("epsilon", 1e-07, minimum=0)
_ADAM_BETAS = (_number("beta_1", 0.9, **_FRACTION), _number("beta_2", 0.999, **_FRACTION))

OPTIMIZER_CALLS: tuple[CallKind, ...] = (
    _optimizer(
        "adadelta", "Adadelta", _learning_rate(0.001), _number("rho", 0.95, **_FRACTION), _EPSILON
    ),
    _optimizer(
        "adafactor",
        "Adafactor",
        _learning_rate(0.001),
        _number("beta_2_decay", -0.8),
        _number("epsilon_1", 1e-30, minimum=0),
        _number("epsilon_2", 0.001, minimum=0),
        _number("clip_threshold", 1.0, minimum=0),
        Arg("relative_step", K.BOOL, True),
    ),
    _optimizer(
        "adagrad",
        "Adagrad",
        _learning_rate(0.001),
        _number("initial_accumulator_value", 0.1, minimum=0),
        _EPSILON,
    ),
    _optimizer(
        "adam", "Adam", _learning_rate(0.001), *_ADAM_BETAS, _EPSILON, Arg("amsgrad", K.BOOL, False)
    ),
    _optimizer(
        "adamw",
        "AdamW",
        _learning_rate(0.001),
        _number("weight_decay", 0.004, minimum=0),
        *_ADAM_BETAS,
        _EPSILON,
        Arg("amsgrad", K.BOOL, False),
        weight_decay=False,
    ),
    _optimizer("adamax", "Adamax", _learning_rate(0.001), *_ADAM_BETAS, _EPSILON),
    _optimizer(
        "ftrl",
        "Ftrl",
        _learning_rate(0.001),
        _number("learning_rate_power", -0.5, maximum=0.0),
        _number("initial_accumulator_value", 0.1, minimum=0),
        _number("l1_regularization_strength", 0.0, minimum=0),
        _number("l2_regularization_strength", 0.0, minimum=0),
        _number("l2_shrinkage_regularization_strength", 0.0, minimum=0),
        _number("beta", 0.0, minimum=0),
    ),
    _optimizer("lamb", "Lamb", _learning_rate(0.001), *_ADAM_BETAS, _EPSILON),
    _optimizer(
        "lion",
        "Lion",
        _learning_rate(0.001),
        _number("beta_1", 0.9, minimum=0, maximum=1.0),
        _number("beta_2", 0.99, **_FRACTION),
        extra=_above_zero("beta_1"),
    ),
    _optimizer("nadam", "Nadam", _learning_rate(0.001), *_ADAM_BETAS, _EPSILON),
    _optimizer(
        "rmsprop",
        "RMSprop",
        _learning_rate(0.001),
        _number("rho", 0.9, **_FRACTION),
        _number("momentum", 0.0, minimum=0, maximum=1.0),
        _EPSILON,
        Arg("centered", K.BOOL, False),
    ),
    _optimizer(
        "sgd",
        "SGD",
        _learning_rate(0.01),
        _number("momentum", 0.0, minimum=0, maximum=1.0),
        Arg("nesterov", K.BOOL, False),
    ),
)

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
    tail = (_FROM_LOGITS, _number(_SMOOTHING, 0.0), _LAST_AXIS, _REDUCTION)
    return _loss(name, keras_class, *head, *tail, _name(name), _DTYPE, relation=relation)


# A focal loss' alpha weighs the positive class against the negative: a fraction.
_FOCAL = (_number("alpha", 0.25), _number("gamma", 2.0, minimum=0))

LOSS_CALLS: tuple[CallKind, ...] = (
    _crossentropy("binary_crossentropy", "BinaryCrossentropy", relation=_within(_SMOOTHING, 0, 1)),
    _crossentropy(
        "binary_focal_crossentropy",
        "BinaryFocalCrossentropy",
        Arg("apply_class_balancing", K.BOOL, False),
        *_FOCAL,
        relation=_all_of(_within(_SMOOTHING, 0, 1), _within("alpha", 0, 1)),
    ),
    _crossentropy(
        "categorical_crossentropy", "CategoricalCrossentropy", relation=_within(_SMOOTHING, 0, 1)
    ),
    _crossentropy(
        "categorical_focal_crossentropy",
        "CategoricalFocalCrossentropy",
        *_FOCAL,
        relation=_all_of(_within(_SMOOTHING, 0, 1), _within("alpha", 0, 1)),
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
        _number("delta", 1.0),
        _REDUCTION,
        _name("huber_loss"),
        _DTYPE,
        relation=_above_zero("delta"),
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
        _number("alpha", 0.5, minimum=0),
        _number("beta", 0.5, minimum=0),
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
) -> CallKind:
    return CallKind(name, keras_class, Family.METRIC, args, aliases=aliases, relation=relation)


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
_METRIC_SMOOTHING = _number(_SMOOTHING, 0)
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
        relation=_all_of(_thresholds, _number_list("label_weights")),
    ),
    _plain_metric(
        "binary_accuracy",
        "BinaryAccuracy",
        _number("threshold", 0.5),
        relation=_within("threshold", 0, 1),
    ),
    _plain_metric(
        "binary_crossentropy",
        "BinaryCrossentropy",
        _FROM_LOGITS,
        _METRIC_SMOOTHING,
        relation=_within(_SMOOTHING, 0, 1),
    ),
    _plain_metric("categorical_accuracy", "CategoricalAccuracy"),
    _plain_metric(
        "categorical_crossentropy",
        "CategoricalCrossentropy",
        _FROM_LOGITS,
        _METRIC_SMOOTHING,
        _LAST_AXIS,
        relation=_within(_SMOOTHING, 0, 1),
    ),
    _plain_metric("categorical_hinge", "CategoricalHinge"),
    _plain_metric("cosine_similarity", "CosineSimilarity", _LAST_AXIS),
    _metric(
        "f1_score",
        "F1Score",
        Arg("average", K.CHOICE, None, choices=("micro", "macro", "weighted"), nullable=True),
        # Keras refuses a threshold outside (0, 1].
        _optional_number("threshold"),
        _name("f1_score"),
        _DTYPE,
        relation=_within("threshold", 0, 1, open_low=True),
    ),
    _plain_metric("hinge", "Hinge"),
    _plain_metric("kl_divergence", "KLDivergence"),
    # Keras' metric is LogCoshError, named `logcosh`; netspec's name is the loss'.
    _metric("log_cosh", "LogCoshError", _name("logcosh"), _DTYPE, aliases=("logcosh",)),
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

ALL_CALLS: tuple[CallKind, ...] = (
    *INITIALIZER_CALLS,
    *REGULARIZER_CALLS,
    *CONSTRAINT_CALLS,
    *OPTIMIZER_CALLS,
    *LOSS_CALLS,
    *METRIC_CALLS,
)

_BY_NAME: dict[tuple[Family, str], CallKind] = {}
for _call in ALL_CALLS:
    for _name in (_call.name, *_call.aliases):
        _BY_NAME[(_call.family, _name)] = _call
    # A Keras class name written as a call (`HeNormal(seed=1)`) is the same entry.
    _BY_NAME.setdefault((_call.family, keras_snake_case(_call.keras_class)), _call)


def lookup_call(family: Family, name: str) -> CallKind | None:
    """The entry for `name` (`he_normal`, `HeNormal`, `SGD`) in `family`, or None."""
    for key in (name, keras_snake_case(name), name.lower()):
        found = _BY_NAME.get((family, key))
        if found is not None:
            return found
    return None


# The weight each `<prefix>_initializer` or `<prefix>_regularizer` of the catalog makes: a
# bias is a vector; a kernel is a matrix, or for a convolution spatial rank + 2 axes.
_VECTOR_WEIGHTS = ("bias", "moving_mean", "moving_variance")
_MATRIX_WEIGHTS = ("kernel", "recurrent", "embeddings", "depthwise", "pointwise")
_NORMALIZATION_WEIGHTS = ("beta", "gamma")


def weight_rank(kind: LayerKind, arg: Arg, args: Mapping[str, Any]) -> int | None:
    """The rank of the weight `arg` initializes or regularizes, where the arguments fix it."""
    prefix = arg.name.rsplit("_", 1)[0]
    if prefix in _VECTOR_WEIGHTS:
        return 1
    if prefix in _MATRIX_WEIGHTS:
        traits = kind.traits
        if traits.window is not None and traits.spatial_rank is not None:
            return traits.spatial_rank + 2
        return 2
    if prefix in _NORMALIZATION_WEIGHTS and kind.traits.normalization is not None:
        axis = args.get("axis", -1)
        return len(axis) if isinstance(axis, tuple) else 1
    return None


def weight_rank_problem(
    kind: LayerKind, arg: Arg, value: Any, args: Mapping[str, Any]
) -> str | None:
    """Keras' orthogonal and identity initializers and its orthogonal regularizer work on
    matrices only: refused on a bias here rather than when Keras builds the layer."""
    name = value.name if isinstance(value, CallValue) else value
    family = Family.INITIALIZER if arg.kind is K.INITIALIZER else Family.REGULARIZER
    entry = lookup_call(family, name) if isinstance(name, str) else None
    if entry is None or entry.weight_ranks is None:
        return None
    rank = weight_rank(kind, arg, args)
    least, most = entry.weight_ranks
    if rank is None or (rank >= least and (most is None or rank <= most)):
        return None
    wanted = f"rank {least}" if least == most else f"rank {least} or more"
    weight = arg.name.rsplit("_", 1)[0]
    shape = "a vector" if rank == 1 else f"rank {rank}"
    return (
        f"{entry.name} cannot be the `{arg.name}` of {kind.name}: Keras needs a weight of "
        f"{wanted}, and its {weight} weight is {shape}"
    )
