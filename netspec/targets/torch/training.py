"""`compile(...)` for the PyTorch target: the loss and optimizer factories, where they map exactly."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from netspec.check.shapes import CheckedGraph
from netspec.layers.base import keras_snake_case
from netspec.layers.catalog import CallValue
from netspec.layers.training import canonical_loss
from netspec.targets.base import GenerationError
from netspec.targets.literals import py_literal

_EPSILON = 1e-7  # keras.config.epsilon(): the clipping of probabilities in Keras' losses


@dataclass(frozen=True)
class Factory:
    """One generated factory: `expr` to return, or `missing` saying why there is none."""

    expr: str | None
    doc: tuple[str, ...]  # the docstring's lines
    missing: str | None = None
    helpers: tuple[str, ...] = ()


def _call(value: Any, positional: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """A bare name or a call as (snake_case name, keyword arguments)."""
    if isinstance(value, CallValue):
        options = dict(zip(positional, value.args))
        options.update(dict(value.kwargs))
        return keras_snake_case(value.name), options
    return keras_snake_case(str(value)), {}


def _finite(value: Any, what: str, call: str, argument: str) -> float:
    """A hyper-parameter as the float torch takes. Lint checks ranges; whatever reaches gen
    unchecked (a huge integer, nan, a string) is refused with the argument named, never a
    traceback nor a `nan` that the generated module cannot evaluate."""
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    try:
        result = None if number is None else float(number)
    except OverflowError:
        result = None
    if result is None or not math.isfinite(result):
        shown = f"{len(str(value))} digits" if isinstance(value, int) else repr(value)
        raise GenerationError(
            f"{what} `{call}`: `{argument}` must be a finite number for torch, got {shown}"
        )
    return result


def _unsupported(what: str, shown: str, reason: str) -> Factory:
    return Factory(None, (), f"{what} `{shown}`: {reason}; write it for torch yourself")


def loss_factory(checked: CheckedGraph) -> Factory | None:
    spec = checked.graph.compile
    if spec is None or spec.loss is None:
        return None
    name = canonical_loss(_call(spec.loss, ())[0])
    positional = _LOSS_ARGS.get(name, ())
    if isinstance(spec.loss, CallValue) and len(spec.loss.args) > len(positional):
        return _unsupported("loss", name, "its positional arguments are not mapped to torch")
    options = _call(spec.loss, positional)[1]
    from_logits = options.pop("from_logits", False)
    smoothing = _finite(options.pop("label_smoothing", 0.0), "loss", name, "label_smoothing")
    options.pop("name", None)
    if options.pop("reduction", "sum_over_batch_size") != "sum_over_batch_size":
        return _unsupported("loss", name, "only Keras' default reduction is generated")
    outputs = checked.graph.outputs
    rank = len(checked.shapes[outputs[0]] or ()) if len(outputs) == 1 else None
    if rank is None:
        return _unsupported("loss", name, "a model of several outputs needs one loss per output")
    classes_on_dim1 = rank in (1, 3)  # torch's cross-entropy wants the classes on dim 1
    delta = _finite(options.pop("delta", 1.0), "loss", name, "delta")
    if options.pop("axis", -1) != -1 or options.pop("ignore_class", None) is not None or options:
        return _unsupported("loss", name, "its arguments have no exact torch equivalent")
    doc = (
        f"Keras' {name}{' (from_logits=True)' if from_logits else ''}: call it as loss(output, target).",
    )
    if name in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
        if not classes_on_dim1:
            return _unsupported("loss", name, "the classes are not on torch's dim 1")
        sparse = name.startswith("sparse")
        if sparse and smoothing:
            return _unsupported("loss", name, "label smoothing of sparse targets")
        if from_logits:
            args = f"label_smoothing={smoothing!r}" if smoothing else ""
            return Factory(f"nn.CrossEntropyLoss({args})", doc)
        args = "sparse=True" if sparse else "sparse=False"
        if smoothing:
            args += f", label_smoothing={smoothing!r}"
        return Factory(f"KerasCrossEntropy({args})", doc, helpers=("KerasCrossEntropy",))
    if name == "binary_crossentropy":
        if from_logits and not smoothing:
            return Factory("nn.BCEWithLogitsLoss()", doc)
        args = ", ".join(
            part
            for part in (
                "from_logits=True" if from_logits else "",
                f"label_smoothing={smoothing!r}" if smoothing else "",
            )
            if part
        )
        return Factory(
            f"KerasBinaryCrossEntropy({args})", doc, helpers=("KerasBinaryCrossEntropy",)
        )
    if from_logits or smoothing:
        return _unsupported(
            "loss", name, "from_logits and label_smoothing belong to cross-entropies"
        )
    simple = {
        "mean_squared_error": "nn.MSELoss()",
        "mean_absolute_error": "nn.L1Loss()",
        "huber": f"nn.HuberLoss(delta={delta!r})",
        "poisson": f"nn.PoissonNLLLoss(log_input=False, eps={_EPSILON!r})",
    }
    if name in simple:
        return Factory(simple[name], doc)
    return _unsupported("loss", name, "no torch loss computes exactly what Keras' does")


# Keras' positional order of the loss arguments netspec maps (the classes' constructors).
_LOSS_ARGS = {
    "categorical_crossentropy": ("from_logits", "label_smoothing", "axis"),
    "sparse_categorical_crossentropy": ("from_logits", "ignore_class"),
    "binary_crossentropy": ("from_logits", "label_smoothing", "axis"),
    "huber": ("delta",),
}

# Keras' positional order of the optimizer arguments netspec maps.
_OPTIMIZER_ARGS = {
    "adam": ("learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad", "weight_decay"),
    "adamw": ("learning_rate", "weight_decay", "beta_1", "beta_2", "epsilon", "amsgrad"),
    "sgd": ("learning_rate", "momentum", "nesterov", "weight_decay"),
}
_KERAS_DEFAULTS = {
    "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
             "amsgrad": False, "weight_decay": None},
    "adamw": {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999,
              "epsilon": 1e-07, "amsgrad": False},
    "sgd": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": None},
}  # fmt: skip
_PARAMETERS = "(p for p in module.parameters() if p.requires_grad)"


def optimizer_factory(checked: CheckedGraph) -> Factory | None:
    spec = checked.graph.compile
    if spec is None or spec.optimizer is None:
        return None
    name, options = _call(spec.optimizer, ())
    positional = _OPTIMIZER_ARGS.get(name)
    if positional is None:
        reason = {
            "rmsprop": "Keras adds epsilon inside the square root, torch outside",
            "adagrad": "Keras adds epsilon inside the square root, torch outside",
        }.get(name, "no torch optimizer with these exact updates is generated")
        return _unsupported("optimizer", name, reason)
    name, options = _call(spec.optimizer, positional)
    options.pop("name", None)
    unknown = sorted(set(options) - set(positional))
    if unknown:
        return _unsupported(
            "optimizer", name, f"{', '.join(unknown)} has no torch.optim equivalent"
        )
    values = {**_KERAS_DEFAULTS[name], **options}
    if not isinstance(values["learning_rate"], (int, float)):
        return _unsupported("optimizer", name, "a learning-rate schedule is not generated")
    lr = _finite(values["learning_rate"], "optimizer", name, "learning_rate")
    if name == "sgd":
        decay = values["weight_decay"]
        momentum = _finite(values["momentum"], "optimizer", name, "momentum")
        if decay and momentum:
            return _unsupported(
                "optimizer",
                name,
                "Keras decays weights apart from the momentum, torch's SGD inside it",
            )
        args = f"lr={lr!r}"
        if momentum:
            args += f", momentum={momentum!r}"
        if values["nesterov"]:
            args += ", nesterov=True"
        if decay:
            args += f", weight_decay={_finite(decay, 'optimizer', name, 'weight_decay')!r}"
        doc = ("Keras' SGD: the same updates as Keras' for a constant learning rate.",)
        return Factory(f"torch.optim.SGD({_PARAMETERS}, {args})", doc)
    decay = values["weight_decay"]
    betas = tuple(_finite(values[b], "optimizer", name, b) for b in ("beta_1", "beta_2"))
    epsilon = _finite(values["epsilon"], "optimizer", name, "epsilon")
    args = f"lr={lr!r}, betas={py_literal(betas)}, eps={epsilon!r}"
    if values["amsgrad"]:
        args += ", amsgrad=True"
    # Keras' weight decay is decoupled (variable -= lr * decay * variable): torch's AdamW.
    cls = "AdamW" if decay else "Adam"
    if decay:
        args += f", weight_decay={_finite(decay, 'optimizer', name, 'weight_decay')!r}"
    shown = {"adam": "Adam", "adamw": "AdamW"}[name]
    doc = (
        f"Keras' {shown} with Keras' hyper-parameters (epsilon {values['epsilon']!r}, not torch's 1e-8).",
        "",
        "Keras adds epsilon to sqrt(v) before the bias correction, torch after it: the updates",
        "differ only while sqrt(v) is about as small as epsilon.",
    )
    return Factory(f"torch.optim.{cls}({_PARAMETERS}, {args})", doc)
