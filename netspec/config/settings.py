"""Settings for linting: code selection (as ruff), per-file ignores and rule options from pyproject."""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from netspec.check.code_table import known_codes
from netspec.codes import SYNTAX_ERROR

PYPROJECT = "pyproject.toml"
ALL = "ALL"
# A selector is ALL or a code prefix: NS, NS2, NS20, NS201 (any case on input).
_SELECTOR = re.compile(r"NS\d{0,3}")
# The keys of [tool.netspec]; each may also be written in snake_case.
_KEYS = ("select", "ignore", "extend-select", "per-file-ignores", "rules")


class ConfigError(Exception):
    """A bad configuration (broken TOML, an unknown key or selector): exit 2, naming the source."""


# --- selectors ---------------------------------------------------------------------------------


def parse_selectors(values: Iterable[str], source: str) -> tuple[str, ...]:
    """Upper-cased selectors from values that may each hold several, comma-separated."""
    selectors: list[str] = []
    for value in values:
        parts = [part.strip().upper() for part in value.split(",")]
        if not any(parts):
            # `select = [""]` would select nothing, silently: a file with errors would pass.
            raise ConfigError(f"{source}: {value!r} names no code (use ALL, NS, NS2, NS201, ...)")
        selectors.extend(_check_selector(part, source) for part in parts if part)
    return tuple(selectors)


def _check_selector(selector: str, source: str) -> str:
    if selector == ALL or (_SELECTOR.fullmatch(selector) and len(selector) < 5):
        return selector
    # A full code must exist: a typo there would otherwise select or ignore nothing, silently.
    if _SELECTOR.fullmatch(selector) and selector in known_codes():
        return selector
    raise ConfigError(
        f"{source}: unknown code or prefix `{selector}` (use ALL, NS, NS2, NS201, ...)"
    )


def specificity(selector: str) -> int:
    """How specific a selector is: ALL < NS < NS2 < NS20 < NS201 (the more specific one wins)."""
    return 0 if selector == ALL else len(selector) - 1


def matches(selector: str, code: str) -> bool:
    return selector == ALL or code.startswith(selector)


def _best(selectors: Iterable[str], code: str) -> int:
    """The specificity of the most specific selector matching `code`, or -1 when none does."""
    return max((specificity(s) for s in selectors if matches(s, code)), default=-1)


# --- selection ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SelectionLayer:
    """One source of selection (the defaults, a pyproject, the command line), applied in order.

    `select` (when given) starts afresh; `extend_select` adds to what the layers before chose.
    """

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self.select is None and not self.extend_select and not self.ignore


DEFAULT_LAYER = SelectionLayer(select=(ALL,))


@dataclass(frozen=True)
class Selection:
    """Which codes are on: ruff's rule, the most specific selector wins and ignore wins a tie."""

    layers: tuple[SelectionLayer, ...] = (DEFAULT_LAYER,)

    def then(self, layer: SelectionLayer) -> Selection:
        return self if layer.empty else Selection((*self.layers, layer))

    def enabled(self, code: str) -> bool:
        on = False
        for layer in self.layers:
            chosen = _best((*(layer.select or ()), *layer.extend_select), code)
            dropped = _best(layer.ignore, code)
            if chosen < 0 and dropped < 0:
                # A layer with its own `select` leaves out every code it does not name.
                on = on and layer.select is None
            else:
                on = chosen > dropped
        return on


# --- per-file ignores --------------------------------------------------------------------------


@dataclass(frozen=True)
class PerFileIgnore:
    """Codes ignored in files matching a glob (relative to the pyproject's folder)."""

    pattern: str
    codes: tuple[str, ...]

    def applies_to(self, relative: PurePath) -> bool:
        regex = _glob_regex(self.pattern)
        candidates = [
            relative.as_posix(),
            *(p.as_posix() for p in relative.parents if str(p) != "."),
        ]
        if "/" not in self.pattern.strip("/"):
            # As ruff and flake8: a pattern without a folder matches a file's name anywhere.
            candidates.append(relative.name)
        return any(regex.fullmatch(candidate) for candidate in candidates)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob as a regex: `*` and `?` stay within a folder, `**` crosses folders."""
    pattern = pattern.removeprefix("./").rstrip("/")
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


# --- settings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Everything that decides what `lint` reports for a file; the defaults select every code."""

    selection: Selection = Selection()
    per_file_ignores: tuple[PerFileIgnore, ...] = ()
    root: Path | None = None  # the folder of the pyproject the settings came from
    source: Path | None = None  # that pyproject.toml
    # [tool.netspec.rules], keys in snake_case: thresholds for the design rules.
    rule_options: Mapping[str, Any] = field(default_factory=dict)

    def with_overrides(self, layer: SelectionLayer) -> Settings:
        """These settings with a later selection layer (the command line) on top."""
        return dataclasses.replace(self, selection=self.selection.then(layer))

    def code_filter(self, path: str | None) -> Callable[[str], bool]:
        """Whether a code is reported in the file at `path` (None: no file, e.g. plain stdin)."""
        ignored = self._ignored_in(path)

        def reported(code: str) -> bool:
            if code == SYNTAX_ERROR:
                return True
            if _best(ignored, code) >= 0:
                return False
            return self.selection.enabled(code)

        return reported

    def _ignored_in(self, path: str | None) -> tuple[str, ...]:
        if not self.per_file_ignores or path is None or self.root is None:
            return ()
        try:
            relative = PurePath(os.path.relpath(os.path.abspath(path), self.root))
        except ValueError:  # another drive on Windows: no glob of this project can match
            return ()
        if relative.parts[:1] == ("..",):
            return ()
        return tuple(
            code
            for rule in self.per_file_ignores
            if rule.applies_to(relative)
            for code in rule.codes
        )

    def rule_config(self) -> Any:
        """The rule options as the registry's RuleConfig when it has one, else a plain dict."""
        return build_rule_config(self.rule_options, str(self.source or PYPROJECT))


def build_rule_config(options: Mapping[str, Any], source: str) -> Any:
    """The rules' RuleConfig with `options` set; an unknown option or a value of the wrong type is
    a ConfigError, as a typo must not pass unnoticed."""
    # Imported late: the rules pull in the checker, which reading a configuration does not need.
    from netspec.check.rules import RuleConfig

    fields = {f.name: f for f in dataclasses.fields(RuleConfig)}
    defaults = RuleConfig()
    values: dict[str, Any] = {}
    for key, value in options.items():
        if key not in fields:
            known = ", ".join(name.replace("_", "-") for name in fields)
            raise ConfigError(f"{source}: unknown rule option `{_kebab(key)}` (known: {known})")
        expected = type(getattr(defaults, key))
        if not _fits(value, expected):
            raise ConfigError(
                f"{source}: rule option `{_kebab(key)}` takes a value of type "
                f"{expected.__name__}, got {value!r}"
            )
        # TOML writes 1 for 1.0: keep the type the rules expect.
        values[key] = float(value) if expected is float else value
    try:
        return dataclasses.replace(defaults, **values)
    except ValueError as exc:  # RuleConfig refuses values out of range: nan, a negative count
        raise ConfigError(f"{source}: [tool.netspec.rules] {exc}") from None


def _fits(value: Any, expected: type) -> bool:
    if isinstance(value, bool) or expected is bool:
        return isinstance(value, bool) and expected is bool
    if expected is float:
        return isinstance(value, (int, float))
    return isinstance(value, expected)


DEFAULT_SETTINGS = Settings()


# --- pyproject.toml ------------------------------------------------------------------------------


def read_pyproject(path: Path) -> Mapping[str, Any] | None:
    """The [tool.netspec] table of a pyproject.toml, or None when it has none."""
    # Imported here: a run that finds no pyproject.toml (most files outside a project) does
    # without the TOML parser.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 only
        import tomli as tomllib

    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:  # TOML is UTF-8 text by definition
        raise ConfigError(
            f"{path}: not valid TOML: not UTF-8 text (byte {exc.start}: {exc.reason})"
        ) from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    tool = data.get("tool", {})
    table = tool.get("netspec") if isinstance(tool, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.netspec] must be a table")
    return table


def settings_from_table(table: Mapping[str, Any], path: Path) -> Settings:
    """Settings from a [tool.netspec] table; unknown keys and bad values are ConfigErrors."""
    values = {_kebab(key): value for key, value in table.items()}
    unknown = sorted(set(values) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key `{unknown[0]}` in [tool.netspec] (known: {', '.join(_KEYS)})"
        )
    where = f"{path}: [tool.netspec]"
    select = values.get("select")
    layer = SelectionLayer(
        select=(
            None if select is None else parse_selectors(_strings(select, f"{where} select"), where)
        ),
        extend_select=parse_selectors(
            _strings(values.get("extend-select", []), f"{where} extend-select"), where
        ),
        ignore=parse_selectors(_strings(values.get("ignore", []), f"{where} ignore"), where),
    )
    options = _rule_options(values.get("rules", {}), f"{where} rules")
    build_rule_config(options, str(path))  # refuse bad thresholds now, not in the middle of a run
    return Settings(
        selection=Selection().then(layer),
        per_file_ignores=_per_file_ignores(values.get("per-file-ignores", {}), where),
        root=path.parent,
        source=path,
        rule_options=options,
    )


def _per_file_ignores(value: Any, where: str) -> tuple[PerFileIgnore, ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} per-file-ignores must be a table of glob = [codes]")
    return tuple(
        PerFileIgnore(glob, parse_selectors(_strings(codes, f"{where} per-file-ignores"), where))
        for glob, codes in value.items()
    )


def _rule_options(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table")
    return {
        _snake(key): _rule_options(v, where) if isinstance(v, dict) else v
        for key, v in value.items()
    }


def _strings(value: Any, where: str) -> list[str]:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise ConfigError(f'{where} must be a list of strings, e.g. ["NS2", "NS101"]')


def _kebab(key: str) -> str:
    return key.replace("_", "-")


def _snake(key: str) -> str:
    return key.replace("-", "_")


# --- discovery -----------------------------------------------------------------------------------


class SettingsFinder:
    """Finds each file's settings as ruff does: the closest pyproject.toml with a [tool.netspec]
    table, walking up from the file's folder; the command line's selection goes on top."""

    def __init__(self, overrides: SelectionLayer = SelectionLayer()) -> None:
        self.overrides = overrides
        self._by_folder: dict[Path, Settings] = {}

    def for_file(self, path: str | None) -> Settings:
        """Settings for a file (None or `-`: standard input, looked up from the current folder)."""
        folder = Path.cwd() if path in (None, "-") else Path(os.path.abspath(path)).parent
        return self.for_folder(folder)

    def for_folder(self, folder: Path) -> Settings:
        if folder not in self._by_folder:
            self._by_folder[folder] = self._find(folder).with_overrides(self.overrides)
        return self._by_folder[folder]

    def _find(self, folder: Path) -> Settings:
        for candidate in (folder, *folder.parents):
            pyproject = candidate / PYPROJECT
            if pyproject.is_file():
                table = read_pyproject(pyproject)
                if table is not None:
                    return settings_from_table(table, pyproject)
        return DEFAULT_SETTINGS


def find_settings(path: str | None) -> Settings:
    """The settings for one file, found from its folder (the entry point for an editor)."""
    return SettingsFinder().for_file(path)
