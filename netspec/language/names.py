"""Which names may reach generated code: layer and model names become Python identifiers there."""

from __future__ import annotations

import builtins
import keyword
import re

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Names the generated modules use themselves (imports, helpers, locals) and the public attributes
# of torch.nn.Module, which a layer attribute would shadow.
RESERVED = frozenset("""
    keras torch nn F np numpy math self save_npz load_npz
    T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda
    double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
    get_submodule half ipu load_state_dict modules mtia named_buffers named_children
    named_modules named_parameters parameters register_backward_hook register_buffer
    register_forward_hook register_forward_pre_hook register_full_backward_hook
    register_full_backward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter
    register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state
    set_submodule share_memory state_dict to to_empty train training type xpu zero_grad
    weights KERAS_WEIGHTS
    """.split())


# Module-level names of the generated modules that a model's class (CamelCase) could shadow.
RESERVED_CLASSES = frozenset("""
    F GaussianNoise GaussianDropout PReLU SeparableConv2d KerasCrossEntropy
    KerasBinaryCrossEntropy
    """.split())


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a layer in generated code, or None when it can."""
    if not IDENTIFIER.match(name):
        return "a layer name must be a Python identifier: letters, digits and `_`, not starting with a digit"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"`{name}` is a Python keyword"
    if name.startswith("_"):
        # torch.nn.Module keeps its own state in `_modules`, `_parameters`, ...
        return "a layer name must not start with `_`"
    if name in RESERVED:
        return f"`{name}` is reserved by the generated code"
    return None


def class_problem(model: str) -> str | None:
    """Why model `model` cannot have a class in generated code, or None when it can."""
    cls = camel_case(model)
    if cls in RESERVED_CLASSES or keyword.iskeyword(cls):
        return f"its class name {cls} is reserved by the generated code"
    if hasattr(builtins, cls):
        # `value_error` would become class ValueError, which the generated code itself raises.
        return f"its class name {cls} is a Python builtin"
    return None


def camel_case(name: str) -> str:
    """`tiny_resnet` -> `TinyResnet`: each `_`-separated part with its first letter upper-cased."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or "Model"
