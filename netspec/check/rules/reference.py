"""The rules reference page (docs/rules.md) rendered from the registry's docstrings."""

from __future__ import annotations

from collections.abc import Sequence

from netspec.check.rules.base import Rule, RuleConfig

_INTRO = (
    "The design rules netspec runs on every model once its shapes are known. Warnings (NS2xx) "
    "mark a model that runs but is probably wrong; infos are design hints; NS3xx judge the "
    "output layer against the loss of `compile`. A rule never reports a layer downstream of an "
    "error. Silence one with `# noqa: CODE` on its line; the thresholds are set in "
    "`[tool.netspec.rules]` of pyproject.toml."
)


def render_rules_markdown(rules: Sequence[Rule]) -> str:
    """The page's Markdown (docs.py adds the generated-file note): a table, then each rule."""
    lines = ["# Rule reference", "", _INTRO, ""]
    lines += ["| code | name | severity | summary |", "| --- | --- | --- | --- |"]
    for item in rules:
        lines.append(
            f"| [{item.code}](#{item.code.lower()}) | `{item.name}` | "
            f"{item.severity.value} | {item.summary} |"
        )
    lines += ["", "Thresholds (`[tool.netspec.rules]`, defaults):", ""]
    for name, value in vars(RuleConfig()).items():
        lines.append(f"- `{name.replace('_', '-')}` = {value!r}")
    lines.append("")
    for item in rules:
        body = item.doc.partition("\n")[2].strip()
        lines += [
            f"## {item.code}",
            "",
            f"`{item.name}` ({item.severity.value}): {item.summary}",
            "",
            body,
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"
