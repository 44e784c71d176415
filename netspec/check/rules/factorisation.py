"""When two linear maps in a row are a factorisation by design: the arithmetic NS201 and NS202 use.

A linear map P (in -> mid channels) followed by a linear map C (mid -> out) computes the one map
C.P (in -> out). The pair buys something over that one map in two cases only:
- it constrains the rank: the product has rank at most `mid`, so a middle narrower than both
  ends (mid < min(in, out)) is a low-rank map on purpose: a linear bottleneck;
- it saves parameters, which takes a factor that does not mix everything it could: a depthwise
  convolution (no mixing of channels), a pointwise one (1x1, or a dense layer applied at every
  position: no mixing of positions). The pair holds fewer weights than the one map with the
  receptive field of the two together: depthwise then pointwise is a separable convolution.
One published choice is left alone although the arithmetic says it buys nothing: two pointwise
(1x1) maps whose middle is as wide as the input and which the second expands (mid == in < out),
a block's projection kept linear before the next block's expansion, as MobileNetV2 and V3 write
their linear bottlenecks (a relu there would destroy information, their papers argue). A dense
layer on a vector, or any wider window, is reported there.
Two full maps (each mixing every channel, and positions too) are never a factorisation by
design: their product is one larger map under another name, whatever it costs. Across flatten
or reshape the widths are whole tensors and the one map is a dense layer over them, against
which a convolution's shared weights are a restriction too.
"""

from __future__ import annotations

from dataclasses import dataclass

from netspec.check.rules.graphs import effective
from netspec.check.shapes import CheckedGraph
from netspec.language.ir import Node
from netspec.layers.catalog import Shape
from netspec.layers.common import product


@dataclass(frozen=True)
class Widths:
    """The widths a pair of maps works through: channels, or whole tensors across a reshape."""

    inner: int  # what the first map takes in
    middle: int  # what it hands the second
    outer: int  # what the second gives out
    elements: bool  # True: counted as whole tensors (a flatten or reshape stands between)


def is_design(checked: CheckedGraph, producer: Node, consumer: Node, between: list[Node]) -> bool:
    """Whether `producer` then `consumer` (with the linear `between`) is a factorisation that
    constrains rank or saves parameters, rather than one linear map written as two."""
    widths = pair_widths(checked, producer, consumer, between)
    if widths is None:
        return False
    if widths.middle < min(widths.inner, widths.outer):
        return True  # a low-rank map on purpose
    if (
        widths.middle == widths.inner < widths.outer
        and not widths.elements
        and _pointwise(checked, producer)
        and _pointwise(checked, consumer)
    ):
        return True  # a linear block output before the next expansion (MobileNetV3's 16 -> 72)
    restricted = _restricted(checked, producer, widths) or _restricted(checked, consumer, widths)
    if not restricted:
        return False
    factors = _kernel_size(checked, producer) + _share(checked, consumer, widths)
    return factors < one_map_size(checked, producer, consumer, between, widths)


def _share(checked: CheckedGraph, consumer: Node, widths: Widths) -> int:
    """The part of the consumer's kernel that acts on the producer's output: a concat hands it
    other channels too, which are no part of this pair's cost."""
    kernel = _kernel_size(checked, consumer)
    consumed = checked.shapes.get(consumer.inputs[0]) if consumer.inputs else None
    if widths.elements or not consumed:
        return kernel
    channels = consumed[_channel_axis(consumer)]
    if not isinstance(channels, int) or channels <= widths.middle:
        return kernel
    return kernel * widths.middle // channels


def pair_widths(
    checked: CheckedGraph, producer: Node, consumer: Node, between: list[Node]
) -> Widths | None:
    """The widths of the pair, None where a size is unknown."""
    shapes = checked.shapes
    before = shapes.get(producer.inputs[0]) if producer.inputs else None
    middle, after = shapes.get(producer.id), shapes.get(consumer.id)
    if not before or not middle or not after:
        return None  # unknown, or a scalar per example: nothing to factorise
    relaid = any(effective(n)[0].traits.new_layout for n in between)
    consumed = shapes.get(consumer.inputs[0]) if consumer.inputs else None
    # Global pooling keeps the channels: only a new layout makes the widths whole tensors.
    if relaid or consumed is None:
        sizes = (product(before), product(middle), product(after))
        elements = True
    else:
        sizes = (
            before[_channel_axis(producer)],
            middle[_channel_axis(producer)],
            after[_channel_axis(consumer)],
        )
        elements = False
    if any(not isinstance(size, int) for size in sizes):
        return None
    return Widths(*sizes, elements=elements)


def one_map_size(
    checked: CheckedGraph, producer: Node, consumer: Node, between: list[Node], widths: Widths
) -> int:
    """The kernel of the one map the pair composes to: its window times in times out."""
    if widths.elements:
        return widths.inner * widths.outer
    return _composite_window(checked, producer, [*between, consumer]) * widths.inner * widths.outer


def _channel_axis(node: Node) -> int:
    kind, args = effective(node)
    if kind.traits.window is not None and args.get("data_format") == "channels_first":
        return 0
    return -1


def _window(node: Node) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The effective window (dilation counted) and the strides of a windowed node."""
    kind, args = effective(node)
    window = kind.traits.window
    if window is None or window.transposed:
        return None
    size = _ints(args.get(window.size))
    if size is None:
        return None
    dilation = _ints(args.get(window.dilation)) if window.dilation else None
    if dilation is not None and len(dilation) == len(size):
        size = tuple((k - 1) * d + 1 for k, d in zip(size, dilation))
    strides = _ints(args.get("strides")) or size
    return size, (strides if len(strides) == len(size) else size)


def _ints(value: object) -> tuple[int, ...] | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return value
    return None


def _composite_window(checked: CheckedGraph, producer: Node, later: list[Node]) -> int:
    """How many input positions one output of the pair sees: the windows grow by each later
    window's extent times the strides before it; capped at the input's own size."""
    total: list[int] | None = None
    jump: list[int] = []
    for node in [producer, *later]:
        found = _window(node)
        if found is None:
            continue
        size, strides = found
        if total is None:
            total, jump = [1] * len(size), [1] * len(size)
        if len(size) != len(total):
            continue
        for axis, (k, s) in enumerate(zip(size, strides)):
            total[axis] += (k - 1) * jump[axis]
            jump[axis] *= s
    if total is None:
        return 1
    spatial = _spatial(checked, producer)
    if spatial is not None and len(spatial) == len(total):
        total = [min(t, s) if isinstance(s, int) else t for t, s in zip(total, spatial)]
    return product(tuple(total)) or 1


def _spatial(checked: CheckedGraph, producer: Node) -> Shape | None:
    shape = checked.shapes.get(producer.inputs[0]) if producer.inputs else None
    if shape is None:
        return None
    return shape[1:] if _channel_axis(producer) == 0 else shape[:-1]


def _restricted(checked: CheckedGraph, node: Node, widths: Widths) -> bool:
    """A factor that leaves some mixing out: depthwise (channels) or pointwise at positions;
    across a reshape, where the one map is a dense layer over whole tensors, any convolution
    too (its weights are shared across positions)."""
    kind = effective(node)[0]
    if kind.traits.factorised or (widths.elements and kind.traits.window is not None):
        return True
    return _pointwise(checked, node)


def _pointwise(checked: CheckedGraph, node: Node) -> bool:
    """A map of each position on its own: a 1x1 window, or a dense layer applied at every
    position of a sequence or feature map (not to one vector per example)."""
    kind = effective(node)[0]
    found = _window(node)
    if kind.traits.window is None:
        pointwise = True
    else:
        pointwise = found is not None and all(k == 1 for k in found[0])
    shape = checked.shapes.get(node.inputs[0]) if node.inputs else None
    return pointwise and shape is not None and len(shape) >= 2


def _kernel_size(checked: CheckedGraph, node: Node) -> int:
    """The values of a map's kernels (biases aside): what the factorisation costs."""
    return sum(w.size for w in checked.weights.get(node.id, []) if w.name.endswith("kernel"))
