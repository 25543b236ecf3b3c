"""docs/rules-illinois.md is generated from the Illinois law data, catalogue, rules and policy
schema; it must be exactly what the generator writes, so it cannot drift from the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from clearslate.engine.il_decide import build_il_rules
from clearslate.il_policy import ALLOWED, ILPolicy
from clearslate.laws.il_crta import crta_law
from clearslate.laws.il_rules_doc import AS_OF, REGENERATE, il_rules_markdown
from clearslate.statutes.il_normalise import violent_catalogue

PAGE = Path(__file__).resolve().parents[1] / "docs" / "rules-illinois.md"


def test_docs_rules_illinois_md_is_the_generated_text():
    assert PAGE.read_text(encoding="utf-8") == il_rules_markdown(), (
        f"docs/rules-illinois.md is out of date: run `PYTHONPATH=src {REGENERATE}` and commit it"
    )


def test_the_generator_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "clearslate.laws.il_rules_doc"],
                          capture_output=True, check=True, text=True, encoding="utf-8")  # fmt: skip
    assert done.stdout == il_rules_markdown()


def test_the_page_names_every_rule_option_and_violent_crime():
    text = il_rules_markdown()
    for policy in (ILPolicy(juvenile="not_eligible"), ILPolicy(counties=("COOK",),
                   conviction_classes=("A",), delivery_30g_or_less="eligible_on_motion")):  # fmt: skip
        for rule in build_il_rules(policy, crta_law(AS_OF), AS_OF):
            assert f"`{rule.rule_id}`" in text, rule.rule_id
    for key in ALLOWED:
        assert key in ("name", "description") or f"| `{key}` |" in text, key
    for entry in violent_catalogue():
        assert f"`{entry.statute_id}`" in text
    assert "/work/" not in text and "/tmp/" not in text
