"""The NumPy target's operations on values: the operator or numpy function on the arrays, in
the spec's own layout."""

from __future__ import annotations

from netspec.targets.numpy.site import NumpyLayer, Site
from netspec.targets.operations import Library, operation_expression

_NUMPY = Library("np.", axis="axis", keepdims="keepdims")


def build_operation(site: Site) -> NumpyLayer:
    inputs = [f"np.asarray({x}, np.float32)" for x in site.inputs]
    return site.layer(operation_expression(site.kind, site.args, inputs, _NUMPY))
