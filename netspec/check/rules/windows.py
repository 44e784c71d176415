"""Rules about convolution and pooling windows: strides that skip inputs (NS216), even kernels
with same padding (NS227)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from netspec.check.rules.base import Finding, RuleConfig, rule
from netspec.check.rules.graphs import effective, known_nodes
from netspec.check.shapes import CheckedGraph
from netspec.diagnostics import Severity
from netspec.language.ir import Node
from netspec.layers.common import channels_first, int_tuple, split_channels
from netspec.layers.traits import Wrapper


@dataclass(frozen=True)
class Window:
    """The window of a convolution or pooling layer, per spatial axis."""

    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: str
    spatial: tuple[int | None, ...]  # the input's spatial sizes
    transposed: bool
    pooling: bool
    output_padding: tuple[int, ...] | None = None  # a transposed convolution's, if given

    @property
    def spans(self) -> tuple[int, ...]:
        """The extent of each axis of the window, dilation counted."""
        return tuple((k - 1) * d + 1 for k, d in zip(self.kernel, self.dilation))


def _window(checked: CheckedGraph, node: Node) -> Window | None:
    kind, args = effective(node)
    geometry = kind.traits.window
    if geometry is None:
        return None
    rank = kind.traits.spatial_rank
    shape = checked.shapes.get(node.inputs[0]) if node.inputs else None
    if shape is None:
        return None
    if node.kind.traits.wrapper is Wrapper.PER_STEP:
        shape = shape[1:]  # the inner layer sees one step
    spatial, _ = split_channels(shape, channels_first(args))
    if len(spatial) != rank:
        return None
    kernel = int_tuple(args[geometry.size], rank)
    strides_arg = args.get("strides")
    strides = kernel if strides_arg is None else int_tuple(strides_arg, rank)
    dilation = int_tuple(args.get(geometry.dilation, 1) if geometry.dilation else 1, rank)
    extra = args.get("output_padding")
    return Window(
        kernel,
        strides,
        dilation,
        str(args.get("padding", "valid")),
        tuple(spatial),
        geometry.transposed,
        kind.traits.is_pooling,
        None if extra is None else int_tuple(extra, rank),
    )


def _fmt(values: tuple[int, ...]) -> str:
    return "x".join(str(v) for v in values)


def _described(window: Window) -> str:
    """`3x3 window`, `2x2 window dilated by 2`."""
    dilated = f" dilated by {_fmt(window.dilation)}" if max(window.dilation) > 1 else ""
    size = _fmt(window.kernel) + ("-wide" if len(window.kernel) == 1 else "")
    return f"{size} {'kernel' if window.transposed else 'window'}{dilated}"


# ---- stride larger than the window (NS216) ---------------------------------------------------


def _coverage(window: Window, axis: int) -> tuple[int, int]:
    """(positions reached, positions) in one period of the stride along an axis: of the input
    for a forward window, of the output for a transposed convolution. What valid padding leaves
    off at the border is not counted: that is the input size's doing, not the stride's."""
    k, s, d = window.kernel[axis], window.strides[axis], window.dilation[axis]
    # The taps d*j (mod s) repeat with period s / gcd(d, s), each a distinct multiple of the gcd:
    # counted in closed form, since a kernel may be billions wide.
    return min(k, s // math.gcd(d, s)), s


@rule("NS216", "stride-larger-than-window", Severity.WARNING)
def stride_larger_than_window(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A convolution or pooling layer steps further than its window reaches: inputs are skipped.

    A window moved by a stride larger than itself (a 2x2 pooling with strides 3, a 3-wide
    convolution with stride 4) jumps over the positions between two windows: they never reach
    the output, so the layer discards part of its input without learning anything from it. A
    dilated window counts with its holes: a 2-tap window dilated by 2 with stride 2 sees only
    every other position. In a transposed convolution a stride larger than the kernel leaves
    output positions that no input reaches, a grid of holes holding only the bias.

    Not reported: an axis with a window of 1, which subsamples by design (ResNet's strided 1x1
    projection shortcuts; ResNet-D replaces them with average pooling for this very loss, but
    they are the published architecture), global pooling, and pooling whose strides are left
    out (they default to the window).

    Bad:

    ```netspec
    model features {
        input [32, 32, 3]
        conv2d(16, 3, activation=relu)
        max_pool2d(2, strides=3)
        conv2d(32, 3, activation=relu)
    }
    ```

    Good:

    ```netspec
    model features {
        input [32, 32, 3]
        conv2d(16, 3, activation=relu)
        max_pool2d(3, strides=3)
        conv2d(32, 3, activation=relu)
    }
    ```
    """
    for node in known_nodes(checked):
        window = _window(checked, node)
        if window is None:
            continue
        axes = []
        for axis, k in enumerate(window.kernel):
            reached, total = _coverage(window, axis)
            if (window.transposed or k > 1) and reached < total:
                axes.append(axis)
        if axes:
            yield _skipping(node, window, axes)


def _skipping(node: Node, window: Window, axes: list[int]) -> Finding:
    kept = math.prod(reached / total for reached, total in (_coverage(window, a) for a in axes))
    strides, described = _fmt(window.strides), _described(window)
    if window.transposed:
        message = (
            f"{node.name} steps {strides} with a {described}: {1 - kept:.0%} of its output "
            "positions get no input, only the bias"
        )
        reach = max(window.strides)
        help = (
            f"use kernel_size of at least {reach} (a multiple of the stride avoids checkerboards)"
        )
    else:
        message = (
            f"{node.name} steps {strides} over a {described}: it never sees {1 - kept:.0%} of "
            "its input"
        )
        if max(window.dilation) > 1:
            help = "a dilated window with a stride skips positions: use strides=1 or no dilation"
        elif window.pooling:
            help = (
                "use a pool_size of at least the strides, or leave strides out (it defaults to it)"
            )
        else:
            help = f"use strides of at most the window ({_fmt(window.spans)}), or a larger kernel"
    return Finding(node, message, help=help)


# ---- even kernel with same padding (NS227) ---------------------------------------------------


def _same_padding(window: Window, axis: int) -> int | None:
    """The total padding Keras adds along an axis for padding=same (for a transposed
    convolution: what it crops from the full output), None when the input size decides it."""
    span, s, n = window.spans[axis], window.strides[axis], window.spatial[axis]
    if window.transposed and window.output_padding is not None:
        # The output is (n - 1) * s + span - 2 * (span // 2) + output_padding long.
        return max(2 * (span // 2) - window.output_padding[axis], 0)
    if window.transposed:
        return max(span - s, 0)
    if n is None:
        return span - 1 if s == 1 else None
    out = -(-n // s)  # ceil in integers: exact past a float's range
    return max((out - 1) * s + span - n, 0)


@rule("NS227", "even-kernel-same-padding", Severity.INFO)
def even_kernel_same_padding(checked: CheckedGraph, config: RuleConfig) -> Iterator[Finding]:
    """A convolution with an even kernel and padding=same pads one side more than the other.

    To keep the size, padding=same adds kernel - 1 positions around the input (at stride 1): an
    odd number for an even kernel, and Keras puts the extra one at the end (bottom and right).
    Each output then sits half a step off the centre of its window, so features drift by half a
    pixel per layer, and a port to a framework that pads both sides alike (PyTorch's integer
    `padding=`, Caffe) gives different values at the borders. A transposed convolution crops its
    output the same lopsided way. Reported only when the total padding really is odd: at a stride
    the input size decides it (a 2x2 convolution with stride 2 on an even size pads nothing), and
    an even kernel dilated by an odd rate spans an even width too.

    Bad:

    ```netspec
    model features {
        input [32, 32, 3]
        conv2d(16, 2, padding=same, activation=relu)
        global_avg_pool2d
    }
    ```

    Good:

    ```netspec
    model features {
        input [32, 32, 3]
        conv2d(16, 3, padding=same, activation=relu)
        global_avg_pool2d
    }
    ```
    """
    for node in known_nodes(checked):
        window = _window(checked, node)
        if window is None or window.pooling or window.padding != "same":
            continue
        pads: dict[int, tuple[int, int]] = {}
        for axis, span in enumerate(window.spans):
            total = _same_padding(window, axis)
            if span % 2 == 0 and total is not None and total % 2 == 1:
                pads[axis] = (total // 2, total - total // 2)
        if pads:
            yield _lopsided(node, window, pads)


def _lopsided(node: Node, window: Window, pads: Mapping[int, tuple[int, int]]) -> Finding:
    pairs = set(pads.values())
    rank = len(window.kernel)
    if rank == 1:
        where = ""
    elif len(pads) == rank:
        where = " on every axis"
    else:
        where = " on spatial axis " + ", ".join(str(a + 1) for a in pads)
    if len(pairs) == 1:
        before, after = next(iter(pairs))
        amount = f"{before} before and {after} after{where}"
    else:
        amount = ", ".join(f"({b}, {a})" for b, a in pads.values()) + " per axis"
    if window.transposed:
        what = f"Keras crops its output by {amount}"
    else:
        what = f"Keras pads {amount}"
    message = (
        f"{node.name} has an even kernel ({_fmt(window.kernel)}) with padding=same: {what}, so its "
        "output shifts by half a step and ports that pad both sides alike differ"
    )
    if window.transposed:
        help = "use a kernel that exceeds the stride by an even number (3 at stride 1, 4 at 2)"
    else:
        help = "use an odd kernel (3, 5), or pad explicitly with zero_pad and padding=valid"
    return Finding(node, message, help=help)
