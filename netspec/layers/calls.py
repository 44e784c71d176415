"""The catalog of call values: Keras' initializers, regularizers, constraints and optimizers
here, its losses and metrics in layers/training_calls.py; each with its arguments in Keras' order,
their kinds, defaults and ranges. `lookup_call` finds any of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netspec.layers.base import Arg, CallValue, LayerKind, keras_snake_case
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
    ordered,
)
from netspec.layers.training_calls import LOSS_CALLS, METRIC_CALLS

__all__ = ["ALL_CALLS", "CallKind", "Family", "Fault", "lookup_call", "weight_rank_problem"]

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
        name,
        keras_class,
        number_arg("mean", 0.0),
        number_arg("stddev", 0.05, minimum=0),
        _SEED,
        **extra,
    )


def _uniform(name: str, **extra: Any) -> CallKind:
    return _initializer(
        name,
        "RandomUniform",
        number_arg("minval", -0.05),
        number_arg("maxval", 0.05),
        _SEED,
        relation=ordered("minval", "maxval"),
        **extra,
    )


INITIALIZER_CALLS: tuple[CallKind, ...] = (
    _initializer("constant", "Constant", number_arg("value", 0.0)),
    _fan_initializer("glorot_normal", "GlorotNormal"),
    _fan_initializer("glorot_uniform", "GlorotUniform"),
    _fan_initializer("he_normal", "HeNormal"),
    _fan_initializer("he_uniform", "HeUniform"),
    _initializer("identity", "Identity", number_arg("gain", 1.0), weight_ranks=(2, 2)),
    _fan_initializer("lecun_normal", "LecunNormal"),
    _fan_initializer("lecun_uniform", "LecunUniform"),
    _initializer("ones", "Ones"),
    _initializer(
        "orthogonal", "Orthogonal", number_arg("gain", 1.0), _SEED, weight_ranks=_MATRIX_OR_MORE
    ),
    _normal("random_normal", "RandomNormal"),
    _uniform("random_uniform"),
    _normal("truncated_normal", "TruncatedNormal"),
    _initializer(
        "variance_scaling",
        "VarianceScaling",
        number_arg("scale", 1.0),
        Arg("mode", K.CHOICE, "fan_in", choices=("fan_in", "fan_out", "fan_avg")),
        Arg(
            "distribution",
            K.CHOICE,
            "truncated_normal",
            choices=("truncated_normal", "untruncated_normal", "normal", "uniform"),
        ),
        _SEED,
        *_AXES,
        relation=above_zero("scale"),
    ),
    _initializer("zeros", "Zeros"),
    # Keras' own short names for RandomUniform and RandomNormal.
    _uniform("uniform"),
    _normal("normal", "RandomNormal"),
)

# ---- regularizers (keras.regularizers): Keras refuses a negative, nan or inf factor ----------

REGULARIZER_CALLS: tuple[CallKind, ...] = (
    CallKind("l1", "L1", Family.REGULARIZER, (number_arg("l1", 0.01, minimum=0),)),
    CallKind("l2", "L2", Family.REGULARIZER, (number_arg("l2", 0.01, minimum=0),)),
    CallKind(
        "l1_l2",
        "L1L2",
        Family.REGULARIZER,
        (number_arg("l1", 0.0, minimum=0), number_arg("l2", 0.0, minimum=0)),
    ),
    CallKind(
        "orthogonal_regularizer",
        "OrthogonalRegularizer",
        Family.REGULARIZER,
        (
            number_arg("factor", 0.01, minimum=0),
            Arg("mode", K.CHOICE, "rows", choices=("rows", "columns")),
        ),
        weight_ranks=(2, 2),
    ),
)

# ---- constraints (keras.constraints) ---------------------------------------------------------

_AXIS = Arg("axis", K.AXIS, 0)

CONSTRAINT_CALLS: tuple[CallKind, ...] = (
    # A negative norm bound would flip the weights' sign at every step.
    CallKind(
        "max_norm", "MaxNorm", Family.CONSTRAINT, (number_arg("max_value", 2, minimum=0), _AXIS)
    ),
    CallKind(
        "min_max_norm",
        "MinMaxNorm",
        Family.CONSTRAINT,
        (
            number_arg("min_value", 0.0, minimum=0),
            number_arg("max_value", 1.0, minimum=0),
            number_arg("rate", 1.0, minimum=0, maximum=1.0),
            _AXIS,
        ),
        relation=ordered("min_value", "max_value"),
    ),
    CallKind("non_neg", "NonNeg", Family.CONSTRAINT),
    CallKind("unit_norm", "UnitNorm", Family.CONSTRAINT, (_AXIS,)),
)

# ---- optimizers (keras.optimizers) -----------------------------------------------------------

_FRACTION = {"minimum": 0, "below": 1}  # torch refuses betas and rho outside [0, 1)


def _optimizer_tail(*, weight_decay: bool = True) -> tuple[Arg, ...]:
    """The arguments of Keras' base optimizer, in the order every subclass repeats them."""
    return (
        *((optional_number_arg("weight_decay", minimum=0),) if weight_decay else ()),
        optional_number_arg("clipnorm", minimum=0),
        optional_number_arg("clipvalue", minimum=0),
        optional_number_arg("global_clipnorm", minimum=0),
        Arg("use_ema", K.BOOL, False),
        number_arg("ema_momentum", 0.99, minimum=0, maximum=1.0),
        Arg("ema_overwrite_frequency", K.INT, None, nullable=True, minimum=1),
        optional_number_arg("loss_scale_factor"),
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
    keras_string: str | None = "",
) -> CallKind:
    relation = all_of(_OPTIMIZER_RELATION, extra) if extra else _OPTIMIZER_RELATION
    tail = _optimizer_tail(weight_decay=weight_decay)
    return CallKind(
        name,
        keras_class,
        Family.OPTIMIZER,
        (*args, *tail),
        relation=relation,
        keras_string=keras_string,
    )


def _learning_rate(default: float) -> Arg:
    # Keras also takes a schedule object, which a spec cannot write; a negative rate ascends.
    return number_arg("learning_rate", default, minimum=0)


_EPSILON = number_arg("epsilon", 1e-07, minimum=0)
_ADAM_BETAS = (number_arg("beta_1", 0.9, **_FRACTION), number_arg("beta_2", 0.999, **_FRACTION))

OPTIMIZER_CALLS: tuple[CallKind, ...] = (
    _optimizer(
        "adadelta",
        "Adadelta",
        _learning_rate(0.001),
        number_arg("rho", 0.95, **_FRACTION),
        _EPSILON,
    ),
    _optimizer(
        "adafactor",
        "Adafactor",
        _learning_rate(0.001),
        number_arg("beta_2_decay", -0.8),
        number_arg("epsilon_1", 1e-30, minimum=0),
        number_arg("epsilon_2", 0.001, minimum=0),
        number_arg("clip_threshold", 1.0, minimum=0),
        Arg("relative_step", K.BOOL, True),
    ),
    _optimizer(
        "adagrad",
        "Adagrad",
        _learning_rate(0.001),
        number_arg("initial_accumulator_value", 0.1, minimum=0),
        _EPSILON,
    ),
    _optimizer(
        "adam", "Adam", _learning_rate(0.001), *_ADAM_BETAS, _EPSILON, Arg("amsgrad", K.BOOL, False)
    ),
    _optimizer(
        "adamw",
        "AdamW",
        _learning_rate(0.001),
        number_arg("weight_decay", 0.004, minimum=0),
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
        number_arg("learning_rate_power", -0.5, maximum=0.0),
        number_arg("initial_accumulator_value", 0.1, minimum=0),
        number_arg("l1_regularization_strength", 0.0, minimum=0),
        number_arg("l2_regularization_strength", 0.0, minimum=0),
        number_arg("l2_shrinkage_regularization_strength", 0.0, minimum=0),
        number_arg("beta", 0.0, minimum=0),
    ),
    # keras.optimizers.get() knows no "lamb": the class is written.
    _optimizer("lamb", "Lamb", _learning_rate(0.001), *_ADAM_BETAS, _EPSILON, keras_string=None),
    _optimizer(
        "lion",
        "Lion",
        _learning_rate(0.001),
        number_arg("beta_1", 0.9, minimum=0, maximum=1.0),
        number_arg("beta_2", 0.99, **_FRACTION),
        extra=above_zero("beta_1"),
    ),
    _optimizer("nadam", "Nadam", _learning_rate(0.001), *_ADAM_BETAS, _EPSILON),
    _optimizer(
        "rmsprop",
        "RMSprop",
        _learning_rate(0.001),
        number_arg("rho", 0.9, **_FRACTION),
        number_arg("momentum", 0.0, minimum=0, maximum=1.0),
        _EPSILON,
        Arg("centered", K.BOOL, False),
    ),
    _optimizer(
        "sgd",
        "SGD",
        _learning_rate(0.01),
        number_arg("momentum", 0.0, minimum=0, maximum=1.0),
        Arg("nesterov", K.BOOL, False),
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
