"""AST to IR: expand blocks, repeats and loops, resolve names and arguments, name layers as Keras."""

from __future__ import annotations

from netspec import codes
from netspec.diagnostics import DiagnosticSink, Span
from netspec.language import syntax as S
from netspec.language.ir import Graph, Program
from netspec.language.lower_graph import ExpansionBudget
from netspec.language.lower_model import ModelLowering
from netspec.language.names import camel_case, class_problem
from netspec.language.nesting import ModelLibrary


def lower(module: S.Module, sink: DiagnosticSink | None = None) -> Program:
    """Lower a parsed file into one IR graph per model, reporting problems to `sink`."""
    sink = sink or DiagnosticSink(module.path)
    blocks: dict[str, S.Block] = {}
    seen: dict[str, Span] = {}
    for definition in module.definitions:
        if definition.name in seen:
            sink.error(
                codes.DUPLICATE_DEFINITION,
                f"`{definition.name}` is defined twice (first at line {seen[definition.name].line})",
                definition.name_span,
            )
            continue
        seen[definition.name] = definition.name_span
        if isinstance(definition, S.Block):
            blocks[definition.name] = definition
            _check_block_params(definition, sink)
    classes: dict[str, str] = {}
    for model in module.models:
        cls = camel_case(model.name)
        problem = class_problem(model.name)
        if problem is not None:
            sink.error(
                codes.UNUSABLE_NAME,
                f"model `{model.name}` cannot be used: {problem}",
                model.name_span,
            )
        if cls in classes and classes[cls] != model.name:
            sink.error(
                codes.UNUSABLE_NAME,
                f"models `{classes[cls]}` and `{model.name}` would both generate class {cls}",
                model.name_span,
            )
        classes.setdefault(cls, model.name)
    budget = ExpansionBudget()  # one for the file: many models cannot multiply it
    models: dict[str, S.Model] = {}
    for model in module.models:
        models.setdefault(model.name, model)

    def lower_model(model: S.Model) -> Graph:
        return ModelLowering(model, blocks, sink, module.path, budget, library).run()

    # A model may nest another defined anywhere in the file: each is lowered once, when it is
    # first needed, and listed in the file's order.
    library = ModelLibrary(list(models), lambda name: lower_model(models[name]))
    graphs = [
        library.graph(model.name) if models[model.name] is model else lower_model(model)
        for model in module.models
    ]
    return Program(module.path, module.text, graphs, sink.items)


def _check_block_params(block: S.Block, sink: DiagnosticSink) -> None:
    names: set[str] = set()
    for param in block.params:
        if param.name in names:
            sink.error(
                codes.NAME_BOUND_TWICE,
                f"parameter `{param.name}` of block {block.name} is listed twice",
                param.span,
            )
        names.add(param.name)
