"""GitHub Actions output: workflow commands that show findings as annotations, and the step summary.

``::error file=history.csv,title=CC101 non-finite::loss is NaN from epoch 12`` makes the finding an
annotation on the run's page (and on the file in a pull request when the log is in the repository).
When ``$GITHUB_STEP_SUMMARY`` is set, the Markdown report is appended to it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..names import terminal_text, workflow_command_data, workflow_command_property

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _file_property(source: str) -> str:
    """The log's path relative to the workspace (so the annotation attaches to the file)."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    path = source
    if workspace:
        try:
            rel = Path(source).resolve().relative_to(Path(workspace).resolve())
            path = rel.as_posix()
        except (ValueError, OSError, RuntimeError):
            pass
    return workflow_command_property(terminal_text(path))


def command(level: str, source: str, title: str, message: str) -> str:
    """One workflow command (``::error file=...,title=...::message``) on one line."""
    return (f"::{level} file={_file_property(source)},title={workflow_command_property(terminal_text(title))}::"
            f"{workflow_command_data(terminal_text(message))}")


def finding_commands(source: str, findings: list) -> list[str]:
    out = []
    for f in findings:
        message = f.message + (f" What to do: {f.advice}" if f.advice else "")
        out.append(command(_LEVEL.get(f.severity, "notice"), source, f"{f.code} {f.name}", message))
    return out


def append_step_summary(markdown: str, inputs: list | None = None) -> Path | None:
    """Append to ``$GITHUB_STEP_SUMMARY`` when set (the runner creates the file; we only append)."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    from ..output import OutputRefused, input_inodes

    separator = ""
    try:
        st = path.stat()
        if (st.st_dev, st.st_ino) in input_inodes(inputs or []):
            raise OutputRefused(path, "GITHUB_STEP_SUMMARY is a log being read: not appending to it")
        # a blank line ends the previous step's Markdown (an open <details> block would swallow our heading)
        separator = "\n" if st.st_size else ""
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise OutputRefused(path, f"cannot append the step summary: {exc.strerror or exc}") from None
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(separator + (markdown if markdown.endswith("\n") else markdown + "\n"))
    except OSError as exc:
        raise OutputRefused(path, f"cannot append the step summary: {exc.strerror or exc}") from None
    return path


def render_analysis(report, text: str) -> str:
    """Annotations for every finding, then the plain text report for the job log."""
    lines = [c for run in report.runs for c in finding_commands(run.source, run.findings)]
    return "\n".join(lines + [text.rstrip()]) + "\n"


def render_recommendation(rec, source: str, findings: list, text: str) -> str:
    lines = finding_commands(source, findings)
    if rec.epoch is not None:
        values = ", ".join(f"{k} {v:.4g}" for k, v in rec.value.items())
        lines.append(command("notice", source, "recommend-stop", f"keep epoch {rec.epoch:g} ({values}). {rec.reason}"))
    return "\n".join(lines + [text.rstrip()]) + "\n"


def render_comparison(gates: list, text: str, sweep=None) -> str:
    """Annotations for failed gates and for each run of a sweep with findings (worst severity
    first; the findings themselves are in ``curvecheck analyze``), then the text report."""
    lines = [command("error", g.candidate, "curvecheck gate", f"worse than {g.baseline}: {'; '.join(g.failed)}")
             for g in gates if not g.passed]
    runs = [(g.candidate, g.findings, "candidate") for g in gates]
    for entry in sweep.entries if sweep is not None else []:
        lr = f"lr {entry.lr:g}" if entry.lr is not None else "lr unknown"
        runs.append((entry.source, entry.findings, f"{lr}: {entry.verdict.replace('_', ' ')}"))
    for source, counts, what in runs:
        worst = next((sev for sev in _LEVEL if counts.get(sev)), None)
        if worst is not None:
            listed = ", ".join(f"{counts[sev]} {sev}" for sev in _LEVEL if counts.get(sev))
            lines.append(command(_LEVEL[worst], source, "curvecheck compare",
                                 f"{what}; findings: {listed} (details: curvecheck analyze {source})"))
    return "\n".join(lines + [text.rstrip()]) + "\n"
