"""Office policy: gogen eligibility-options JSON, the YAML policy, and their errors."""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from clearslate.policy import (
    DEFAULT_POLICY,
    FLOW_CONDITIONS,
    FLOW_VALUE_KINDS,
    GOGEN_RELATED_SECTIONS,
    SHIPPED_POLICIES,
    VALID_SECTIONS,
    AdditionalRelief,
    Disqualifiers,
    DoubtfulData,
    EffectiveDateRule,
    FlowOutcome,
    FlowStep,
    FlowThen,
    Misdemeanors,
    Policy,
    PolicyError,
    PriorMeans,
    RelatedConvictions,
    StillServing,
    _catalogue_related,
    default_related_sections,
    load_policy,
    resolve_policy,
    shipped_policy,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
SAMPLE = SHARED / "samples" / "cfa" / "gogen" / "test_fixtures" / "eligibility_options.json"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "policy.md"

AGE_MESSAGE = "SubjectAgeThreshold should be between 40 and 65, or 0"
SINCE_MESSAGE = "YearsSinceConvictionThreshold should be between 1 and 15, or 0"
FREE_MESSAGE = "YearsCrimeFreeThreshold should be between 1 and 15, or 0"


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def gogen_json(tmp_path: Path, options: object, name: str = "opts.json") -> Path:
    return write(tmp_path, name, json.dumps(options, indent=2))


def load_error(path: Path) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    return info.value


def gogen_error(options: object) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        Policy.from_gogen_options(options)  # type: ignore[arg-type]
    return info.value


def yaml_error(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        Policy.from_yaml_text(text, source="policy.yaml")
    return info.value


# ---------------------------------------------------------------------------------------------
# gogen eligibility options: the sample file
# ---------------------------------------------------------------------------------------------


def test_the_gogen_sample_options_file_loads_with_its_values():
    policy = load_policy(shipped_policy("gogen-fixture"))
    assert policy.dismiss == ("11357", "11358")
    assert policy.reduce == ("11359", "11360")
    relief = policy.additional_relief
    assert relief.under_21_at_conviction is True
    assert relief.age_threshold == 57
    assert relief.years_since_conviction == 10
    assert relief.deceased is True
    assert relief.only_prop64_charges is True
    assert relief.years_crime_free == 0  # missing from the sample: gogen's default


def test_the_shipped_fixture_is_a_copy_of_the_gogen_sample():
    if not SAMPLE.is_file():
        pytest.skip("shared samples not present")
    assert shipped_policy("gogen-fixture").read_bytes() == SAMPLE.read_bytes()


def test_a_policy_from_gogen_options_takes_clearslate_defaults():
    policy = load_policy(shipped_policy("gogen-fixture"))
    assert policy.disqualifiers is Disqualifiers.REVIEW
    assert policy.prior_means is PriorMeans.BEFORE_CONVICTION
    assert policy.effective_date_rule is EffectiveDateRule.NOT_ELIGIBLE
    assert policy.doubtful_data is DoubtfulData.REVIEW
    assert policy.misdemeanors is Misdemeanors.DISMISS
    assert policy.route_to is None
    assert policy.related_convictions is RelatedConvictions.LEAVE
    assert policy.still_serving is StillServing.RESENTENCE
    assert policy.hand_review_11357_other is False


def test_empty_gogen_options_default_to_false_zero_and_empty_lists():
    policy = Policy.from_gogen_options({})
    assert policy.dismiss == () and policy.reduce == ()
    assert policy.additional_relief == AdditionalRelief()


def test_missing_keys_default_individually():
    policy = Policy.from_gogen_options(
        {"baselineEligibility": {"reduce": ["11360"]}, "additionalRelief": {}}
    )
    assert policy.dismiss == ()
    assert policy.reduce == ("11360",)
    assert policy.additional_relief.years_crime_free == 0


# ---------------------------------------------------------------------------------------------
# gogen range validation: exact messages, gogen's order, first failure only
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("subjectAgeThreshold", 39, AGE_MESSAGE),
        ("subjectAgeThreshold", 66, AGE_MESSAGE),
        ("subjectAgeThreshold", -1, AGE_MESSAGE),
        ("subjectAgeThreshold", 1, AGE_MESSAGE),
        ("yearsSinceConvictionThreshold", 16, SINCE_MESSAGE),
        ("yearsSinceConvictionThreshold", -5, SINCE_MESSAGE),
        ("yearsCrimeFreeThreshold", 16, FREE_MESSAGE),
        ("yearsCrimeFreeThreshold", -1, FREE_MESSAGE),
    ],
)
def test_each_gogen_range_message_is_exact(tmp_path, key, value, message):
    path = gogen_json(tmp_path, {"additionalRelief": {key: value}})
    error = load_error(path)
    assert error.gogen_message == message
    assert message in str(error)
    assert f"additionalRelief.{key}" in str(error)
    assert str(path) in str(error)
    assert error.line is not None and error.column is not None


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("subjectAgeThreshold", [0, 40, 57, 65]),
        ("yearsSinceConvictionThreshold", [0, 1, 15]),
        ("yearsCrimeFreeThreshold", [0, 1, 15]),
    ],
)
def test_gogen_range_boundaries_are_accepted(key, values):
    for value in values:
        Policy.from_gogen_options({"additionalRelief": {key: value}})


def test_range_checks_run_in_gogen_order_not_document_order():
    relief = {
        "yearsCrimeFreeThreshold": 99,
        "yearsSinceConvictionThreshold": 99,
        "subjectAgeThreshold": 99,
    }
    assert gogen_error({"additionalRelief": relief}).gogen_message == AGE_MESSAGE
    del relief["subjectAgeThreshold"]
    assert gogen_error({"additionalRelief": relief}).gogen_message == SINCE_MESSAGE
    del relief["yearsSinceConvictionThreshold"]
    assert gogen_error({"additionalRelief": relief}).gogen_message == FREE_MESSAGE


def test_only_the_first_range_failure_is_reported():
    error = gogen_error(
        {"additionalRelief": {"subjectAgeThreshold": 1, "yearsCrimeFreeThreshold": 99}}
    )
    assert AGE_MESSAGE in str(error)
    assert FREE_MESSAGE not in str(error)


def test_a_wrong_type_is_reported_before_any_range_failure():
    # gogen decodes (type errors) before it validates ranges.
    error = gogen_error({"additionalRelief": {"subjectAgeThreshold": 1, "subjectIsDeceased": 1}})
    assert error.key == "additionalRelief.subjectIsDeceased"
    assert error.gogen_message is None


def test_an_unknown_section_is_reported_after_the_range_checks():
    error = gogen_error(
        {
            "baselineEligibility": {"dismiss": ["11357(a)"]},
            "additionalRelief": {"yearsSinceConvictionThreshold": 20},
        }
    )
    assert error.gogen_message == SINCE_MESSAGE


# ---------------------------------------------------------------------------------------------
# gogen options: unknown keys, wrong types, case, null, sections
# ---------------------------------------------------------------------------------------------


def test_unknown_json_keys_are_ignored_like_gogen(tmp_path):
    bear = {
        "baselineEligibility": {"dismiss": ["11357"], "reduce": ["11360"], "other": 1},
        "additionalRelief": {
            "subjectHasOnlyProp64Charges": True,
            "yearsSinceConvictionThreshold": 5,
            "dismissYearsSinceConvictionThreshold": True,
            "dismissYearsCrimeFreeThreshold": "anything",
            "dismissOlderThanAgeThreshold": [1, 2],
        },
        "somethingElse": {"nested": None},
    }
    policy = load_policy(gogen_json(tmp_path, bear))
    assert policy.dismiss == ("11357",)
    assert policy.reduce == ("11360",)
    assert policy.additional_relief.years_since_conviction == 5
    assert policy.additional_relief.only_prop64_charges is True


@pytest.mark.parametrize(
    ("options", "key", "expected"),
    [
        ({"additionalRelief": {"subjectAgeThreshold": "57"}}, "subjectAgeThreshold", "whole"),
        ({"additionalRelief": {"subjectAgeThreshold": 57.0}}, "subjectAgeThreshold", "whole"),
        ({"additionalRelief": {"subjectAgeThreshold": True}}, "subjectAgeThreshold", "whole"),
        (
            {"additionalRelief": {"yearsCrimeFreeThreshold": [5]}},
            "yearsCrimeFreeThreshold",
            "whole",
        ),
        (
            {"additionalRelief": {"subjectUnder21AtConviction": "true"}},
            "subjectUnder21AtConviction",
            "true or false",
        ),
        ({"additionalRelief": {"subjectIsDeceased": 1}}, "subjectIsDeceased", "true or false"),
        ({"baselineEligibility": {"dismiss": "11357"}}, "dismiss", "list"),
        ({"baselineEligibility": {"reduce": {"a": 1}}}, "reduce", "list"),
        ({"baselineEligibility": []}, "baselineEligibility", "object"),
        ({"additionalRelief": 5}, "additionalRelief", "object"),
    ],
)
def test_a_wrong_json_type_names_the_key_and_the_expected_type(tmp_path, options, key, expected):
    error = load_error(gogen_json(tmp_path, options))
    assert error.key is not None and error.key.endswith(key)
    assert f"expected {expected}" in error.problem or expected in error.problem
    assert key in str(error)


def test_a_number_in_a_section_list_is_a_type_error_with_position(tmp_path):
    path = write(tmp_path, "o.json", '{"baselineEligibility": {"dismiss": ["11357",\n 11358]}}')
    error = load_error(path)
    assert error.key == "baselineEligibility.dismiss[1]"
    assert "expected a section string" in str(error)
    assert (error.line, error.column) == (2, 2)


def test_a_whole_number_too_large_for_go_is_a_type_error():
    error = gogen_error({"additionalRelief": {"subjectAgeThreshold": 2**70}})
    assert "whole number" in error.problem
    assert error.gogen_message is None


def test_json_keys_match_case_insensitively_like_go():
    policy = Policy.from_gogen_options(
        {
            "BaselineEligibility": {"DISMISS": ["11358"]},
            "additionalrelief": {"SubjectAgeThreshold": 50},
        }
    )
    assert policy.dismiss == ("11358",)
    assert policy.additional_relief.age_threshold == 50


def test_an_exact_key_and_a_later_duplicate_last_one_wins():
    text = '{"additionalRelief": {"subjectAgeThreshold": 41, "subjectAgeThreshold": 42}}'
    options = json.loads(text)
    assert Policy.from_gogen_options(options).additional_relief.age_threshold == 42


def test_null_values_keep_the_default_like_go():
    policy = Policy.from_gogen_options(
        {
            "baselineEligibility": {"dismiss": None, "reduce": ["11359"]},
            "additionalRelief": {"subjectAgeThreshold": None, "subjectIsDeceased": None},
        }
    )
    assert policy.dismiss == ()
    assert policy.additional_relief == AdditionalRelief()
    assert Policy.from_gogen_options({"additionalRelief": None}) == Policy.from_gogen_options({})


@pytest.mark.parametrize("section", ["11357(a)", "11357 HS", "HS 11357", "1135", "", " 11357"])
def test_an_unknown_section_string_is_a_clear_error(tmp_path, section):
    path = gogen_json(tmp_path, {"baselineEligibility": {"reduce": ["11359", section]}})
    error = load_error(path)
    assert "Valid values: 11357, 11358, 11359, 11360" in str(error)
    assert error.key == "baselineEligibility.reduce[1]"
    assert json.dumps(section) in str(error)


def test_a_subsection_gets_a_hint_to_write_the_bare_section():
    error = gogen_error({"baselineEligibility": {"dismiss": ["11357(a)"]}})
    assert 'e.g. "11357"' in str(error)


def test_a_section_in_both_lists_is_kept_in_both_and_dismissed_first():
    policy = Policy.from_gogen_options(
        {"baselineEligibility": {"dismiss": ["11359"], "reduce": ["11359", "11360"]}}
    )
    assert policy.dismiss == ("11359",)
    assert policy.reduce == ("11359", "11360")
    assert policy.baseline_action("11359") == "dismiss"
    assert policy.baseline_action("11360") == "reduce"
    assert policy.baseline_action("11357") is None


def test_list_order_is_kept():
    policy = Policy.from_gogen_options({"baselineEligibility": {"dismiss": ["11360", "11357"]}})
    assert policy.dismiss == ("11360", "11357")


# ---------------------------------------------------------------------------------------------
# gogen options: files
# ---------------------------------------------------------------------------------------------


def test_invalid_json_reports_line_and_column(tmp_path):
    path = write(tmp_path, "o.json", '{\n  "baselineEligibility": {"dismiss": ["11357"],}\n}')
    error = load_error(path)
    assert "not valid JSON" in str(error)
    assert (error.line, error.column) == (2, 48)
    assert str(error).startswith(f"{path}, line 2, column 48: ")


def test_nan_is_not_json(tmp_path):
    error = load_error(write(tmp_path, "o.json", '{"additionalRelief": {"x": NaN}}'))
    assert "NaN" in str(error)
    assert error.line == 1


@pytest.mark.parametrize("text", ["[]", "null", '"x"', "5"])
def test_options_must_be_an_object(tmp_path, text):
    error = load_error(write(tmp_path, "o.json", text))
    assert "must be a JSON object" in str(error)


def test_a_json_file_with_policy_keys_is_not_read_as_empty_gogen_options(tmp_path):
    path = gogen_json(tmp_path, {"name": "x", "dismiss": ["11357"]})
    error = load_error(path)
    assert ".yaml" in str(error)


def test_a_utf8_bom_is_accepted(tmp_path):
    raw = b"\xef\xbb\xbf" + json.dumps({"baselineEligibility": {"dismiss": ["11357"]}}).encode()
    assert load_policy(write(tmp_path, "o.json", raw)).dismiss == ("11357",)


def test_bytes_that_are_not_utf8_are_an_error_with_position(tmp_path):
    error = load_error(write(tmp_path, "o.json", b'{\n "a": "\xff"}'))
    assert "UTF-8" in str(error)
    assert (error.line, error.column) == (2, 8)


def test_a_missing_file_or_a_directory_is_a_policy_error(tmp_path):
    assert "not found" in str(load_error(tmp_path / "nope.json"))
    (tmp_path / "dir.yaml").mkdir()
    assert "directory" in str(load_error(tmp_path / "dir.yaml"))


# ---------------------------------------------------------------------------------------------
# YAML policy
# ---------------------------------------------------------------------------------------------


def test_yaml_defaults():
    policy = Policy.from_yaml_text("name: minimal\n")
    assert policy.name == "minimal"
    assert policy.description == ""
    assert policy.dismiss == () and policy.reduce == ()
    assert policy.additional_relief == AdditionalRelief()
    assert policy.disqualifiers is Disqualifiers.REVIEW
    assert policy.prior_means is PriorMeans.BEFORE_CONVICTION
    assert policy.effective_date_rule is EffectiveDateRule.NOT_ELIGIBLE
    assert policy.doubtful_data is DoubtfulData.REVIEW
    assert policy.misdemeanors is Misdemeanors.DISMISS
    assert policy.route_to is None
    assert policy.related_convictions is RelatedConvictions.LEAVE
    assert policy.related_sections == default_related_sections()
    assert policy.still_serving is StillServing.RESENTENCE
    assert policy.hand_review_11357_other is False


def test_a_full_yaml_policy_loads(tmp_path):
    text = """
name: Los Angeles pilot (approximation)
description: LA's choices as far as the schema can say them
dismiss: [11357, 11358, 11359, 11360]
reduce: []
additional_relief:
  under_21_at_conviction: true
  age_threshold: 50
  years_crime_free: 10
disqualifiers: deny
prior_means: anywhere_on_record
effective_date_rule: not_eligible
doubtful_data: gogen
misdemeanors: route
route_to: To be reviewed by City Attorneys
related_convictions: review
related_sections: [ca:pc:647:f, ca:hs:11364]
still_serving: review
hand_review_11357_other: true
"""
    policy = load_policy(write(tmp_path, "la.yml", text))
    assert policy.dismiss == tuple(VALID_SECTIONS)
    assert policy.additional_relief.age_threshold == 50
    assert policy.disqualifiers is Disqualifiers.DENY
    assert policy.prior_means is PriorMeans.ANYWHERE_ON_RECORD
    assert policy.doubtful_data is DoubtfulData.GOGEN
    assert policy.misdemeanors is Misdemeanors.ROUTE
    assert policy.route_to == "To be reviewed by City Attorneys"
    assert policy.related_sections == ("ca:pc:647:f", "ca:hs:11364")
    assert policy.still_serving is StillServing.REVIEW
    assert policy.hand_review_11357_other is True


def test_an_unknown_yaml_key_is_rejected_with_the_valid_keys():
    error = yaml_error("name: x\ndisqualifers: deny\n")
    assert error.key == "disqualifers"
    assert (error.line, error.column) == (2, 1)
    text = str(error)
    assert "unknown key" in text
    assert "Did you mean disqualifiers?" in text
    for key in Policy.model_fields:
        assert key in text


def test_an_unknown_key_inside_additional_relief_is_rejected():
    error = yaml_error("additional_relief:\n  age_treshold: 50\n")
    assert error.key == "additional_relief.age_treshold"
    assert "Did you mean age_threshold?" in str(error)
    assert (error.line, error.column) == (2, 3)


def test_a_gogen_key_in_yaml_points_to_the_yaml_name():
    error = yaml_error("additional_relief:\n  subjectAgeThreshold: 50\n")
    assert "additional_relief.age_threshold" in str(error)
    assert "--eligibility-options" in yaml_error("baselineEligibility: {}\n").hint


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("disqualifiers: maybe\n", "disqualifiers", "ignore, review or deny"),
        ("prior_means: after\n", "prior_means", "before_conviction or anywhere_on_record"),
        ("effective_date_rule: yes\n", "effective_date_rule", "not_eligible or ignore"),
        ("doubtful_data: guess\n", "doubtful_data", "review or gogen"),
        ("misdemeanors: reduce\n", "misdemeanors", "dismiss or route"),
        ("related_convictions: all\n", "related_convictions", "leave, clear or review"),
        ("still_serving: dismiss\n", "still_serving", "resentence or review"),
        ("hand_review_11357_other: 'yes'\n", "hand_review_11357_other", "true or false"),
        ("additional_relief:\n  deceased: 1\n", "additional_relief.deceased", "true or false"),
        (
            "additional_relief:\n  age_threshold: '50'\n",
            "additional_relief.age_threshold",
            "quotes",
        ),
        ("additional_relief: [1]\n", "additional_relief", "mapping"),
        ("dismiss: 11357\n", "dismiss", "list"),
        ("dismiss:\n", "dismiss", "has no value"),
        ("name: 2024\n", "name", "quotes"),
        ("name: ''\n", "name", "empty"),
    ],
)
def test_yaml_value_errors_name_the_key_and_what_is_allowed(text, key, fragment):
    error = yaml_error(text)
    assert error.key == key
    assert fragment in str(error)
    assert str(error).startswith("policy.yaml, line ")


def test_yaml_range_errors_use_gogen_messages_in_gogen_order():
    error = yaml_error("additional_relief:\n  years_crime_free: 99\n  age_threshold: 30\n")
    assert error.gogen_message == AGE_MESSAGE
    assert error.key == "additional_relief.age_threshold"
    assert (error.line, error.column) == (3, 18)


def test_yaml_sections_may_be_numbers_but_must_be_prop64_sections():
    assert Policy.from_yaml_text("reduce: [11359, '11360']\n").reduce == ("11359", "11360")
    error = yaml_error("dismiss: [11357, '11357(b)']\n")
    assert error.key == "dismiss[1]"
    assert "Valid values: 11357, 11358, 11359, 11360" in str(error)


def test_route_to_is_required_with_route_and_refused_without():
    error = yaml_error("misdemeanors: route\n")
    assert error.key == "route_to"
    assert error.line == 1  # points at misdemeanors
    assert yaml_error("route_to: City Attorney\n").key == "route_to"
    assert yaml_error("misdemeanors: route\nroute_to: '  '\n").key == "route_to"


def test_related_sections_need_a_related_mode_and_statute_ids():
    assert yaml_error("related_sections: [ca:pc:602]\n").key == "related_sections"
    bad = yaml_error("related_convictions: clear\nrelated_sections: [PC 602]\n")
    assert bad.key == "related_sections[0]"
    assert "ca:pc:647:f" in str(bad)
    assert "Prop 64" in str(
        yaml_error("related_convictions: clear\nrelated_sections: [ca:hs:11359:b]\n")
    )
    assert "empty" in str(yaml_error("related_convictions: clear\nrelated_sections: []\n"))
    policy = Policy.from_yaml_text("related_convictions: clear\n")
    assert policy.related_sections == default_related_sections()


@pytest.mark.parametrize(
    "text",
    ["name: x\n  bad: : :\n", "name:\tx\n\tdismiss: []", "a: 1\n---\nb: 2\n", "[unclosed"],
)
def test_yaml_syntax_errors_have_a_position(text):
    error = yaml_error(text)
    assert "not valid YAML" in str(error)
    assert error.line is not None and error.column is not None


@pytest.mark.parametrize(
    ("text", "fragment"), [("", "empty"), ("- a\n", "mapping"), ("5", "mapping")]
)
def test_a_yaml_policy_must_be_a_mapping(text, fragment):
    assert fragment in str(yaml_error(text))


def test_a_yaml_date_value_stays_text():
    assert Policy.from_yaml_text("name: 2020-13-45\n").name == "2020-13-45"


def test_a_yaml_file_holding_gogen_json_is_refused_with_a_pointer(tmp_path):
    path = write(tmp_path, "opts.yaml", shipped_policy("gogen-fixture").read_text())
    error = load_error(path)
    assert error.key == "baselineEligibility"


# ---------------------------------------------------------------------------------------------
# Round trips, hashing, shipped policies
# ---------------------------------------------------------------------------------------------


def test_gogen_options_round_trip_through_the_policy():
    options = json.loads(shipped_policy("gogen-fixture").read_text())
    back = Policy.from_gogen_options(options).to_gogen_options()
    assert back["baselineEligibility"] == options["baselineEligibility"]
    assert back["additionalRelief"] == {**options["additionalRelief"], "yearsCrimeFreeThreshold": 0}
    assert Policy.from_gogen_options(back) == Policy.from_gogen_options(options)


def test_yaml_to_gogen_options_to_policy_keeps_every_gogen_option():
    yaml_policy = Policy.from_yaml_text(
        "name: x\ndismiss: [11358]\nreduce: [11360, 11359]\n"
        "additional_relief: {deceased: true, years_crime_free: 7, age_threshold: 65}\n"
        "disqualifiers: deny\n"
    )
    options = yaml_policy.to_gogen_options()
    json.dumps(options)  # plain JSON types
    again = Policy.from_gogen_options(options)
    assert again.dismiss == yaml_policy.dismiss
    assert again.reduce == yaml_policy.reduce
    assert again.additional_relief == yaml_policy.additional_relief
    assert again.disqualifiers is Disqualifiers.REVIEW  # clearslate options are not in gogen


def test_gogen_options_to_yaml_and_back_is_equal(tmp_path):
    policy = load_policy(shipped_policy("gogen-fixture"))
    path = write(tmp_path, "p.yaml", policy.to_yaml())
    assert load_policy(path) == policy


def test_every_option_survives_a_yaml_round_trip(tmp_path):
    policy = Policy(
        name="all options",
        description="every option away from its default",
        dismiss=("11357",),
        reduce=("11360", "11357"),
        additional_relief=AdditionalRelief(
            under_21_at_conviction=True,
            only_prop64_charges=True,
            deceased=True,
            age_threshold=40,
            years_since_conviction=1,
            years_crime_free=15,
        ),
        disqualifiers="deny",
        prior_means="anywhere_on_record",
        effective_date_rule="ignore",
        doubtful_data="gogen",
        misdemeanors="route",
        route_to="To be reviewed by City Attorneys",
        related_convictions="clear",
        related_sections=("ca:bp:4060",),
        still_serving="review",
        hand_review_11357_other=True,
    )
    assert load_policy(write(tmp_path, "p.yml", policy.to_yaml())) == policy
    assert Policy.from_yaml_mapping(policy.to_yaml_mapping()) == policy


def test_canonical_json_is_sorted_and_the_hash_is_its_sha256():
    text = DEFAULT_POLICY.canonical_json()
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert list(data["additional_relief"]) == sorted(data["additional_relief"])
    assert text == json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert DEFAULT_POLICY.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert set(data) == set(Policy.model_fields)


def test_the_hash_follows_the_content():
    a = Policy.from_gogen_options({"baselineEligibility": {"dismiss": ["11357"]}})
    b = Policy.from_gogen_options(json.loads(json.dumps(a.to_gogen_options())))
    c = Policy.from_gogen_options({"baselineEligibility": {"reduce": ["11357"]}})
    assert a.sha256 == b.sha256
    assert a.sha256 != c.sha256


def test_a_policy_is_frozen():
    with pytest.raises(ValidationError):
        DEFAULT_POLICY.disqualifiers = Disqualifiers.IGNORE  # type: ignore[misc]
    with pytest.raises(ValidationError):
        DEFAULT_POLICY.additional_relief.age_threshold = 50  # type: ignore[misc]
    assert hash(DEFAULT_POLICY) == hash(DEFAULT_POLICY.model_copy())


def test_shipped_policies_all_load():
    assert {"dismiss-all", "gogen-fixture", "los-angeles", "san-francisco", "san-joaquin",
            "contra-costa", "sacramento"} <= set(SHIPPED_POLICIES)  # fmt: skip
    for name, path in SHIPPED_POLICIES.items():
        assert shipped_policy(name) == path
        assert isinstance(load_policy(path), Policy)
        assert isinstance(resolve_policy(name), Policy)


def test_the_default_policy_is_bears_default():
    assert load_policy(shipped_policy("dismiss-all")) == DEFAULT_POLICY
    assert DEFAULT_POLICY.dismiss == ("11357", "11358", "11359", "11360")
    assert DEFAULT_POLICY.reduce == ()
    assert DEFAULT_POLICY.additional_relief == AdditionalRelief(
        only_prop64_charges=True, years_since_conviction=5, years_crime_free=5
    )
    assert DEFAULT_POLICY.disqualifiers is Disqualifiers.REVIEW


def test_shipped_policy_names_and_errors():
    assert shipped_policy("dismiss-all.yaml") == shipped_policy("dismiss-all")
    with pytest.raises(PolicyError, match="dismiss-all"):
        shipped_policy("dismiss-some")
    with pytest.raises(PolicyError, match="no shipped policy"):
        resolve_policy("dismiss-some")


def test_resolve_policy_prefers_an_existing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "dismiss-all", "name: local file\n")
    assert resolve_policy("dismiss-all").name == "local file"
    with pytest.raises(PolicyError, match="not found"):
        resolve_policy("x.yaml")


def test_load_policy_chooses_by_suffix_then_content(tmp_path):
    options = {"baselineEligibility": {"dismiss": ["11358"]}}
    assert load_policy(gogen_json(tmp_path, options, "opts.JSON")).dismiss == ("11358",)
    assert load_policy(gogen_json(tmp_path, options, "opts.txt")).dismiss == ("11358",)
    assert load_policy(write(tmp_path, "p.conf", "dismiss: [11359]\n")).dismiss == ("11359",)
    # YAML reads JSON syntax: a .yaml file in braces is a YAML policy.
    assert load_policy(write(tmp_path, "p.yaml", '{"dismiss": ["11360"]}')).dismiss == ("11360",)


# ---------------------------------------------------------------------------------------------
# Related sections from the statute catalogue
# ---------------------------------------------------------------------------------------------


def test_related_sections_default_to_gogens_list_without_a_catalogue(tmp_path):
    assert default_related_sections(tmp_path / "missing.yaml") == GOGEN_RELATED_SECTIONS
    assert "ca:pc:647:f" in GOGEN_RELATED_SECTIONS
    assert len(GOGEN_RELATED_SECTIONS) == 12


def test_related_sections_come_from_the_catalogue_defaults(tmp_path):
    catalogue = write(
        tmp_path,
        "ca_offences.yaml",
        """
catalogues:
  related:
    entries:
      - {id: "ca:pc:148", label: Resisting, default: true}
      - {id: "ca:hs:11362.3", label: Smoking where prohibited, default: false}
      - {id: "ca:bp:4060", label: Controlled substance, default: true}
""",
    )
    assert default_related_sections(catalogue) == ("ca:pc:148", "ca:bp:4060")
    none_default = write(
        tmp_path, "b.yaml", "catalogues:\n  related:\n    entries:\n      - {id: ca:pc:602}\n"
    )
    assert _catalogue_related(none_default) is None
    assert default_related_sections(none_default) == GOGEN_RELATED_SECTIONS
    for bad in ("catalogues: {related: {entries: [{id: PC 602, default: true}]}}\n", "[1]\n", ":"):
        broken = write(tmp_path, "c.yaml", bad)
        assert default_related_sections(broken) == GOGEN_RELATED_SECTIONS


def test_the_default_related_sections_agree_with_the_statute_catalogue():
    from clearslate.statutes import catalogue

    assert default_related_sections() == tuple(catalogue.default_related_ids())


# ---------------------------------------------------------------------------------------------
# Documentation keeps step with the schema
# ---------------------------------------------------------------------------------------------


def test_docs_describe_every_option():
    if not DOCS.is_file():
        pytest.skip("docs/policy.md not present")
    text = DOCS.read_text(encoding="utf-8")
    keys = [
        *Policy.model_fields,
        *(f"additional_relief.{k}" for k in AdditionalRelief.model_fields),
    ]
    for key in keys:
        assert f"| `{key}` |" in text, key
    for value in [
        *Disqualifiers, *PriorMeans, *EffectiveDateRule, *DoubtfulData, *Misdemeanors,
        *RelatedConvictions, *StillServing,
    ]:  # fmt: skip
        assert f"`{value.value}`" in text, value


# ---------------------------------------------------------------------------------------------
# Properties: any bytes give a Policy or a PolicyError, never anything else
# ---------------------------------------------------------------------------------------------

_json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
    st.text(max_size=12), st.sampled_from(VALID_SECTIONS),
)  # fmt: skip
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
_relief_keys = st.sampled_from(
    [
        "subjectUnder21AtConviction", "subjectHasOnlyProp64Charges", "subjectIsDeceased",
        "subjectAgeThreshold", "yearsSinceConvictionThreshold", "yearsCrimeFreeThreshold",
        "SUBJECTAGETHRESHOLD", "other",
    ]
)  # fmt: skip
_gogenish = st.fixed_dictionaries(
    {},
    optional={
        "baselineEligibility": st.one_of(
            _json_values,
            st.dictionaries(
                st.sampled_from(["dismiss", "reduce", "Dismiss", "x"]),
                st.one_of(_json_values, st.lists(_json_scalars, max_size=5)),
            ),
        ),
        "additionalRelief": st.one_of(
            _json_values, st.dictionaries(_relief_keys, st.one_of(_json_scalars))
        ),
        "extra": _json_values,
    },
)


def _check_outcome(path: Path) -> None:
    try:
        policy = load_policy(path)
    except PolicyError as error:
        text = str(error)
        assert text
        text.encode("utf-8")  # printable by the CLI
        assert error.problem
    else:
        assert isinstance(policy, Policy)
        Policy.from_gogen_options(policy.to_gogen_options())
        assert Policy.from_yaml_text(policy.to_yaml()) == policy


_fuzz = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_fuzz
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".json", ".yaml", ".yml", ""]))
def test_any_bytes_give_a_policy_or_a_policy_error(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"policy{suffix}"
    path.write_bytes(data)
    _check_outcome(path)


@_fuzz
@given(text=st.text(alphabet=st.sampled_from('{}[]:,"- \n\ttrue0159abnul#&*!|>'), max_size=80))
def test_any_structured_text_gives_a_policy_or_a_policy_error(tmp_path_factory, text):
    for suffix in (".json", ".yaml"):
        path = tmp_path_factory.mktemp("fuzz") / f"policy{suffix}"
        path.write_text(text, encoding="utf-8")
        _check_outcome(path)


@_fuzz
@given(options=_gogenish)
def test_any_gogen_shaped_json_gives_a_policy_or_a_policy_error(tmp_path_factory, options):
    path = tmp_path_factory.mktemp("fuzz") / "opts.json"
    path.write_text(json.dumps(options), encoding="utf-8")
    _check_outcome(path)
    with contextlib.suppress(PolicyError):
        assert isinstance(Policy.from_gogen_options(options), Policy)


@_fuzz
@given(
    data=st.dictionaries(
        st.sampled_from([*Policy.model_fields, "typo"]),
        _json_values,
        max_size=6,
    )
)
def test_any_policy_shaped_yaml_gives_a_policy_or_a_policy_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "policy.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    _check_outcome(path)


# ---------------------------------------------------------------------------------------------
# Flows: the office's own ordered steps
# ---------------------------------------------------------------------------------------------

FLOW_POLICY = """\
name: a flow
related_convictions: review
flow:
  - id: misdemeanor
    when: {felony: false}
    then: {outcome: dismiss, reason: Misdemeanor or Infraction}
  - when: {related_charge: true, statute_in: [ca:bp:4060]}
    then: {outcome: review, reason: 4060 BP, determination: Maybe Eligible - Flag for Review}
  - when: {section_in: [11357, "11358"], subsection_in: [(B), (a)(1)], convicted_before: 2016-11-09}
    then: {outcome: reduce, reason: "Old: reduce", reason_code: old_one}
  - otherwise: {outcome: review, reason: Nothing applies}
"""


def test_a_flow_is_read_in_order_with_its_values_normalised():
    policy = Policy.from_yaml_text(FLOW_POLICY)
    assert policy.flow is not None
    first, second, third, last = policy.flow
    assert first.id == "misdemeanor" and first.conditions == {"felony": False}
    assert second.then.determination == "Maybe Eligible - Flag for Review"
    assert third.conditions == {
        "section_in": ("11357", "11358"),
        "subsection_in": ("(b)", "(a)(1)"),
        "convicted_before": "2016-11-09",
    }
    assert third.then.outcome is FlowOutcome.REDUCE and third.then.reason_code == "old_one"
    assert last.is_otherwise and last.then.reason == "Nothing applies"


def test_a_flow_survives_a_yaml_round_trip_and_changes_the_hash(tmp_path):
    policy = Policy.from_yaml_text(FLOW_POLICY)
    text = policy.to_yaml()
    assert "dismiss:" not in text and "additional_relief" not in text  # replaced by the flow
    assert load_policy(write(tmp_path, "p.yaml", text)) == policy
    assert Policy.from_yaml_mapping(policy.to_yaml_mapping()) == policy
    assert json.loads(policy.canonical_json())["flow"][0]["when"] == {"felony": False}
    other = Policy.from_yaml_text(FLOW_POLICY.replace("Nothing applies", "Nothing"))
    assert other.sha256 != policy.sha256
    assert json.loads(DEFAULT_POLICY.canonical_json())["flow"] is None


def test_a_flow_has_no_gogen_options():
    with pytest.raises(PolicyError, match="flow"):
        Policy.from_yaml_text(FLOW_POLICY).to_gogen_options()


def test_the_flow_vocabulary_is_documented_and_compiled():
    from clearslate.engine.decide import FLOW_SQL

    assert set(FLOW_SQL) == set(FLOW_CONDITIONS)
    for condition in FLOW_CONDITIONS.values():
        assert condition.kind in FLOW_VALUE_KINDS
        assert condition.meaning.endswith(".")
        assert condition.about in ("conviction", "person")
    text = DOCS.read_text(encoding="utf-8")
    for name in FLOW_CONDITIONS:
        assert f"`{name}`" in text, name


_FLOW_TAIL = "  - otherwise: {outcome: review, reason: y}\n"


@pytest.mark.parametrize(
    ("steps", "key", "problem"),
    [
        ("  - {when: {felony: false, felonyy: 3}, then: {outcome: dismiss, reason: x}}\n",
         "flow[0].when.felonyy", "step 1: unknown condition"),
        ("  - {when: {age_at_as_of_at_least: 0}, then: {outcome: dismiss, reason: x}}\n",
         "flow[0].when.age_at_as_of_at_least", "whole number"),
        ("  - {when: {felony: true}, then: {outcome: dismis, reason: x}}\n",
         "flow[0].then.outcome", '"dismis" is not one of the allowed values'),
        ("  - {when: {felony: true}, then: {outcome: dismiss}}\n",
         "flow[0].then.reason", "is missing"),
        ("  - {when: {}, then: {outcome: dismiss, reason: x}}\n",
         "flow[0].when", "has no condition"),
        ("  - {when: {convicted_before: 2016-13-09}, then: {outcome: dismiss, reason: x}}\n",
         "flow[0].when.convicted_before", "expected a date"),
        ("  - {when: {subsection_in: [b]}, then: {outcome: dismiss, reason: x}}\n",
         "flow[0].when.subsection_in", "is not a subsection"),
        ("  - {when: {section_in: [11357.5]}, then: {outcome: dismiss, reason: x}}\n",
         "flow[0].when.section_in", "is not a Prop 64 section"),
        ("  - {when: {statute_in: [PC 148]}, then: {outcome: dismiss, reason: x}}\n",
         "flow[0].when.statute_in", "is not a statute id"),
        ("  - {when: {felony: yes please}, then: {outcome: dismiss, reason: x}}\n",
         "flow[0].when.felony", "expected true or false"),
        ("  - {when: {felony: true}, then: {outcome: dismiss, reason: x}, else: 1}\n",
         "flow[0].else", "unknown key"),
        ("  - {when: {felony: true}, then: {outcome: dismiss, reason: x, reason_code: Bad}}\n",
         "flow[0].then.reason_code", "lower-case"),
        ("  - {id: a, when: {felony: true}, then: {outcome: dismiss, reason: x}}\n"
         "  - {id: a, when: {felony: false}, then: {outcome: dismiss, reason: x}}\n",
         "flow[1].id", "another step's too"),
        ("  - {id: '2', when: {felony: true}, then: {outcome: dismiss, reason: x}}\n"
         "  - {when: {felony: false}, then: {outcome: dismiss, reason: x}}\n",
         "flow[1]", "policy.flow.2 is another step's too"),
        ("  - {when: {related_charge: true}, then: {outcome: dismiss, reason: x}}\n",
         "flow[0].when.related_charge", "related_convictions is leave"),
    ],
)  # fmt: skip
def test_flow_errors_name_the_step_and_the_key(steps, key, problem):
    error = yaml_error("name: x\nflow:\n" + steps + _FLOW_TAIL)
    assert error.key == key
    assert problem in error.problem
    assert error.line is not None and error.file == "policy.yaml"


def test_an_unknown_condition_lists_the_valid_ones_and_suggests_one():
    error = yaml_error(
        "flow:\n  - {when: {age_over: 50}, then: {outcome: dismiss, reason: x}}\n" + _FLOW_TAIL
    )
    assert "age_at_as_of_at_least" in error.hint and "deceased" in error.hint
    steps = "  - {when: {deceasd: true}, then: {outcome: dismiss, reason: x}}\n"
    assert "Did you mean deceased?" in str(yaml_error("flow:\n" + steps + _FLOW_TAIL))


def test_a_flow_must_end_with_otherwise_and_only_there():
    no_end = yaml_error("flow:\n  - {when: {felony: true}, then: {outcome: dismiss, reason: x}}\n")
    assert "last step must be otherwise" in no_end.problem
    early = yaml_error(
        "flow:\n" + _FLOW_TAIL + "  - {when: {felony: true}, then: {outcome: dismiss, reason: x}}\n"
    )
    assert "otherwise must be the last step" in early.problem
    assert "expected a list" in yaml_error("flow: []\n").problem
    assert "expected a list" in yaml_error("flow: {felony: true}\n").problem
    assert Policy.from_yaml_text("flow:\n" + _FLOW_TAIL).flow is not None  # otherwise alone


@pytest.mark.parametrize(
    "key_line",
    ["dismiss: [11357]", "reduce: []", "additional_relief: {deceased: true}",
     "misdemeanors: dismiss", "hand_review_11357_other: false"],
)  # fmt: skip
def test_a_flow_refuses_the_keys_it_replaces(key_line):
    error = yaml_error(f"{key_line}\nflow:\n{_FLOW_TAIL}")
    assert error.key == key_line.split(":")[0]
    assert "replaces" in error.problem and error.line == 1


def test_a_flow_step_can_be_built_in_python():
    step = FlowStep(when={"felony": False}, then=FlowThen(outcome="dismiss", reason="x"))
    assert step.conditions == {"felony": False}
    otherwise = FlowStep(then=FlowThen(outcome="review", reason="y"))
    policy = Policy(flow=(step, otherwise))
    assert policy.flow == (step, otherwise) and hash(policy)
    for bad in ((step,), (otherwise, step)):
        with pytest.raises(ValidationError, match="otherwise"):
            Policy(flow=bad)
    with pytest.raises(ValidationError, match="unknown condition"):
        FlowStep(when={"felon": False}, then=FlowThen(outcome="dismiss", reason="x"))


@pytest.mark.parametrize(
    "name", ["los-angeles", "sacramento", "san-joaquin", "contra-costa", "san-francisco"]
)
def test_the_pilot_policies_ship_with_a_flow_and_an_explanation(name):
    path = shipped_policy(name)
    policy = load_policy(path)
    assert policy.name == name and policy.description
    assert policy.flow is not None and policy.flow[-1].is_otherwise
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#") and "gogen-behaviour.md" in text  # says where it comes from
