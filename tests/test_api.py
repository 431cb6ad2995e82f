"""The library API the CLI stands on: collected errors, the exit code decided once, the plot's Figure."""

import pytest

import curvecheck
from curvecheck.errors import InputError, UsageError
from curvecheck.render import RENDERERS, register, render

from .conftest import SAMPLES, WRITTEN

SEG = SAMPLES / "segmentation_unet.csv"


def test_on_error_collect_or_raise(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty.csv"):
        curvecheck.analyze([SEG, empty])
    report = curvecheck.analyze([SEG, empty], on_error="collect")
    assert len(report.runs) == 1 and [e.source for e in report.errors] == [str(empty)]
    assert "empty file" in report.errors[0].message and report.to_dict()["errors"][0]["source"] == str(empty)
    assert report.exit_code("never") == 2
    with pytest.raises(UsageError):
        curvecheck.analyze([SEG], on_error="ignore")


def test_exit_code_from_the_report_and_the_recommendation():
    nan = curvecheck.analyze(WRITTEN / "keras_nan.csv")
    assert nan.exit_code("error") == 1 and nan.exit_code("never") == 0
    seg = curvecheck.analyze(SEG)
    assert seg.exit_code("error") == 0 and seg.exit_code("warning") == 1 and seg.to_dict()["errors"] == []
    rec = curvecheck.recommend_stop(WRITTEN / "keras_nan.csv", fail_on="error")
    assert rec.exit_code() == 1 and {f.code for f in rec.failing_findings} >= {"CC101"}
    assert curvecheck.recommend_stop(WRITTEN / "keras_nan.csv").exit_code() == 0  # fail_on="never": no checks


def test_plot_returns_a_figure_and_leaves_matplotlib_alone(tmp_path):
    import matplotlib

    backend, fonttype = matplotlib.get_backend(), matplotlib.rcParams["svg.fonttype"]
    fig = curvecheck.plot(SEG, tmp_path / "seg.svg")
    assert type(fig).__name__ == "Figure" and fig.axes
    assert "<text" in (tmp_path / "seg.svg").read_text()  # SVG text stays text
    assert matplotlib.get_backend() == backend and matplotlib.rcParams["svg.fonttype"] == fonttype
    report = curvecheck.analyze(curvecheck.load(SEG))  # loaded runs are kept in report.loaded
    assert curvecheck.plot([], report=report).axes  # marks from a report computed once


def test_renderer_registry():
    report = curvecheck.analyze(SEG)
    assert set(RENDERERS) >= {"text", "json"}
    assert render(report, "json").startswith('{\n  "schema_version": 1')
    register("codes", lambda rep, quiet=False: " ".join(f.code for r in rep.runs for f in r.findings) + "\n")
    try:
        assert render(report, "codes").startswith("CC")
    finally:
        del RENDERERS["codes"]
    with pytest.raises(UsageError, match="unknown output format"):
        render(report, "yaml")
