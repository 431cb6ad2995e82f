"""Every check at a threshold's edge, with its default and with a changed setting (tests/check_cases/)."""

import csv

import numpy as np
import pytest

import curvecheck
from curvecheck.checks import CHECKS

from .check_cases.cases import CASES


def write_log(path, curves):
    names = list(curves)
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["epoch", *names])
        for i in range(len(next(iter(curves.values())))):
            out.writerow([i, *("nan" if np.isnan(curves[n][i]) else repr(float(curves[n][i])) for n in names)])
    return path


@pytest.mark.parametrize("case_id, code, curves, settings, fires", CASES, ids=[c[0] for c in CASES])
def test_check_case(tmp_path, case_id, code, curves, settings, fires):
    log = write_log(tmp_path / "history.csv", curves)
    report = curvecheck.analyze(log, select=[code], settings={code: settings} if settings else None)
    codes = {f.code for f in report.runs[0].findings}
    assert (code in codes) == fires, f"{case_id}: {[f.message for f in report.runs[0].findings]}"


def test_every_check_has_a_firing_case_and_every_setting_check_a_changed_setting_case():
    firing = {code for _id, code, _c, settings, fires in CASES if fires and not settings}
    changed = {code for _id, code, _c, settings, fires in CASES if settings and not fires}
    with_settings = {code for code, check in CHECKS.items() if check.Settings.__dataclass_fields__}
    assert firing >= set(CHECKS) - {"CC401"}
    assert changed >= with_settings
