from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.eligibility.__main__ import main
from bot.eligibility.engine import EligibilityEngine
from bot.eligibility.facts import Facts

CASES = yaml.safe_load((Path(__file__).parent / "cases.yml").read_text(encoding="utf-8"))


def run_cli(facts: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["--json", json.dumps(facts)]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_table(case: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    programs = {p["id"]: p for p in run_cli(case["facts"], capsys)["programs"]}
    assert set(programs) == {"left_behind", "de_facto_unsupported", "orphan", "in_difficulty", "disability_rehab"}
    for program_id, verdict in case["expect"].items():
        assert programs[program_id]["verdict"] == verdict, programs[program_id]["reasons"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_result_is_explained(case: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    for program in run_cli(case["facts"], capsys)["programs"]:
        assert program["reasons"] and all(r.strip() for r in program["reasons"])
        assert program["citations"] and all(c["clause"] for c in program["citations"])
        if program["verdict"] != "not_eligible":
            assert program["next_steps"]
        if program["verdict"] == "possibly" and program["missing"]:
            assert "还需要了解" in " ".join(program["reasons"])


def test_output_lists_eligible_first(capsys: pytest.CaptureFixture[str]) -> None:
    programs = run_cli({"child_age": 9, "father": "imprisoned", "mother": "lost_contact_6m"}, capsys)["programs"]
    order = [p["verdict"] for p in programs]
    assert order == sorted(order, key=["eligible", "possibly", "not_eligible"].index)


def test_reasons_name_the_deciding_fact(capsys: pytest.CaptureFixture[str]) -> None:
    programs = {
        p["id"]: p
        for p in run_cli(
            {"child_age": 16, "hukou": "rural", "father": "migrant_worker", "mother": "migrant_worker"}, capsys
        )["programs"]
    }
    assert "16" in programs["left_behind"]["reasons"][0]
    de_facto = {
        p["id"]: p
        for p in run_cli({"child_age": 9, "father": "imprisoned", "mother": "lost_contact_short"}, capsys)["programs"]
    }["de_facto_unsupported"]
    assert "6个月" in de_facto["reasons"][0] and "满6个月后" in de_facto["reasons"][0]


def test_de_facto_citation_and_next_steps(capsys: pytest.CaptureFixture[str]) -> None:
    result = {
        p["id"]: p
        for p in run_cli({"child_age": 9, "father": "imprisoned", "mother": "lost_contact_6m"}, capsys)["programs"]
    }["de_facto_unsupported"]
    assert [c["doc_no"] for c in result["citations"]] == ["民发〔2019〕62号", "民发〔2020〕125号"]
    steps = " ".join(result["next_steps"])
    assert "15个工作日" in steps and "次月" in steps and "不公示" in steps and "户籍所在地" in steps


def test_in_difficulty_names_its_groups(capsys: pytest.CaptureFixture[str]) -> None:
    result = {
        p["id"]: p
        for p in run_cli({"child_age": 5, "family_low_income": True, "child_disability": "certified"}, capsys)[
            "programs"
        ]
    }["in_difficulty"]
    assert [g["id"] for g in result["groups"]] == ["poverty", "disability"]


@pytest.mark.parametrize(
    "bad", ['{"child_age": "nine"}', '{"father": "in_jail"}', '{"colour": "red"}', "not json", '{"child_age": -1}']
)
def test_bad_facts_are_a_clear_error(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", bad]) == 2
    assert "error" in json.loads(capsys.readouterr().err)


def test_cli_as_a_process() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.eligibility",
            "--json",
            '{"child_age": 10, "father": "deceased", "mother": "deceased"}',
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    programs = {p["id"]: p["verdict"] for p in json.loads(done.stdout)["programs"]}
    assert programs["orphan"] == "eligible" and programs["de_facto_unsupported"] == "not_eligible"


def test_only_questions_that_can_change_a_verdict_are_asked() -> None:
    engine = EligibilityEngine.load()
    facts = Facts(child_age=9, hukou="rural", father="imprisoned", mother="lost_contact_6m")
    questions = engine.questions_that_matter(facts)
    assert "in_school" not in questions  # only matters from 16–18 on
    assert questions == ["family_low_income", "child_disability", "guardianship_harm"]
    assert engine.questions_that_matter(Facts())[0] == "child_age"
    answered = facts.model_copy(
        update={"family_low_income": True, "child_disability": "none", "guardianship_harm": False}
    )
    assert engine.questions_that_matter(answered) == []


def test_unknown_answers_are_not_asked_again() -> None:
    engine = EligibilityEngine.load()
    facts = Facts(child_age=9, hukou="rural", father="imprisoned", mother="lost_contact_6m")
    assert "family_low_income" not in engine.questions_that_matter(facts, asked=["family_low_income"])


def test_slots_with_unknown_are_missing_facts() -> None:
    facts = Facts.from_slots({"child_age": 9, "father": "unknown", "mother": None, "county": "秭归县"})
    assert facts.known() == {"child_age": 9}
