"""Every code netspec can emit, in one table: the core codes here, the design rules from the registry."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass

from netspec.diagnostics import Severity


@dataclass(frozen=True)
class CodeInfo:
    """What a code means: a kebab-case name, its severity, a one-line summary, more text, a fix."""

    code: str
    name: str
    severity: Severity
    summary: str
    description: str = ""
    help: str = ""
    markdown: str = ""  # the help as Markdown, where the documentation has examples

    @property
    def full_description(self) -> str:
        return self.description or self.summary

    @property
    def help_text(self) -> str:
        return self.help or self.full_description


# The code for a `# noqa` that silences nothing (ruff's RUF100); the suppression module emits it.
UNUSED_NOQA = "NS019"
# A file that does not parse has nothing else to report, so NS001 is never selected away or
# silenced (as ruff's syntax errors).
SYNTAX_ERROR = "NS001"

_E, _W = Severity.ERROR, Severity.WARNING
# Where the examples of a rule's docstring start: the prose before them is its description.
_EXAMPLES = re.compile(r"^(?:Bad|Good):", re.MULTILINE)

# The codes raised by the parser, lowering and the layer catalog: they are not rule objects, so
# their documentation lives here (the meanings are those of docs/language.md).
# One entry per code reads best as code, name, severity, summary, description, help:
# fmt: off
_CORE: tuple[CodeInfo, ...] = (
    CodeInfo(
        "NS001", "syntax-error", _E, "The text does not parse.",
        "The file is not valid netspec: a token is out of place, the file is not UTF-8 text, or it "
        "exceeds a limit of the parser (4 MiB of text, brackets or values nested over 64 deep, "
        "bodies nested over 32 deep). Only the first error is reported, with what was expected.",
        "Fix the text at the place shown; the message says what was expected there.",
    ),
    CodeInfo(
        "NS002", "unknown-name", _E,
        "An unknown layer kind, activation, option value, dtype, loss, optimizer, metric or name.",
        "A word that names nothing netspec knows: a layer kind, an activation, an option value "
        "such as a padding, a dtype, a loss, an optimizer, a metric, a block or a bound name.",
        "Use the closest known name the message suggests, or define the block or binding.",
    ),
    CodeInfo(
        "NS003", "unknown-argument", _E,
        "An unknown keyword argument, or too many positional arguments.",
        "A layer or block was given a keyword its Keras constructor (or the block) does not take, "
        "or more positional arguments than it has parameters.",
        "Check the argument names against Keras' constructor or the block's parameters.",
    ),
    CodeInfo(
        "NS004", "duplicate-argument", _E, "An argument given twice.",
        "The same argument was given twice, by position and by keyword or twice by keyword.",
        "Give each argument once.",
    ),
    CodeInfo(
        "NS005", "missing-argument", _E, "A required argument is missing.",
        "A layer was used without an argument its Keras constructor requires (dense without "
        "units, conv2d without filters or kernel size).",
        "Add the argument.",
    ),
    CodeInfo(
        "NS006", "wrong-type", _E, "A value of the wrong type, or a construct in the wrong place.",
        "An argument got a value of a type it does not accept (a word where an integer is "
        "needed, a tuple of the wrong length), or a construct stands where it cannot.",
        "Give the argument a value of the type the message names.",
    ),
    CodeInfo(
        "NS007", "value-out-of-range", _E, "A value out of range.",
        "A number outside what the layer accepts: units or filters below 1, a dropout rate "
        "outside [0, 1), a stride or kernel below 1, a division by zero, a value over 64 bits.",
        "Use a value within the range the message names.",
    ),
    CodeInfo(
        "NS008", "name-bound-twice", _E, "A name bound twice in one body.",
        "A name is bound once in its body; binding it again (or binding a block parameter's name) "
        "would hide the first value.",
        "Give the second value a name of its own.",
    ),
    CodeInfo(
        "NS009", "used-before-bound", _E, "A name used before it is bound.",
        "A value was used on a line above the line that binds it; values flow downwards.",
        "Move the binding above its first use.",
    ),
    CodeInfo(
        "NS010", "unused-value", _E, "A value that is never used.",
        "A value feeds no layer and is not an output: a dangling branch of the graph, usually a "
        "name bound and then forgotten.",
        "Use the value, list it in `output`, or remove it.",
    ),
    CodeInfo(
        "NS011", "recursive-block", _E, "A block that uses itself.",
        "A block uses itself, directly or through other blocks, so it would expand forever.",
        "Break the cycle; use `repeat` to apply a block several times.",
    ),
    CodeInfo(
        "NS012", "block-argument-count", _E, "A wrong number of block arguments.",
        "A block was used with more positional arguments than it has parameters, or without a "
        "parameter that has no default.",
        "Pass one argument per parameter the block declares.",
    ),
    CodeInfo(
        "NS013", "missing-input", _E, "A model with no input shape.",
        "A model has no `input [shape]` (nor the Keras form `input_shape=`), so no shape can be "
        "inferred and nothing can be checked.",
        "Start the model with `input [shape]`, e.g. `input [28, 28, 1]`.",
    ),
    CodeInfo(
        "NS014", "duplicate-layer-name", _E, "Two layers with one name.",
        "Two layers of one model have the same name; Keras refuses it, and the names key the "
        "weights in every backend.",
        "Rename one of them with `name=...`.",
    ),
    CodeInfo(
        "NS015", "duplicate-definition", _E, "Two definitions with one name.",
        "Two models or blocks of one file have the same name.",
        "Rename one of them.",
    ),
    CodeInfo(
        "NS016", "limit-exceeded", _E, "A size limit exceeded.",
        "The spec asks for more than netspec builds: `repeat` or `for` over 10,000 passes, more "
        "than 20,000 layers in a model, or blocks nested over 32 deep.",
        "Make the spec smaller.",
    ),
    CodeInfo(
        "NS018", "misplaced-statement", _E, "A statement where it does not belong.",
        "A statement stands where it has no meaning: `compile` in a block, a second `output` or "
        "`compile` in a model, several names in a block's `output`.",
        "Move or remove the statement.",
    ),
    CodeInfo(
        UNUSED_NOQA, "unused-noqa", _W, "A `# noqa` directive that silences nothing.",
        "A `# noqa` comment (or a file-level `# netspec: noqa`) names codes that are not reported "
        "there: the problem was fixed, the code is not selected, or the code is unknown. A stale "
        "suppression would hide a future problem.",
        "Remove the directive, or the codes the message lists from it.",
    ),
    CodeInfo(
        "NS020", "unusable-name", _E, "A name that generated code cannot use.",
        "A name cannot become a Python name in the generated code: a layer name that is not an "
        "identifier, or two models whose class names (CamelCase) would be the same.",
        "Choose a name of letters, digits and `_` that does not start with a digit, and model "
        "names that stay distinct in CamelCase.",
    ),
    CodeInfo(
        "NS101", "window-too-large", _E,
        "A window larger than its input, or a dimension that becomes 0 or less.",
        "A convolution or pooling window is larger than its (padded) input, a cropping removes "
        "every position, or a reshape asks for a dimension of 0 or less: the model cannot run.",
        "Use padding=same, a smaller window, or a larger input.",
    ),
    CodeInfo(
        "NS102", "incompatible-input", _E, "A layer's input or arguments do not fit it.",
        "The input does not fit the layer with the arguments given: an axis out of range or on "
        "the batch, a wrapper around a layer it cannot wrap, an option the layer cannot pass on.",
        "Follow the message: it names the argument at fault and what would fit.",
    ),
    CodeInfo(
        "NS103", "merge-shape-mismatch", _E, "A merge of values whose shapes do not fit.",
        "An element-wise merge (add, multiply, ...) of unequal shapes, a concat whose inputs "
        "differ off its axis, or a dot whose contracted sizes differ.",
        "Make the shapes agree, e.g. with a 1x1 convolution or a dense layer on one branch.",
    ),
    CodeInfo(
        "NS104", "wrong-rank", _E, "A layer fed a tensor of the wrong rank.",
        "A layer got an input of a rank it cannot take: conv2d after flatten, conv2d on a vector, "
        "a pooling layer on the wrong rank.",
        "Reshape the input, or use the layer of the right rank (conv1d, conv2d, ...).",
    ),
    CodeInfo(
        "NS105", "reshape-size-mismatch", _E, "A reshape that changes the number of values.",
        "A reshape target holds a different number of values than its input, or has more than "
        "one -1.",
        "Choose a target with as many values as the input; -1 lets one dimension follow.",
    ),
    CodeInfo(
        "NS106", "rnn-needs-sequence", _E, "A recurrent layer without a sequence input.",
        "A recurrent layer needs a (time, features) input; it got a vector, e.g. after a "
        "recurrent layer without return_sequences=true.",
        "Set return_sequences=true on the recurrent layer before, or reshape / repeat_vector.",
    ),
    CodeInfo(
        "NS108", "unknown-dimension", _E, "A layer needs a known size to build its weights.",
        "A layer's weights depend on a dimension of its input that is unknown (None), such as "
        "the features of a dense layer or the channels of a convolution.",
        "Give that dimension a size in `input`, or pool it away before the layer.",
    ),
    CodeInfo(
        "NS109", "weight-too-large", _E, "A weight too large to build.",
        "A weight holds more than 2**34 values (64 GiB in float32): no machine netspec targets "
        "can build it.",
        "Shrink the layer, or pool before flattening into a dense layer.",
    ),
    CodeInfo(
        "NS110", "merge-arity", _E, "A merge of too few or too many values.",
        "A merge layer was given fewer values than it needs (most need two) or more than it takes "
        "(subtract and dot take exactly two).",
        "Pass the number of values the merge takes.",
    ),
)

# fmt: on

CORE_CODES: Mapping[str, CodeInfo] = {info.code: info for info in _CORE}


def rule_info(rule: object) -> CodeInfo:
    """A registry rule as a CodeInfo: the first line of its documentation is the summary, the
    prose after it the description, and the whole body (bad and good examples too) the help."""
    doc = rule_doc(rule)
    summary, _, body = doc.partition("\n")
    body = body.strip()
    code = str(getattr(rule, "code"))
    severity = getattr(rule, "severity", Severity.WARNING)
    return CodeInfo(
        code=code,
        name=str(getattr(rule, "name", "") or code),
        severity=severity if isinstance(severity, Severity) else Severity(str(severity)),
        summary=summary.strip() or code,
        description=_unwrap(_EXAMPLES.split(body, maxsplit=1)[0]),
        help=body,
        markdown=body,
    )


def rule_doc(rule: object) -> str:
    """A rule's documentation: its `doc`, else its check function's docstring, else its own."""
    doc = getattr(rule, "doc", None)
    if not isinstance(doc, str):
        check = getattr(rule, "check", None)
        doc = getattr(check, "__doc__", None) or getattr(rule, "__doc__", None) or ""
    return inspect.cleandoc(doc)


def _unwrap(text: str) -> str:
    """Prose with its paragraphs each on one line: a docstring's line breaks are only wrapping."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def registered_rules() -> tuple[object, ...]:
    """The rules of the registry, `netspec.check.rules.REGISTRY` (imported late: the rules import the
    checker, which a reporter does not need)."""
    from netspec.check import rules

    return tuple(getattr(rules, "REGISTRY", ()))


@functools.cache
def all_codes() -> tuple[CodeInfo, ...]:
    """Every code netspec can emit, sorted; a rule of the registry wins over a core entry."""
    table = dict(CORE_CODES)
    table.update((info.code, info) for info in map(rule_info, registered_rules()))
    return tuple(table[code] for code in sorted(table))


def lookup(code: str) -> CodeInfo | None:
    """The entry for `code` (any case), or None when netspec never emits it."""
    wanted = code.upper()
    return next((info for info in all_codes() if info.code == wanted), None)


@functools.cache
def known_codes() -> frozenset[str]:
    return frozenset(info.code for info in all_codes())
