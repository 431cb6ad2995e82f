"""Fuzzing the outputs: hostile names and extreme values through every renderer and every write.

Each generated or mutated log goes through ``analyze`` in every format, ``plot`` to SVG, and two
attempts to write onto the log itself. Counted per input (all must stay 0): tracebacks, internal
errors, hangs (> 20 s), silent misreads (a column's first/last value in the JSON differs from what
was written under that name), escapes (a control character in a terminal/Markdown/GitHub output, a
tag or link from a name in the Markdown's HTML, an ill-formed SVG, an invalid SARIF), and outputs
written where they must not be (the log changed or a file appeared next to it).

Small budget in CI; the large one, whose numbers are in benchmarks/RESULTS.md:

    CURVECHECK_FUZZ_EXAMPLES=400 CURVECHECK_FUZZ_REPORT=fuzz_outputs.json pytest tests/test_fuzz_outputs.py
"""

import csv
import io
import json
import math
import os
import time
import xml.dom.minidom
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from curvecheck.cli import app

from .conftest import DATA, SAMPLES

EXAMPLES = int(os.environ.get("CURVECHECK_FUZZ_EXAMPLES", "5"))
# shrinking re-runs the CLI hundreds of times; CURVECHECK_FUZZ_SHRINK=0 reports the first failure as found
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if os.environ.get("CURVECHECK_FUZZ_SHRINK",
                                                                                           "1") != "0" else [])
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, phases=PHASES,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SARIF_SCHEMA = json.loads((DATA / "schemas" / "sarif-2.1.0-rtm.5.json").read_text())
HANG_SECONDS = 20.0
COUNTS: Counter = Counter()
MD = MarkdownIt("commonmark", {"html": True}).enable("table")
OUR_TAGS = {"details", "summary", "br", "table", "thead", "tbody", "tr", "th", "td", "p", "h3", "strong", "code",
            "ul", "li", "img"}

hostile_char = st.sampled_from(list("\x1b\x07\x00\x9b\u202e\n\r\t[]$<>|`*_&\"'#/\\:,%=") + ["]8;;", "[2J", "[/link]"])
name = st.lists(st.one_of(st.sampled_from(["val_", "loss", "acc", "iou", "lr", "epoch_"]), hostile_char,
                          st.text(max_size=3)), min_size=1, max_size=6).map("".join)
value = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                  st.sampled_from([1e308, -1e308, 1.7976931348623157e308, 5e-324, 0.0, 1e-300]),
                  st.floats(0, 1))


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    target = os.environ.get("CURVECHECK_FUZZ_REPORT")
    if target:
        Path(target).write_text(json.dumps(dict(COUNTS), indent=2, sort_keys=True) + "\n")


def invoke(*args):
    runner = CliRunner()
    start = time.monotonic()
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=True)
    if time.monotonic() - start > HANG_SECONDS:
        COUNTS["hangs"] += 1
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        COUNTS["tracebacks"] += 1
        raise AssertionError(f"{args}: {type(result.exception).__name__}: {result.exception}")
    return result


def no_controls(text: str) -> bool:
    return not any((ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) < 0xa0 or c == "\u202e" for c in text)


def markdown_safe(md: str) -> bool:
    html = MD.render(md)
    tags = {t.lower() for t in __import__("re").findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html)}
    return tags <= OUR_TAGS and html.count("<img") == md.count("![")


def check_outputs(log: Path, written: dict[str, list[float]] | None = None) -> None:
    COUNTS["inputs"] += 1
    before = log.read_bytes()
    siblings = sorted(p.name for p in log.parent.iterdir())
    out_dir = log.parent.parent / "out"
    out_dir.mkdir(exist_ok=True)
    for fmt in ("text", "json", "markdown", "github", "sarif"):
        res = invoke("analyze", log, "--format", fmt)
        assert res.exit_code in (0, 1, 2), res.exit_code
        if res.exit_code == 2:
            if "internal error" in res.stderr:
                COUNTS["internal_errors"] += 1
            assert res.stderr.count("\n") >= 1 and no_controls(res.stderr), res.stderr
            if fmt == "text":
                COUNTS["rejected_inputs"] += 1
            continue
        out = res.stdout
        ok = True
        if fmt in ("text", "markdown", "github"):
            ok = no_controls(out)
        if fmt == "markdown":
            ok = ok and markdown_safe(out)
        if fmt == "sarif":
            try:
                jsonschema.validate(json.loads(out), SARIF_SCHEMA)
            except jsonschema.ValidationError:
                ok = False
        if fmt == "json" and written:
            doc = json.loads(out)["runs"][0]
            for s in doc["series"]:
                col = written.get(s["name"])
                finite = [v for v in col or [] if math.isfinite(v)]
                if col and len(finite) == len(col) and len(col) == s["points"] \
                        and (s["first"] != finite[0] or s["last"] != finite[-1]):
                    COUNTS["silent_misreads"] += 1
                    raise AssertionError(f"{s['name']!r}: {s['first']}..{s['last']} vs {finite[0]}..{finite[-1]}")
        if not ok:
            COUNTS["escapes"] += 1
            raise AssertionError(f"{fmt} output of {log} lets a name through unescaped:\n{out[:2000]}")
    res = invoke("plot", log, "-o", out_dir / "fig.svg", "--force")
    if res.exit_code == 0:
        xml.dom.minidom.parse(str(out_dir / "fig.svg"))
    elif "internal error" in res.stderr:
        COUNTS["internal_errors"] += 1
    for attempt in (("plot", log, "-o", log, "--force"), ("analyze", log, "--format", "json", "--output", log)):
        res = invoke(*attempt)
        if res.exit_code != 2:
            COUNTS["bad_writes"] += 1
    if log.read_bytes() != before or sorted(p.name for p in log.parent.iterdir()) != siblings:
        COUNTS["bad_writes"] += 1
        raise AssertionError(f"an output touched {log.parent}")


def write_csv(path: Path, header: list[str], rows: list[list[float]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([repr(v) for v in r])
    path.write_text(buf.getvalue(), encoding="utf-8")


@FUZZ
@given(names=st.lists(name, min_size=1, max_size=5, unique=True), n=st.integers(1, 30), data=st.data())
def test_hostile_names_and_extreme_values(tmp_path_factory, names, n, data):
    names = [nm for nm in names if nm.strip() and nm != "epoch"] or ["loss"]
    logs = tmp_path_factory.mktemp("fuzz") / "logs"
    logs.mkdir()
    columns = {nm: data.draw(st.lists(value, min_size=n, max_size=n)) for nm in names}
    rows = [[float(e)] + [columns[nm][e] for nm in names] for e in range(n)]
    log = logs / "history.csv"
    write_csv(log, ["epoch", *names], rows)
    check_outputs(log, columns)


REAL = [SAMPLES / "overfitting_mlp.csv", SAMPLES / "nan_divergence.csv", SAMPLES / "overfitting_mlp_history.json"]


@FUZZ
@given(source=st.sampled_from(REAL), cut=st.floats(0.05, 1.0), flips=st.lists(st.tuples(st.floats(0, 1),
       st.integers(0, 255)), max_size=4), rename=st.tuples(st.sampled_from(["val_loss", "loss", "accuracy"]), name))
def test_mutated_real_logs(tmp_path_factory, source, cut, flips, rename):
    data = bytearray(source.read_bytes())
    old, new = rename
    if source.suffix == ".csv":
        head, _, rest = bytes(data).partition(b"\n")
        data = bytearray(head.replace(old.encode(), new.encode("utf-8", "replace").replace(b",", b";")) + b"\n" + rest)
    data = data[: max(1, int(len(data) * cut))]
    for where, byte in flips:
        data[min(len(data) - 1, int(where * len(data)))] = byte
    logs = tmp_path_factory.mktemp("mutated") / "logs"
    logs.mkdir()
    log = logs / source.name
    log.write_bytes(bytes(data))
    check_outputs(log)
