"""The NumPy target's generators of recurrent layers and of the wrappers (bidirectional,
time_distributed): each recurrent kind runs the module's helper named after it (`_lstm`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from netspec.layers.base import LayerSpec
from netspec.layers.catalog import lookup
from netspec.targets.literals import py_literal
from netspec.targets.numpy.site import NumpyLayer, Site, activation_function


def _rnn_args(
    site: Site, kind: str, spec: Mapping[str, Any], prefix: str = "", zero_masked: bool = False
) -> str:
    """The arguments of `_<kind>(x, ...)`: its weights below `prefix`, activations, flags, mask."""
    cell = f"{prefix}{kind}_cell/"
    weights = ", ".join(
        (
            site.weight(f"{cell}kernel"),
            site.weight(f"{cell}recurrent_kernel"),
            site.weight(f"{cell}bias", spec["use_bias"]),
        )
    )
    parts = [weights, f"activation={activation_function(site, spec['activation'])}"]
    # The gated cells (lstm, gru) have a recurrent activation; gru alone a reset_after.
    if "recurrent_activation" in spec:
        parts.append(
            f"recurrent_activation={activation_function(site, spec['recurrent_activation'])}"
        )
    if "reset_after" in spec:
        parts.append(f"reset_after={spec['reset_after']}")
    for flag in ("go_backwards", "return_sequences"):
        if spec[flag]:
            parts.append(f"{flag}=True")
    if site.mask:
        parts.append(f"mask={site.mask}")
        if zero_masked:
            parts.append("zero_masked=True")
    return ", ".join(parts)


def build_rnn(site: Site) -> NumpyLayer:
    kind = site.kind.name
    site.use("recurrent")
    return site.layer(site.call(kind, _rnn_args(site, kind, site.args)))


def build_bidirectional(site: Site) -> NumpyLayer:
    forward: LayerSpec = site.arg("layer")
    backward: LayerSpec = site.arg("backward_layer") or LayerSpec(
        forward.kind, {**forward.args, "go_backwards": not forward.args["go_backwards"]}, ""
    )
    # The weights name each copy: `forward_lstm/...` first, then the backward copy's.
    prefixes: list[str] = []
    for name in site.weights:
        head = name.split("/", 1)[0] + "/"
        if head not in prefixes:
            prefixes.append(head)
    directions = []
    for spec, prefix in zip((forward, backward), prefixes):
        site.use("recurrent")
        # Keras' Bidirectional zeroes the outputs of masked steps when it returns sequences.
        zero_masked = spec.args["return_sequences"]
        directions.append(
            site.call(spec.kind, _rnn_args(site, spec.kind, spec.args, prefix, zero_masked))
        )
    merge = py_literal(site.arg("merge_mode"))
    settings = f"merge_mode={merge}, return_sequences={forward.args['return_sequences']}"
    return site.layer(f"{site.use('bidirectional')}({', '.join(directions)}, {settings})")


def build_time_distributed(site: Site, build_inner: Callable[[Site], NumpyLayer]) -> NumpyLayer:
    """The inner layer, built by `build_inner` (the registry's lookup), on each step."""
    spec: LayerSpec = site.arg("layer")
    kind = lookup(spec.kind)
    assert kind is not None  # the checker refused unknown kinds
    prefix = f"{spec.name}/"
    weights = {k[len(prefix) :]: v for k, v in site.weights.items() if k.startswith(prefix)}
    step = Site(
        kind=kind,
        args=spec.args,
        name=site.name,
        var="",
        inputs=("step",),
        shapes=(site.shapes[0][1:],),
        weights=weights,
        helpers=site.helpers,
    )
    inner = build_inner(step).expr
    return site.layer(f"{site.use('time_distributed')}({site.x}, lambda step: {inner})")
