"""The activity-call diagram: drawn by scripts/activity_call_svg.py, well-formed, and true.

tests/docs/test_site.py checks that the built site shows it on the home page and on
"How fnact maps onto Temporal".
"""

from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

from temporalio.exceptions import ApplicationErrorCategory

import fnact
import fnact.worker
from fnact._outcome import error_from_failure

ROOT = Path(__file__).resolve().parents[2]
SVG = ROOT / "docs" / "assets" / "activity-call.svg"
NS = "{http://www.w3.org/2000/svg}"


def drawing_script() -> ModuleType:
    """Import scripts/activity_call_svg.py (scripts/ is not a package)."""
    path = ROOT / "scripts" / "activity_call_svg.py"
    spec = importlib.util.spec_from_file_location("activity_call_svg", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def test_the_committed_svg_is_what_the_script_draws() -> None:
    """docs/assets/activity-call.svg is current: the script, run offline, writes the same."""
    assert SVG.read_text() == drawing_script().draw()
    assert drawing_script().main(["--check"]) == 0


def test_the_svg_is_well_formed_and_names_every_stage() -> None:
    """The file parses as XML, is an SVG with a title, and shows the six stages in order."""
    root = ET.parse(SVG).getroot()
    assert root.tag == f"{NS}svg"
    assert root.get("viewBox")
    assert root.findtext(f"{NS}title") == "The path of an fnact activity call"
    shown = [node.text for node in root.iter(f"{NS}text")]
    stages = ["Decorator", "Worker", "Adapter", "Context", "Outcome", "Workflow"]
    assert [s for s in shown if s in stages] == stages
    for code in (
        "@fnact.activity(",
        "fnact.worker.create_worker(",
        "fnact.worker.Plugin(",
        "ActivityContext",
    ):
        assert any(code in (s or "") for s in shown), code
    assert "await fnact.workflow.execute_activity(activity, args)" in shown
    assert {"Success(v)", "Failure(e)", "raise"} <= set(shown)


class Missing(fnact.Fault):
    """An expected outcome, final by default."""

    key: str


class Busy(fnact.Fault):
    """An expected outcome that asks for a retry."""

    non_retryable = False


def test_a_failure_becomes_a_benign_application_error_of_its_type() -> None:
    """The diagram's Failure(e): ApplicationError of e's type, benign, retried if e declares it."""
    missing, busy = error_from_failure(Missing(key="a")), error_from_failure(Busy())
    assert (missing.type, missing.non_retryable) == ("Missing", True)
    assert (busy.type, busy.non_retryable) == ("Busy", False)
    assert missing.category == busy.category == ApplicationErrorCategory.BENIGN
