"""The codes of netspec's own checks (parser, lowering, shapes), each a named constant with its
meaning beside it; the design rules keep theirs in their decorators (netspec/check/rules)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from netspec.diagnostics import Severity

# A file that does not parse (SYNTAX_ERROR) has nothing else to report: it is never selected away
# or silenced, as ruff's syntax errors. UNUSED_NOQA is ruff's RUF100.
# fmt: off
SYNTAX_ERROR = "NS001"  # The text does not parse.
UNKNOWN_NAME = "NS002"  # An unknown layer kind, activation, option value, dtype, loss, optimizer, metric or name.
UNKNOWN_ARGUMENT = "NS003"  # An unknown keyword argument, or too many positional arguments.
DUPLICATE_ARGUMENT = "NS004"  # An argument given twice.
MISSING_ARGUMENT = "NS005"  # A required argument is missing.
WRONG_TYPE = "NS006"  # A value of the wrong type, or a construct in the wrong place.
VALUE_OUT_OF_RANGE = "NS007"  # A value out of range.
NAME_BOUND_TWICE = "NS008"  # A name listed twice where each must differ: parameters, `a, b = ...`.
USED_BEFORE_BOUND = "NS009"  # A name used before it is bound.
UNUSED_VALUE = "NS010"  # A value that is never used.
RECURSIVE_BLOCK = "NS011"  # A block that uses itself.
BLOCK_ARGUMENT_COUNT = "NS012"  # A wrong number of block arguments.
MISSING_INPUT = "NS013"  # A model with no input shape.
DUPLICATE_LAYER_NAME = "NS014"  # Two layers with one name.
DUPLICATE_DEFINITION = "NS015"  # Two definitions with one name.
LIMIT_EXCEEDED = "NS016"  # A size limit exceeded.
MISPLACED_STATEMENT = "NS018"  # A statement where it does not belong.
UNUSED_NOQA = "NS019"  # A noqa directive that silences nothing.
UNUSABLE_NAME = "NS020"  # A name that generated code cannot use.
VALUE_COUNT = "NS021"  # Several values bound to one name, or to the wrong number of names.
WINDOW_TOO_LARGE = "NS101"  # A window larger than its input, or a dimension that becomes 0 or less.
INCOMPATIBLE_INPUT = "NS102"  # A layer's input or arguments do not fit it.
MERGE_SHAPE_MISMATCH = "NS103"  # A merge of values whose shapes do not fit.
WRONG_RANK = "NS104"  # A layer fed a tensor of the wrong rank.
RESHAPE_SIZE_MISMATCH = "NS105"  # A reshape that changes the number of values.
RNN_NEEDS_SEQUENCE = "NS106"  # A recurrent layer without a sequence input.
UNKNOWN_DIMENSION = "NS108"  # A known size is needed: a layer's weights, or arithmetic on a size.
WEIGHT_TOO_LARGE = "NS109"  # A weight too large to build.
MERGE_ARITY = "NS110"  # A merge of too few or too many values.
# fmt: on


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


_E, _W = Severity.ERROR, Severity.WARNING

# The codes raised by the parser, lowering and the layer catalog: they are not rule objects, so
# their documentation lives here (the meanings are those of docs/language.md).
# One entry per code reads best as code, name, severity, summary, description, help:
# fmt: off
_CORE: tuple[CodeInfo, ...] = (
    CodeInfo(
        SYNTAX_ERROR, "syntax-error", _E, "The text does not parse.",
        "The file is not valid netspec: a token is out of place, the file is not UTF-8 text, or it "
        "exceeds a limit of the parser (4 MiB of text, brackets or values nested over 64 deep, "
        "bodies nested over 32 deep). Only the first error is reported, with what was expected.",
        "Fix the text at the place shown; the message says what was expected there.",
    ),
    CodeInfo(
        UNKNOWN_NAME, "unknown-name", _E,
        "An unknown layer kind, activation, option value, dtype, loss, optimizer, metric or name.",
        "A word that names nothing netspec knows: a layer kind, an activation, an option value "
        "such as a padding, a dtype, a loss, an optimizer, a metric, a block or a bound name.",
        "Use the closest known name the message suggests, or define the block or binding.",
    ),
    CodeInfo(
        UNKNOWN_ARGUMENT, "unknown-argument", _E,
        "An unknown keyword argument, or too many positional arguments.",
        "A layer or block was given a keyword its Keras constructor (or the block) does not take, "
        "or more positional arguments than it has parameters.",
        "Check the argument names against Keras' constructor or the block's parameters.",
    ),
    CodeInfo(
        DUPLICATE_ARGUMENT, "duplicate-argument", _E, "An argument given twice.",
        "The same argument was given twice, by position and by keyword or twice by keyword.",
        "Give each argument once.",
    ),
    CodeInfo(
        MISSING_ARGUMENT, "missing-argument", _E, "A required argument is missing.",
        "A layer was used without an argument its Keras constructor requires (dense without "
        "units, conv2d without filters or kernel size).",
        "Add the argument.",
    ),
    CodeInfo(
        WRONG_TYPE, "wrong-type", _E, "A value of the wrong type, or a construct in the wrong place.",
        "An argument got a value of a type it does not accept (a word where an integer is "
        "needed, a tuple of the wrong length), or a construct stands where it cannot.",
        "Give the argument a value of the type the message names.",
    ),
    CodeInfo(
        VALUE_OUT_OF_RANGE, "value-out-of-range", _E, "A value out of range.",
        "A number outside what the layer accepts: units or filters below 1, a dropout rate "
        "outside [0, 1), a stride or kernel below 1, a division by zero, a value over 64 bits.",
        "Use a value within the range the message names.",
    ),
    CodeInfo(
        NAME_BOUND_TWICE, "name-bound-twice", _E,
        "A name listed twice where each must differ: parameters, `a, b = ...`.",
        "A block's parameters, and the names of one destructuring binding, are each listed once: "
        "a second would hide the first. (Binding a name again in later statements is fine: each "
        "use sees the latest binding above it.)",
        "Give the second one a name of its own.",
    ),
    CodeInfo(
        USED_BEFORE_BOUND, "used-before-bound", _E, "A name used before it is bound.",
        "A value was used on a line above the line that binds it; values flow downwards.",
        "Move the binding above its first use.",
    ),
    CodeInfo(
        UNUSED_VALUE, "unused-value", _E, "A value that is never used.",
        "A value feeds no layer and is not an output: a dangling branch of the graph, usually a "
        "name bound and then forgotten.",
        "Use the value, list it in `output`, or remove it.",
    ),
    CodeInfo(
        RECURSIVE_BLOCK, "recursive-block", _E, "A block that uses itself.",
        "A block uses itself, directly or through other blocks, so it would expand forever.",
        "Break the cycle; use `repeat` to apply a block several times.",
    ),
    CodeInfo(
        BLOCK_ARGUMENT_COUNT, "block-argument-count", _E, "A wrong number of block arguments.",
        "A block was used with more positional arguments than it has parameters, or without a "
        "parameter that has no default.",
        "Pass one argument per parameter the block declares.",
    ),
    CodeInfo(
        MISSING_INPUT, "missing-input", _E, "A model with no input shape.",
        "A model has no `input [shape]` (nor the Keras form `input_shape=`), so no shape can be "
        "inferred and nothing can be checked.",
        "Start the model with `input [shape]`, e.g. `input [28, 28, 1]`.",
    ),
    CodeInfo(
        DUPLICATE_LAYER_NAME, "duplicate-layer-name", _E, "Two layers with one name.",
        "Two layers of one model have the same name; Keras refuses it, and the names key the "
        "weights in every backend.",
        "Rename one of them with `name=...`.",
    ),
    CodeInfo(
        DUPLICATE_DEFINITION, "duplicate-definition", _E, "Two definitions with one name.",
        "Two models or blocks of one file have the same name.",
        "Rename one of them.",
    ),
    CodeInfo(
        LIMIT_EXCEEDED, "limit-exceeded", _E, "A size limit exceeded.",
        "The spec asks for more than netspec builds: a line over 100,000 characters, a file of "
        "more than 30,000 statements or 300,000 tokens, `repeat` or `for` over 10,000 passes, "
        "more than 100,000 body passes and block expansions in a file however they nest, more "
        "than 20,000 layers in a model or 40,000 in a file, or blocks nested over 32 deep.",
        "Make the spec smaller.",
    ),
    CodeInfo(
        MISPLACED_STATEMENT, "misplaced-statement", _E, "A statement where it does not belong.",
        "A statement stands where it has no meaning: `compile` in a block, a second `output` or "
        "`compile` in a model, several names in a block's `output`.",
        "Move or remove the statement.",
    ),
    CodeInfo(
        UNUSED_NOQA, "unused-noqa", _W, "A noqa directive that silences nothing.",
        "A `# noqa` comment (or a file-level `# netspec: noqa`) names codes that are not reported "
        "there: the problem was fixed, the code is not selected, or the code is unknown. A stale "
        "suppression would hide a future problem.",
        "Remove the directive, or the codes the message lists from it.",
    ),
    CodeInfo(
        UNUSABLE_NAME, "unusable-name", _E, "A name that generated code cannot use.",
        "A name cannot become a Python name in the generated code: a layer name that is not an "
        "identifier, or two models whose class names (CamelCase) would be the same.",
        "Choose a name of letters, digits and `_` that does not start with a digit, and model "
        "names that stay distinct in CamelCase.",
    ),
    CodeInfo(
        VALUE_COUNT, "value-count", _E,
        "Several values bound to one name, or to the wrong number of names.",
        "A block that ends in `output a, b` gives several values: they are bound with as many "
        "names (`x, y = v -> cell(p, 16)`). Binding them to one name, using them as one value, or "
        "destructuring a single value (or the wrong number of values) has no meaning.",
        "Write one name per value: `a, b = ...`; `_` discards a value you do not need.",
    ),
    CodeInfo(
        WINDOW_TOO_LARGE, "window-too-large", _E,
        "A window larger than its input, or a dimension that becomes 0 or less.",
        "A convolution or pooling window is larger than its (padded) input, a cropping removes "
        "every position, or a reshape asks for a dimension of 0 or less: the model cannot run.",
        "Use padding=same, a smaller window, or a larger input.",
    ),
    CodeInfo(
        INCOMPATIBLE_INPUT, "incompatible-input", _E, "A layer's input or arguments do not fit it.",
        "The input does not fit the layer with the arguments given: an axis out of range or on "
        "the batch, a wrapper around a layer it cannot wrap, an option the layer cannot pass on.",
        "Follow the message: it names the argument at fault and what would fit.",
    ),
    CodeInfo(
        MERGE_SHAPE_MISMATCH, "merge-shape-mismatch", _E, "A merge of values whose shapes do not fit.",
        "An element-wise merge (add, multiply, ...) of unequal shapes, a concat whose inputs "
        "differ off its axis, or a dot whose contracted sizes differ.",
        "Make the shapes agree, e.g. with a 1x1 convolution or a dense layer on one branch.",
    ),
    CodeInfo(
        WRONG_RANK, "wrong-rank", _E, "A layer fed a tensor of the wrong rank.",
        "A layer got an input of a rank it cannot take: conv2d after flatten, conv2d on a vector, "
        "a pooling layer on the wrong rank.",
        "Reshape the input, or use the layer of the right rank (conv1d, conv2d, ...).",
    ),
    CodeInfo(
        RESHAPE_SIZE_MISMATCH, "reshape-size-mismatch", _E, "A reshape that changes the number of values.",
        "A reshape target holds a different number of values than its input, or has more than "
        "one -1.",
        "Choose a target with as many values as the input; -1 lets one dimension follow.",
    ),
    CodeInfo(
        RNN_NEEDS_SEQUENCE, "rnn-needs-sequence", _E, "A recurrent layer without a sequence input.",
        "A recurrent layer needs a (time, features) input; it got a vector, e.g. after a "
        "recurrent layer without return_sequences=true.",
        "Set return_sequences=true on the recurrent layer before, or reshape / repeat_vector.",
    ),
    CodeInfo(
        UNKNOWN_DIMENSION, "unknown-dimension", _E,
        "A known size is needed: a layer's weights, or arithmetic on a size.",
        "A layer's weights depend on a dimension of its input that is unknown (None), such as "
        "the features of a dense layer or the channels of a convolution; or an expression computes "
        "with a size that is unknown (`input.shape[1] * 2` on an input of shape [None, 8]).",
        "Give that dimension a size in `input`, or pool it away before the layer.",
    ),
    CodeInfo(
        WEIGHT_TOO_LARGE, "weight-too-large", _E, "A weight too large to build.",
        "A weight holds more than 2**34 values (64 GiB in float32): no machine netspec targets "
        "can build it.",
        "Shrink the layer, or pool before flattening into a dense layer.",
    ),
    CodeInfo(
        MERGE_ARITY, "merge-arity", _E, "A merge of too few or too many values.",
        "A merge layer was given fewer values than it needs (most need two) or more than it takes "
        "(subtract and dot take exactly two).",
        "Pass the number of values the merge takes.",
    ),
)

# fmt: on

CORE_CODES: Mapping[str, CodeInfo] = {info.code: info for info in _CORE}
