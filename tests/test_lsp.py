"""`netspec lsp` end to end: a real server process over stdio, driven by pytest-lsp's client as
an editor would drive it. One server per client kind for the whole module keeps this fast."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls.lsp.server", reason="the language server needs pygls 2")
pytest_lsp = pytest.importorskip("pytest_lsp")

import pytest_asyncio  # noqa: E402  (pytest-lsp depends on it)
from lsprotocol import types as lsp  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

from netspec.app.lsp_features import LineIndex  # noqa: E402

# Every async test shares the module's event loop, and so its servers.
aio = pytest.mark.asyncio(loop_scope="module")

ROOT = Path(__file__).resolve().parents[1]
# The child runs this source tree, whatever is installed.
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
}
SERVER = [sys.executable, "-m", "netspec", "lsp"]
TIMEOUT = 15

# A spec with an unknown activation on line 4 (0-based line 3).
BROKEN = """\
model m {
    input [4]
    dense(4, relu)
    dense(3, activation=rleu)
    compile(loss=categorical_crossentropy, optimizer=adam)
}
"""
FIXED = BROKEN.replace("rleu", "softmax")

BLOCKS = """\
block conv_bn(filters, kernel=3) {
    conv2d(filters, kernel, padding=same, use_bias=false)
    batch_norm
    relu
}

model net {
    x = input [32, 32, 3]
    a = x -> conv_bn(16)
    b = a -> conv_bn(16, 1)
    add(a, b) -> global_avg_pool2d -> dense(10, softmax)
    compile(loss=categorical_crossentropy, optimizer=adam)
}
"""

# A non-BMP character (U+1F642, two UTF-16 units, four UTF-8 bytes) before layers on one line.
EMOJI = """\
block b(tag="\U0001f642") { h = input -> dense(3); h -> relu }
model m {
    input [4]
    b
    dense(3, softmax)
    compile(loss=categorical_crossentropy, optimizer=adam)
}
"""
EMOJI_ERROR = """\
model m {
    input [4]
    dense(4, relu, name="\U0001f642"); dense(3, activation=rleu)
}
"""

JUNK = "model { ((( \x00 \U0001f642 ]]] -> ->\n\tblock 12 = = \n"


# --- fixtures and helpers --------------------------------------------------------------------


async def _start(tmp_path_factory, capabilities: lsp.ClientCapabilities):
    config = ClientServerConfig(server_command=SERVER, server_env=ENV)
    client = await config.start()
    root = tmp_path_factory.mktemp("workspace")
    result = await client.initialize_session(
        lsp.InitializeParams(capabilities=capabilities, root_uri=root.as_uri())
    )
    return client, root, result


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def vscode(tmp_path_factory):
    """A client with VS Code's capabilities: it speaks UTF-16, the protocol's default."""
    client, root, result = await _start(tmp_path_factory, client_capabilities("visual-studio-code"))
    client.root = root
    client.init_result = result
    yield client
    await client.shutdown_session()
    await client.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def neovim(tmp_path_factory):
    """Neovim 0.11 offers UTF-8 first, and pygls agrees to it."""
    client, root, result = await _start(tmp_path_factory, client_capabilities("neovim@v0.11.0"))
    client.root = root
    client.init_result = result
    yield client
    await client.shutdown_session()
    await client.stop()


async def _diagnostics(client: LanguageClient, uri: str) -> list[lsp.Diagnostic]:
    """Wait for the next diagnostics published for `uri`."""
    while True:
        params = await asyncio.wait_for(
            client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), TIMEOUT
        )
        if params.uri == uri:
            return list(params.diagnostics)


async def _open(client: LanguageClient, name: str, text: str) -> tuple[str, list[lsp.Diagnostic]]:
    uri = (client.root / name).as_uri()
    waiting = _diagnostics(client, uri)
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="netspec", version=1, text=text)
        )
    )
    return uri, await waiting


async def _hover(client: LanguageClient, uri: str, line: int, character: int) -> str | None:
    result = await client.text_document_hover_async(
        lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=line, character=character),
        )
    )
    if result is None:
        return None
    assert isinstance(result.contents, lsp.MarkupContent)
    return result.contents.value


async def _definition(client: LanguageClient, uri: str, line: int, character: int):
    return await client.text_document_definition_async(
        lsp.DefinitionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=line, character=character),
        )
    )


async def _hints(client: LanguageClient, uri: str, text: str) -> list[lsp.InlayHint]:
    end = lsp.Position(line=text.count("\n") + 1, character=0)
    result = await client.text_document_inlay_hint_async(
        lsp.InlayHintParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(start=lsp.Position(line=0, character=0), end=end),
        )
    )
    return list(result or [])


def _at(text: str, line: int, needle: str, units: str = "utf-16") -> int:
    """The character (in `units`) of `needle` on 0-based `line`, counted independently."""
    prefix = text.split("\n")[line].split(needle)[0]
    if units == "utf-8":
        return len(prefix.encode("utf-8"))
    return len(prefix.encode("utf-16-le")) // 2


def _range(diagnostic: lsp.Diagnostic) -> tuple[int, int, int, int]:
    r = diagnostic.range
    return r.start.line, r.start.character, r.end.line, r.end.character


# --- the tests -------------------------------------------------------------------------------


@aio
async def test_initialize_advertises_features(vscode):
    caps = vscode.init_result.capabilities
    assert vscode.init_result.server_info.name == "netspec"
    assert caps.hover_provider and caps.definition_provider and caps.inlay_hint_provider
    assert caps.position_encoding in (None, lsp.PositionEncodingKind.Utf16)


@aio
async def test_diagnostics_on_open_then_cleared_by_a_fix(vscode):
    uri, diagnostics = await _open(vscode, "broken.ns", BROKEN)
    assert [d.code for d in diagnostics] == ["NS002"]
    (diagnostic,) = diagnostics
    column = BROKEN.split("\n")[3].index("rleu")
    assert _range(diagnostic) == (3, column, 3, column + 4)
    assert diagnostic.severity == lsp.DiagnosticSeverity.Error
    assert diagnostic.source == "netspec"
    assert "did you mean `relu`" in diagnostic.message

    waiting = _diagnostics(vscode, uri)
    vscode.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [lsp.TextDocumentContentChangeWholeDocument(text=FIXED)],
        )
    )
    assert await waiting == []

    # And back: the server lints each version it is sent.
    waiting = _diagnostics(vscode, uri)
    vscode.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=3),
            [lsp.TextDocumentContentChangeWholeDocument(text=BROKEN)],
        )
    )
    assert [d.code for d in await waiting] == ["NS002"]

    waiting = _diagnostics(vscode, uri)
    vscode.text_document_did_close(
        lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    )
    assert await waiting == []


@aio
async def test_hover_over_a_diagnostic_shows_the_rule(vscode):
    uri, _ = await _open(vscode, "rule.ns", BROKEN)
    text = await _hover(vscode, uri, 3, BROKEN.split("\n")[3].index("rleu") + 1)
    assert text is not None
    assert "NS002" in text and "unknown-name" in text
    assert "did you mean `relu`" in text
    # The layer under it is described too.
    assert "dense_1: Dense" in text


@aio
async def test_hover_gives_the_output_shape_and_parameters(vscode):
    uri, diagnostics = await _open(vscode, "hover.ns", FIXED)
    assert diagnostics == []
    text = await _hover(vscode, uri, 3, 6)
    assert text is not None
    assert "dense_1: Dense -> (None, 3), 15 params" in text
    assert "kernel (4, 3)" in text
    assert await _hover(vscode, uri, 0, 0) is None  # `model` is nothing to describe


@aio
async def test_hover_in_a_block_lists_each_use(vscode):
    uri, diagnostics = await _open(vscode, "blocks.ns", BLOCKS)
    assert diagnostics == []
    text = await _hover(vscode, uri, 1, 6)  # conv2d inside conv_bn
    assert text is not None
    assert "conv2d: Conv2D -> (None, 32, 32, 16), 432 params" in text
    assert "conv2d_1: Conv2D -> (None, 32, 32, 16), 256 params" in text
    assert "conv_bn at line 9" in text and "conv_bn at line 10" in text

    text = await _hover(vscode, uri, 8, 14)  # the use conv_bn(16) on line 9
    assert text is not None
    assert "conv_bn -> (None, 32, 32, 16), 496 params in 3 layers" in text


@aio
async def test_inlay_hints_show_the_output_shape_at_the_end_of_layer_lines(vscode):
    uri, _ = await _open(vscode, "hints.ns", BLOCKS)
    hints = {h.position.line: h for h in await _hints(vscode, uri, BLOCKS)}
    lines = BLOCKS.split("\n")
    assert hints[1].label == "-> (None, 32, 32, 16)"
    assert hints[1].position.character == len(lines[1])
    assert hints[8].label == "-> (None, 32, 32, 16)"  # a = x -> conv_bn(16)
    assert hints[10].label == "-> (None, 10)"
    assert hints[10].position.character == len(lines[10])
    assert hints[10].kind == lsp.InlayHintKind.Type
    assert 7 not in hints  # an input: its shape is written there
    assert 11 not in hints  # compile is not a layer


@aio
async def test_definition_of_a_block_use_and_of_a_bound_name(vscode):
    uri, _ = await _open(vscode, "definition.ns", BLOCKS)
    lines = BLOCKS.split("\n")
    # conv_bn(16) on line 9 -> `block conv_bn` on line 1.
    location = await _definition(vscode, uri, 8, lines[8].index("conv_bn") + 2)
    assert isinstance(location, lsp.Location) and location.uri == uri
    assert (location.range.start.line, location.range.start.character) == (0, 6)
    assert (location.range.end.line, location.range.end.character) == (0, 13)
    # `b` in add(a, b) -> `b = ...` on line 10; the cursor just after the name counts too.
    column = lines[10].index("a, b") + 3
    for character in (column, column + 1):
        location = await _definition(vscode, uri, 10, character)
        assert location is not None
        assert (location.range.start.line, location.range.start.character) == (9, 4)
    # A block parameter used in the body -> the parameter.
    location = await _definition(vscode, uri, 1, lines[1].index("filters"))
    assert location is not None and location.range.start == lsp.Position(line=0, character=14)
    # A layer kind has no definition in the file.
    assert await _definition(vscode, uri, 2, 6) is None


@aio
async def test_related_information_points_at_the_block_use(vscode):
    text = BLOCKS.replace("use_bias=false", "use_bias=false, activation=rleu")
    uri, diagnostics = await _open(vscode, "related.ns", text)
    (diagnostic,) = [d for d in diagnostics if d.code == "NS002"]
    assert diagnostic.range.start.line == 1
    lines = {info.location.range.start.line for info in diagnostic.related_information or []}
    # The diagnostic is reported once for both uses (lines 9 and 10); its note names the first.
    assert 8 in lines


@aio
async def test_utf16_columns_after_a_non_bmp_character(vscode):
    uri, diagnostics = await _open(vscode, "emoji_error.ns", EMOJI_ERROR)
    by_code = {d.code: d for d in diagnostics}
    line = EMOJI_ERROR.split("\n")[2]
    assert line.index("rleu") + 1 == _at(EMOJI_ERROR, 2, "rleu")  # one emoji: one unit more
    start = _at(EMOJI_ERROR, 2, "rleu")
    assert _range(by_code["NS002"]) == (2, start, 2, start + 4)
    assert "NS020" in by_code  # a layer name must be an identifier

    uri, diagnostics = await _open(vscode, "emoji.ns", EMOJI)
    assert diagnostics == []
    hints = {h.position.line: h for h in await _hints(vscode, uri, EMOJI)}
    first = EMOJI.split("\n")[0]
    assert hints[0].position.character == _at(EMOJI, 0, " }")  # after `relu`
    assert hints[0].position.character == first.index(" }") + 1
    assert hints[0].label == "-> (None, 3)"
    # Hover on the `dense` after the emoji, at its UTF-16 column.
    text = await _hover(vscode, uri, 0, _at(EMOJI, 0, "dense(3)") + 1)
    assert text is not None and "dense: Dense -> (None, 3), 15 params" in text
    # Definition of `h` after the emoji lands on the binding's UTF-16 range.
    location = await _definition(vscode, uri, 0, _at(EMOJI, 0, "h -> relu"))
    assert location is not None
    binding = _at(EMOJI, 0, "h = input")
    assert location.range == lsp.Range(
        start=lsp.Position(line=0, character=binding),
        end=lsp.Position(line=0, character=binding + 1),
    )


@aio
async def test_utf8_columns_when_the_client_asks_for_them(neovim):
    assert neovim.init_result.capabilities.position_encoding == lsp.PositionEncodingKind.Utf8
    uri, diagnostics = await _open(neovim, "emoji_error.ns", EMOJI_ERROR)
    (ns002,) = [d for d in diagnostics if d.code == "NS002"]
    start = _at(EMOJI_ERROR, 2, "rleu", "utf-8")
    assert start == EMOJI_ERROR.split("\n")[2].index("rleu") + 3  # four bytes for one character
    assert _range(ns002) == (2, start, 2, start + 4)
    uri, _ = await _open(neovim, "emoji.ns", EMOJI)
    hints = {h.position.line: h for h in await _hints(neovim, uri, EMOJI)}
    assert hints[0].position.character == _at(EMOJI, 0, " }", "utf-8")


@aio
async def test_a_junk_document_gets_ns001_and_nothing_else(vscode):
    uri, diagnostics = await _open(vscode, "junk.ns", JUNK)
    assert [d.code for d in diagnostics] == ["NS001"]
    for line, character in ((0, 0), (0, 14), (1, 3), (5, 0)):
        text = await _hover(vscode, uri, line, character)
        assert text is None or "NS001" in text
        assert await _definition(vscode, uri, line, character) is None
    assert await _hints(vscode, uri, JUNK) == []
    # The server is still there and still right.
    uri, diagnostics = await _open(vscode, "after_junk.ns", FIXED)
    assert diagnostics == []


@aio
async def test_positions_past_the_end_and_odd_text_do_not_crash(vscode):
    odd = "model m {\r\n    input [4]\r    dense(3)\u2028 # \u2029\x0c\n}\ufeff"
    uri, diagnostics = await _open(vscode, "odd.ns", odd)
    assert all(d.range.start.line <= 4 for d in diagnostics)
    assert await _hover(vscode, uri, 99, 99) is None
    assert await _definition(vscode, uri, 2, 10_000) is None
    # A byte order mark is not a syntax error.
    _, diagnostics = await _open(vscode, "bom.ns", "\ufeff" + BROKEN)
    assert [d.code for d in diagnostics] == ["NS002"]
    uri, diagnostics = await _open(vscode, "empty.ns", "")
    assert await _hints(vscode, uri, "") == []


@aio
async def test_settings_come_from_pyproject(vscode):
    folder = vscode.root / "project"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[tool.netspec]\nignore = ["NS002"]\n')
    uri, diagnostics = await _open(vscode, "project/quiet.ns", BROKEN)
    assert diagnostics == []


@aio
async def test_a_broken_pyproject_is_shown_once_and_the_defaults_lint(vscode):
    folder = vscode.root / "broken_config"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[tool.netspec]\nselect = ["NOPE"]\n')
    before = len(vscode.messages)
    uri, diagnostics = await _open(vscode, "broken_config/a.ns", BROKEN)
    assert [d.code for d in diagnostics] == ["NS002"]
    _, diagnostics = await _open(vscode, "broken_config/b.ns", BROKEN)
    assert [d.code for d in diagnostics] == ["NS002"]
    shown = vscode.messages[before:]
    assert len(shown) == 1 and shown[0].type == lsp.MessageType.Warning
    assert "pyproject.toml" in shown[0].message


@aio
async def test_formatting_matches_netspec_fmt(vscode):
    fmt = pytest.importorskip("netspec.language.fmt")
    assert vscode.init_result.capabilities.document_formatting_provider
    messy = "model m {\n  input [4]\n      dense(3,activation=softmax)\n}\n"
    uri, _ = await _open(vscode, "format.ns", messy)
    edits = await vscode.text_document_formatting_async(
        lsp.DocumentFormattingParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            options=lsp.FormattingOptions(tab_size=4, insert_spaces=True),
        )
    )
    expected = fmt.format_source(messy)
    if expected == messy:
        assert not edits
        return
    (edit,) = edits
    assert edit.range.start == lsp.Position(line=0, character=0)
    assert edit.new_text == expected
    # A spec that does not parse is left alone.
    uri, _ = await _open(vscode, "format_junk.ns", JUNK)
    assert not await vscode.text_document_formatting_async(
        lsp.DocumentFormattingParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            options=lsp.FormattingOptions(tab_size=4, insert_spaces=True),
        )
    )


@aio
async def test_shutdown_and_exit_cleanly(tmp_path_factory):
    client, _, _ = await _start(tmp_path_factory, lsp.ClientCapabilities())
    await client.shutdown_session()
    assert client._server is not None
    assert client._server.returncode == 0
    await client.stop()


# --- positions, in process ---------------------------------------------------------------------


def test_line_index_round_trips_in_every_encoding():
    text = "a\U0001f642b é\n\U0001f642\U0001f642x\n"
    for encoding, after_emoji in (("utf-16", 3), ("utf-8", 5), ("utf-32", 2)):
        index = LineIndex(text, encoding)
        assert index.to_client(1, 3) == (0, after_emoji)  # before `b`
        assert index.from_client(0, after_emoji) == (1, 3)
        assert index.to_client(99, 1) == index.end() == (2, 0)
    # A character inside a surrogate pair stands for the emoji.
    assert LineIndex(text).from_client(0, 2) == (1, 2)
    # Past the end of a line: the end of the line.
    assert LineIndex(text).from_client(0, 99) == (1, 6)
