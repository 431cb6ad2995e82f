"""Renderers turn reports into text; they never compute verdicts.

:data:`RENDERERS` maps an output format (``analyze --format NAME``) to a function
``render(report, quiet=False, plot=None) -> str`` (``plot``: the figure written with the report,
linked from the Markdown; may be left out). A new output is one
module and one :func:`register` call here; the CLI's choices come from this mapping. Each entry
imports its module when called, so ``curvecheck --help`` does not pay for Rich or json.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..report import Report

Renderer = Callable[..., str]


def _text(report: Report, quiet: bool = False, plot: str | None = None) -> str:
    from .terminal import render_text

    return render_text(report, quiet=quiet)


def _json(report: Report, quiet: bool = False, plot: str | None = None) -> str:
    from .json_out import render_json

    return render_json(report) + "\n"


def _markdown(report: Report, quiet: bool = False, plot: str | None = None) -> str:
    from .markdown import render_analysis

    return render_analysis(report, plot)


def _github(report: Report, quiet: bool = False, plot: str | None = None) -> str:
    """Annotations + the text report; the Markdown report is appended to $GITHUB_STEP_SUMMARY."""
    from . import github
    from .markdown import render_analysis
    from .terminal import render_text

    github.append_step_summary(render_analysis(report, plot), [r.source for r in report.runs])
    return github.render_analysis(report, render_text(report, quiet=quiet))


def _sarif(report: Report, quiet: bool = False, plot: str | None = None) -> str:
    from .sarif import render

    return render([(r.source, r.findings) for r in report.runs]) + "\n"


RENDERERS: dict[str, Renderer] = {"text": _text, "json": _json, "markdown": _markdown, "github": _github,
                                  "sarif": _sarif}


def register(name: str, renderer: Renderer) -> None:
    """Make ``renderer`` available as ``--format NAME``."""
    RENDERERS[name] = renderer


def render(report: Report, format: str = "text", quiet: bool = False, plot: str | None = None) -> str:
    """The report in an output format from :data:`RENDERERS`."""
    if format not in RENDERERS:
        from ..errors import UsageError

        raise UsageError(f"unknown output format '{format}' (choose from {', '.join(RENDERERS)})")
    if plot is None:  # renderers registered as ``render(report, quiet=False)`` keep working
        return RENDERERS[format](report, quiet=quiet)
    return RENDERERS[format](report, quiet=quiet, plot=plot)
