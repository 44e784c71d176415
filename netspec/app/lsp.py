"""`netspec lsp`: a language server over the Python API (pygls 2).

Diagnostics on open, change and save (linting takes milliseconds, so it runs at once); hover
with a layer's output shape and parameter count, or a rule's text over a diagnostic; inlay
hints with the output shape at the end of each layer line; go to definition for block uses and
bound names; formatting through netspec.language.fmt when it is installed. Protocol positions are
0-based and count UTF-16 code units unless the client agreed to UTF-8 or UTF-32; netspec's
spans count code points from 1, and netspec.app.lsp_features.LineIndex converts between them.

A handler never takes the server down: a failure is logged to the client and the request gets
no answer (None), as for a document that does not parse.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from lsprotocol import types as lsp
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from netspec import codes
from netspec.app.lsp_features import Analysis, LineIndex, analyze, definition, hover, inlay_hints
from netspec.config.settings import DEFAULT_SETTINGS, ConfigError, Settings, find_settings
from netspec.diagnostics import Diagnostic, Severity, Span
from netspec.version import __version__

logger = logging.getLogger(__name__)

SOURCE = "netspec"
SEVERITIES = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFO: lsp.DiagnosticSeverity.Information,
}

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class _Cached:
    text: str
    encoding: str
    analysis: Analysis
    index: LineIndex


class NetspecServer(LanguageServer):
    """The language server, with one analysis cached per open document."""

    def __init__(self) -> None:
        # Full sync: the documents are small, and the client's text is then taken as it is
        # (incremental edits would be applied with pygls' own idea of line ends).
        super().__init__(
            "netspec", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Full
        )
        self.cache: dict[str, _Cached] = {}
        self.config_errors: set[str] = set()

    # --- documents ---------------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        encoding = self.workspace.position_encoding or lsp.PositionEncodingKind.Utf16
        return str(getattr(encoding, "value", encoding))

    def document(self, uri: str) -> _Cached:
        """The analysis of the document's current text (made again only when the text changed)."""
        text = self.workspace.get_text_document(uri).source
        cached = self.cache.get(uri)
        encoding = self.encoding
        if cached is None or cached.text != text or cached.encoding != encoding:
            # A BOM is not part of the text: a space in its place keeps every column.
            clean = " " + text[1:] if text.startswith("\ufeff") else text
            path, settings = self.settings_for(uri)
            analysis = analyze(clean, path, settings)
            # Columns are counted on the text as the client has it (the BOM is one character).
            cached = _Cached(text, encoding, analysis, LineIndex(text, encoding))
            self.cache[uri] = cached
        return cached

    def settings_for(self, uri: str) -> tuple[str, Settings]:
        """The path netspec shows and the settings of the pyproject.toml found from it; a
        document not on disk takes the settings of the workspace's folder."""
        path = to_fs_path(uri)
        lookup = path or os.path.join(self.workspace.root_path or os.getcwd(), "untitled.ns")
        try:
            settings = find_settings(lookup)
        except ConfigError as exc:
            message = f"netspec: {exc}; linting with the default settings"
            if message not in self.config_errors:
                self.config_errors.add(message)
                self.window_show_message(
                    lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=message)
                )
            settings = DEFAULT_SETTINGS
        return path or "<stdin>", settings

    def publish(self, uri: str, version: int | None = None) -> None:
        cached = self.document(uri)
        diagnostics = [
            self.to_lsp_diagnostic(uri, d, cached.index) for d in cached.analysis.diagnostics
        ]
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )

    def clear(self, uri: str) -> None:
        self.cache.pop(uri, None)
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    # --- conversions -------------------------------------------------------------------------

    @staticmethod
    def to_range(index: LineIndex, span: Span) -> lsp.Range:
        (line, character), (end_line, end_character) = index.span_to_client(span)
        return lsp.Range(
            start=lsp.Position(line=line, character=character),
            end=lsp.Position(line=end_line, character=end_character),
        )

    def capability(self, field: str, default: Any = None) -> Any:
        return get_capability(self.client_capabilities, field, default)  # type: ignore[call-overload]

    def to_lsp_diagnostic(
        self, uri: str, diagnostic: Diagnostic, index: LineIndex
    ) -> lsp.Diagnostic:
        """Severity, code and source "netspec"; a note becomes related information (at the block
        use it names, or at the diagnostic itself); an unused `# noqa` is marked unnecessary."""
        where = self.to_range(index, diagnostic.span)
        message = diagnostic.message
        related = None
        if diagnostic.notes:
            if self.capability("text_document.publish_diagnostics.related_information", False):
                related = [
                    lsp.DiagnosticRelatedInformation(
                        location=lsp.Location(
                            uri=uri, range=self.to_range(index, note.span) if note.span else where
                        ),
                        message=note.message,
                    )
                    for note in diagnostic.notes
                ]
            else:
                message += "".join(f"\nnote: {note.message}" for note in diagnostic.notes)
        tags = None
        if diagnostic.code == codes.UNUSED_NOQA:
            tags = [lsp.DiagnosticTag.Unnecessary]
        return lsp.Diagnostic(
            range=where,
            message=message,
            severity=SEVERITIES.get(diagnostic.severity, lsp.DiagnosticSeverity.Error),
            code=diagnostic.code,
            source=SOURCE,
            related_information=related,
            tags=tags,
        )

    def markup(self, text: str) -> lsp.MarkupContent:
        formats = self.capability("text_document.hover.content_format", None)
        if formats and lsp.MarkupKind.Markdown not in formats:
            return lsp.MarkupContent(kind=lsp.MarkupKind.PlainText, value=text)
        return lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text)

    def log_failure(self, what: str, exc: BaseException) -> None:
        logger.exception("netspec lsp: %s failed", what)
        try:
            self.window_log_message(
                lsp.LogMessageParams(
                    type=lsp.MessageType.Error,
                    message=f"netspec: {what} failed: {type(exc).__name__}: {exc}",
                )
            )
        except Exception:  # noqa: BLE001 - the connection itself may be gone
            pass


def _guarded(server: NetspecServer, what: str) -> Callable[[F], F]:
    """A handler that logs a failure and answers None instead of raising."""

    def decorate(handler: F) -> F:
        @functools.wraps(handler)
        def run(params: Any) -> Any:
            try:
                return handler(params)
            except Exception as exc:  # noqa: BLE001 - never take the server down
                server.log_failure(what, exc)
                return None

        return run  # type: ignore[return-value]

    return decorate


def formatter_available() -> bool:
    """netspec.language.fmt is written separately; formatting is offered only where it is installed."""
    try:
        return importlib.util.find_spec("netspec.language.fmt") is not None
    except (ImportError, ValueError):
        return False


def create_server() -> NetspecServer:
    """A server with every feature registered (formatting only when netspec.language.fmt exists)."""
    server = NetspecServer()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    @_guarded(server, "linting")
    def did_open(params: lsp.DidOpenTextDocumentParams) -> None:
        server.publish(params.text_document.uri, params.text_document.version)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    @_guarded(server, "linting")
    def did_change(params: lsp.DidChangeTextDocumentParams) -> None:
        server.publish(params.text_document.uri, params.text_document.version)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    @_guarded(server, "linting")
    def did_save(params: lsp.DidSaveTextDocumentParams) -> None:
        # The settings may have changed on disk since: lint again from scratch.
        server.cache.pop(params.text_document.uri, None)
        server.publish(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    @_guarded(server, "closing")
    def did_close(params: lsp.DidCloseTextDocumentParams) -> None:
        server.clear(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    @_guarded(server, "hover")
    def on_hover(params: lsp.HoverParams) -> lsp.Hover | None:
        cached = server.document(params.text_document.uri)
        point = cached.index.from_client(params.position.line, params.position.character)
        text = hover(cached.analysis, point)
        if text is None:
            return None
        return lsp.Hover(contents=server.markup(text))

    @server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT, lsp.InlayHintOptions(resolve_provider=False))
    @_guarded(server, "inlay hints")
    def on_inlay_hint(params: lsp.InlayHintParams) -> list[lsp.InlayHint] | None:
        cached = server.document(params.text_document.uri)
        first = params.range.start.line + 1
        last = params.range.end.line + 1
        hints = []
        for hint in inlay_hints(cached.analysis, first, last):
            line, character = cached.index.to_client(hint.line, hint.column)
            hints.append(
                lsp.InlayHint(
                    position=lsp.Position(line=line, character=character),
                    label=hint.label,
                    kind=lsp.InlayHintKind.Type,
                    padding_left=True,
                )
            )
        return hints

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    @_guarded(server, "go to definition")
    def on_definition(params: lsp.DefinitionParams) -> lsp.Location | None:
        uri = params.text_document.uri
        cached = server.document(uri)
        point = cached.index.from_client(params.position.line, params.position.character)
        target = definition(cached.analysis, point)
        if target is None:
            return None
        return lsp.Location(uri=uri, range=server.to_range(cached.index, target))

    if formatter_available():

        @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
        @_guarded(server, "formatting")
        def on_formatting(params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
            from netspec.language.fmt import format_source
            from netspec.language.parser import ParseError

            uri = params.text_document.uri
            text = server.workspace.get_text_document(uri).source
            try:
                formatted = format_source(text)
            except ParseError:
                return None  # a spec that does not parse is left as it is (its NS001 shows)
            if formatted == text:
                return []
            end_line, end_character = LineIndex(text, server.encoding).end()
            whole = lsp.Range(
                start=lsp.Position(line=0, character=0),
                end=lsp.Position(line=end_line, character=end_character),
            )
            return [lsp.TextEdit(range=whole, new_text=formatted)]

    return server
