"""docs/rules.md is generated from the law data, the statute catalogue, the rule list and the
policy schema; it must be exactly what the generator writes, so it cannot drift."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from clearslate.laws.rules_doc import rules_markdown
from clearslate.policy import FLOW_CONDITIONS, SHIPPED_POLICIES

RULES_MD = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
REGENERATE = "python -m clearslate.laws.rules_doc > docs/rules.md"


def test_docs_rules_md_is_the_generated_text():
    text = rules_markdown()
    assert RULES_MD.read_text(encoding="utf-8") == text, (
        f"docs/rules.md is out of date: run `PYTHONPATH=src {REGENERATE}` and commit it"
    )


def test_the_generator_is_deterministic_and_runs_as_a_module():
    """The page a fresh process prints, with other string hashes (set order), is this one's."""
    done = subprocess.run(
        [sys.executable, "-m", "clearslate.laws.rules_doc"],
        capture_output=True,
        check=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    assert done.stdout == rules_markdown()


def test_the_page_names_every_rule_condition_and_shipped_policy():
    text = rules_markdown()
    for name in FLOW_CONDITIONS:
        assert f"| `{name}` |" in text, name
    for name in SHIPPED_POLICIES:
        assert f"### `{name}`" in text, name
    for rule_id in ("ca.prop64.related.clear", "ca.prop64.policy.no_relief",
                    "policy.flow.city-attorneys", "policy.flow.related-4060"):  # fmt: skip
        assert f"`{rule_id}`" in text, rule_id
    assert "/work/" not in text and "/tmp/" not in text  # no machine paths
