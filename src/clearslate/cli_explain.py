"""Printing `clearslate explain`, the same for California and Illinois: the explanation as
JSON, or as a tree of the person's record and, under each decision, every rule tried and the
facts it read. Each jurisdiction says only what its header, record lines and decisions read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple


class ExplanationTree(NamedTuple):
    """What one jurisdiction shows of a person, already in Rich markup (data escaped)."""

    header: str
    record: list[str]  # one line a conviction or charge on the person's record
    decisions: Sequence[tuple[str, Any]]  # (label, decision with .steps and .facts)


def show_explanation(
    explanation: Any, as_json: bool, tree: Callable[[Any], ExplanationTree]
) -> None:
    """Print `explanation` (a SubjectExplanation or PersonExplanation dataclass) as JSON, or
    as the tree `tree` lays out (called only for the tree: JSON needs no Rich)."""
    import dataclasses
    import json

    import typer

    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(explanation), indent=2, default=str))
        return
    from rich.console import Console
    from rich.markup import escape as e
    from rich.tree import Tree

    laid_out = tree(explanation)
    # Data is shown as it is: no markup, no emoji codes (":a:" is a subsection, not a symbol).
    console = Console(emoji=False, highlight=False)
    root = Tree(laid_out.header)
    record = root.add("record")
    for line in laid_out.record:
        record.add(line)
    for label, decision in laid_out.decisions:
        node = root.add(label)
        for step in decision.steps:
            mark = "✔" if step.holds else "·"
            node.add(e(f"{mark} {step.rule_id}: {step.reason} [{step.citation}]"))
        facts = node.add("facts")
        for key, value in decision.facts.items():
            facts.add(e(f"{key} = {value}"))
    console.print(root)
