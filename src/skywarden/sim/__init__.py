"""The scenario simulator: a source like any other, plus ground truth for scoring.

``load_scenario`` reads a scenario (docs/SCENARIO-FORMAT.md) by shipped name or path;
``run_scenario`` writes ``truth.jsonl``, ``detections.jsonl`` and ``sensors.toml``
(../shared/formats.md). Same scenario and seed, same bytes.

    >>> from skywarden.sim import load_scenario, run_scenario
    >>> summary = run_scenario(load_scenario("scale", targets=100), "out", seed=1)
"""

from .model import Scenario, TargetSpec
from .runner import SimSummary, run_scenario
from .scenario import ScenarioInfo, list_scenarios, load_scenario, parse_scenario

__all__ = [
    "Scenario",
    "ScenarioInfo",
    "SimSummary",
    "TargetSpec",
    "list_scenarios",
    "load_scenario",
    "parse_scenario",
    "run_scenario",
]
