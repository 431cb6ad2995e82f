"""Fuzzing every reader with mutated real files (issue 14 item 5).

Each reader gets a small real file of its format (the first lines of a file in tests/data) and:
1. truncation at every byte offset (a plain loop: every offset is tried at every budget);
2. byte flips; 3. header/column changes (renamed, repeated and appended headers, runs appended
with other columns, rows of another width); 4. hostile names (control characters, Rich markup,
``$...$`` mathtext, very long, not UTF-8); 5. extreme values (NaN, inf, 1e308, 1e309, 4,300-digit
integers, deep nesting, 20,000 keys).

Every input is classified (``classify``): ``ok`` (a Run that the checks analyse), ``rejected`` (an
InputError: one line naming the file), ``internal_errors`` (any other exception from the library,
or an error line that is a Python/numpy message rather than "FILE: what is wrong"), ``hangs`` (more
than HANG_SECONDS for one input), ``silent_misreads`` (a value that differs from the known truth:
a cut row read as data, a value under the wrong name, a changed TensorBoard record read without a
note), and through the CLI, ``tracebacks`` (an exception escaping the command) and ``bad_writes``
(``plot -o LOG`` or ``analyze --output LOG`` not refused, or the log's folder changed).

Small budget in CI (CURVECHECK_FUZZ_EXAMPLES, default 5 examples per strategy and reader); the
large one, whose numbers are in benchmarks/RESULTS.md ("Fuzzing (issue 14 item 5)"):

    CURVECHECK_FUZZ_EXAMPLES=400 CURVECHECK_FUZZ_SHRINK=0 CURVECHECK_FUZZ_REPORT=fuzz.json \\
        nice -n 10 pytest -q -p no:warnings tests/test_fuzz_readers.py tests/test_fuzz_outputs.py

With CURVECHECK_FUZZ_REPORT set, a failing input is counted and written to ``<report>_readers.json``
(with the input's bytes) instead of stopping the run; the module fails at the end if any was found.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import signal
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import curvecheck
from curvecheck.cli import app
from curvecheck.errors import InputError

from .conftest import CORPUS, WRITTEN

EXAMPLES = int(os.environ.get("CURVECHECK_FUZZ_EXAMPLES", "5"))
REPORT = os.environ.get("CURVECHECK_FUZZ_REPORT")
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] + ([Phase.shrink] if os.environ.get("CURVECHECK_FUZZ_SHRINK",
                                                                                           "1") != "0" else [])
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, phases=PHASES,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much])
HANG_SECONDS = 20
# the checks run on every truncated input at the large budget, on every 10th in CI (reading is the point)
ANALYZE_EVERY = 1 if EXAMPLES >= 100 else 10
CLI_EVERY = 4  # the CLI costs 50 ms a call: it runs on every 4th input of each reader
FAILURES = ("internal_errors", "tracebacks", "hangs", "silent_misreads", "bad_writes")
COUNTS: dict[str, Counter] = defaultdict(Counter)
FOUND: list[dict] = []


def _lines(path: Path, n: int) -> bytes:
    """The first ``n`` lines of a real file, line ends as written."""
    return b"".join(path.read_bytes().splitlines(keepends=True)[:n])


def _long_csv() -> bytes:
    """MLflow's ``key,value,timestamp,step`` export of the values of a real Keras run (no real export in tests/data)."""
    rows = list(csv.reader(io.StringIO((WRITTEN / "lr_runs/keras/healthy_improving.csv").read_text())))[:6]
    out = ["key,value,timestamp,step"]
    for r in rows[1:]:
        for name, cell in zip(rows[0][1:], r[1:], strict=True):
            out.append(f"{name},{cell},{1796086000000 + int(r[0])},{r[0]}")
    return ("\n".join(out) + "\n").encode()


def _jsonl() -> bytes:
    """Records of a real JSON Lines log from its last restart (line 4): one segment, steps 20-180."""
    path = CORPUS / "generic_jsonl/akawslearn-ai-slm_training__metrics.jsonl"
    return b"".join(path.read_bytes().splitlines(keepends=True)[3:12])


# reader -> (file name, bytes of a small real file of that format)
SOURCES: dict[str, tuple[str, bytes]] = {
    "keras_csv": ("training.log", _lines(WRITTEN / "lr_runs/keras/healthy_improving.csv", 6)),
    "keras_json": ("history.json",
                   (CORPUS / "keras_json/alperclk-Video-Event-Detection-With-LSTM__model_history.json").read_bytes()),
    "tensorboard": ("events.out.tfevents.1795402627.vm.2634.3.b",
                    (WRITTEN / "torch_restart/events.out.tfevents.1795402627.vm.2634.3.b").read_bytes()),
    "lightning_csv": ("metrics.csv", _lines(WRITTEN / "lr_runs/torch/healthy_improving/metrics.csv", 13)),
    "hf_trainer_state": ("trainer_state.json",
                         (CORPUS / "hf_trainer_state/Tashu014-lora-imdb-distilbert__trainer_state.json").read_bytes()),
    "jsonl": ("metrics.jsonl", _jsonl()),
    "long_csv": ("mlflow_metrics.csv", _long_csv()),
    "csv": ("training_history.csv", _lines(CORPUS / "generic_csv/Friday-1202-U-net__training_history.csv", 7)),
    "ultralytics_csv": ("results.csv",
                        _lines(CORPUS / "yolo_csv/DDSSMahith-Pothole-Segmentation-using-YOLOv8__results.csv", 5)),
}
TEXT_TABLES = ("keras_csv", "lightning_csv", "csv", "ultralytics_csv", "long_csv")
JSON_DOCS = ("keras_json", "hf_trainer_state", "jsonl")
LINE_FORMATS = (*TEXT_TABLES, "jsonl")  # a cut inside the last line must drop that line, nothing more
READERS = list(SOURCES)


# --- classifying one input -----------------------------------------------------------------------

class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


# Python's and numpy's own wording: an error line that says this is not "FILE: what is wrong"
_PYTHON_WORDING = re.compile(r"could not convert|invalid literal|has no attribute|index out of|NoneType|"
                             r"not subscriptable|unhashable|object of type|Traceback|\[Errno|cannot reshape|"
                             r"operands could not|unsupported operand|argument must be|out of bounds|"
                             r"exceeds the limit|maximum recursion")


def one_line_naming(message: str, path: Path) -> bool:
    return "\n" not in message and message.startswith(f"{path}: ") and not _PYTHON_WORDING.search(message)


def found(reader: str, kind: str, path: Path, detail: str) -> None:
    """Count a failure; stop at the first one unless a report was asked for (the large budget)."""
    COUNTS[reader][kind] += 1
    FOUND.append({"reader": reader, "kind": kind, "detail": detail[:500],
                  "input": path.read_bytes()[:4000].decode("latin-1") if path.is_file() else str(path)})
    if not REPORT:
        raise AssertionError(f"{reader}: {kind}: {detail}")


def classify(reader: str, path: Path, *, analyze: bool = True):
    """The Run read from ``path`` (None when rejected); every outcome is counted for ``reader``."""
    COUNTS[reader]["inputs"] += 1
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_SECONDS)
    try:
        run = curvecheck.load(path)
        if analyze:
            curvecheck.analyze(run)
    except Hang:
        found(reader, "hangs", path, f"more than {HANG_SECONDS} s")
        return None
    except InputError as exc:
        if not one_line_naming(str(exc), path):
            found(reader, "internal_errors", path, f"not a one-line 'FILE: problem': {exc}")
            return None
        COUNTS[reader]["rejected"] += 1
        return None
    except Exception as exc:  # noqa: BLE001 - counted: any exception but InputError is an internal error
        found(reader, "internal_errors", path, f"{type(exc).__name__}: {exc}")
        return None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    COUNTS[reader]["ok"] += 1
    return run


def check_cli(reader: str, path: Path) -> None:
    """The CLI on the same input: no exception escapes, and no output lands on the log, whether named
    as it is, through a hard link or through a symbolic link."""
    COUNTS[reader]["cli_seen"] += 1
    if COUNTS[reader]["cli_seen"] % CLI_EVERY:
        return
    COUNTS[reader]["cli_checked"] += 1
    before = path.read_bytes()
    siblings = sorted(p.name for p in path.parent.iterdir())
    out = path.parent.parent / "out"
    out.mkdir(exist_ok=True)
    for link in ("hard.svg", "soft.json"):
        (out / link).unlink(missing_ok=True)
    os.link(path, out / "hard.svg")
    (out / "soft.json").symlink_to(path)
    for args in (("analyze", path, "--format", "json"), ("plot", path, "-o", out / "hard.svg", "--force"),
                 ("analyze", path, "--format", "json", "--output", path),
                 ("analyze", path, "--format", "json", "--output", out / "soft.json")):
        res = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=True)
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            found(reader, "tracebacks", path, f"{args[0]}: {type(res.exception).__name__}: {res.exception}")
        elif res.exit_code == 2 and "internal error" in res.stderr:
            found(reader, "internal_errors", path, res.stderr)
        elif len(args) > 4 and res.exit_code != 2:
            found(reader, "bad_writes", path, f"{' '.join(map(str, args))} was not refused")
    if path.read_bytes() != before or sorted(p.name for p in path.parent.iterdir()) != siblings:
        found(reader, "bad_writes", path, f"an output changed {path.parent}")


def points(run) -> dict[str, tuple[list[float], list[float]]]:
    """{series: (x, values)}, NaN spelled so that it compares equal to itself."""
    def spell(a):
        return [repr(float(v)) for v in np.asarray(a, dtype=np.float64)]
    return {name: (spell(s.x), spell(s.values)) for name, s in run.series.items()}


def misread(reader: str, path: Path, detail: str) -> None:
    found(reader, "silent_misreads", path, detail)


# --- 1. truncation at every offset ---------------------------------------------------------------

def _line_cut(data: bytes, k: int) -> bytes:
    """The complete lines of ``data[:k]`` (a line ends with \\n or \\r)."""
    end = max(data.rfind(b"\n", 0, k), data.rfind(b"\r", 0, k))
    return data[: end + 1]


def _rewritable(folder: Path, name: str):
    """A file and a function that gives it new content: a new file under the same name (truncating a
    file and writing it again makes ext4 flush it to disk: 3 ms an offset instead of 0.1)."""
    path = _write(folder, name, b"")

    def rewrite(content: bytes) -> None:
        path.unlink()
        path.write_bytes(content)

    return path, rewrite


def _complete_part(reader: str, data: bytes, k: int) -> bytes:
    """What of ``data[:k]`` is known to be complete: its whole lines, and for JSON Lines also a last
    line that is a whole object (its closing brace proves it was not cut)."""
    lines = _line_cut(data, k)
    if reader == "jsonl":
        try:
            if isinstance(json.loads(data[len(lines):k]), dict):
                return data[:k]
        except ValueError:
            pass
    return lines


def _load_or_none(path: Path):
    try:
        return curvecheck.load(path)
    except InputError:
        return None


@pytest.mark.parametrize("reader", READERS)
def test_truncation_at_every_offset(tmp_path, reader):
    """A log cut at any byte reads as the complete part of it (the partial last row dropped, with a
    note), or is rejected in one line; never a cut value read as data."""
    name, data = SOURCES[reader]
    truth = curvecheck.load(_write(tmp_path / "full", name, data))
    assert truth.format == reader
    full = points(truth)
    path, cut = _rewritable(tmp_path / "cut", name)
    whole_lines, complete_lines = _rewritable(tmp_path / "lines", name)
    for k in range(len(data)):
        cut(data[:k])
        run = classify(reader, path, analyze=k % ANALYZE_EVERY == 0)
        if run is None:
            continue
        got = points(run)
        if reader in LINE_FORMATS:
            complete = _complete_part(reader, data, k)
            complete_lines(complete)
            expected = _load_or_none(whole_lines)
            want = points(expected) if expected is not None else None
            if got != want:
                misread(reader, path, f"cut at byte {k}: read {got} where the complete lines give {want}")
            elif data[len(complete):k].strip(b" \t\r\n,") and not any(
                    n.kind in ("partial_row", "bad_cells") for n in run.notes):
                misread(reader, path, f"cut at byte {k}: the partial last line was dropped without a note")
        elif reader == "tensorboard":
            for tag, (x, v) in got.items():
                fx, fv = full.get(tag, ([], []))
                if x != fx[: len(x)] or v != fv[: len(v)]:
                    misread(reader, path, f"cut at byte {k}: {tag} is not a prefix of the full file's curve")
        elif got != full:  # one JSON document: only a cut in trailing whitespace can still be read
            misread(reader, path, f"cut at byte {k}: read a JSON document that is cut")


def _write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def _fresh(tmp_path_factory, name: str, data: bytes) -> Path:
    return _write(tmp_path_factory.mktemp("fuzz") / "logs", name, data)


# --- 2. byte flips -------------------------------------------------------------------------------

_DAMAGE_NOTES = ("corrupt", "truncated", "unreadable")


@FUZZ
@pytest.mark.parametrize("reader", READERS)
@given(flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=4))
def test_byte_flips(tmp_path_factory, reader, flips):
    """Flipped bytes: read, or rejected in one line. TensorBoard records carry CRCs: a changed record
    is skipped and reported, never read as a different curve."""
    name, data = SOURCES[reader]
    mutated = bytearray(data)
    for where, xor in flips:
        mutated[int(where * len(data))] ^= xor
    path = _fresh(tmp_path_factory, name, bytes(mutated))
    run = classify(reader, path)
    if run is not None and reader == "tensorboard" and not any(n.kind in _DAMAGE_NOTES for n in run.notes):
        truth = points(curvecheck.load(_fresh(tmp_path_factory, name, data)))
        if points(run) != truth:
            misread(reader, path, f"flips {flips}: a different curve read without a note")
    check_cli(reader, path)


# --- 3. header and column changes ----------------------------------------------------------------

def _table(data: bytes) -> tuple[str, list[list[str]], str]:
    text = data.decode("utf-8")
    delimiter = ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return delimiter, rows, "\r\n" if "\r\n" in text else "\n"


def _render(rows: list[list[str]], eol: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=eol).writerows(rows)
    return buf.getvalue().encode("utf-8")


TABLE_CHANGES = ("repeat_header", "append_with_new_column", "append_without_a_column", "append_wider_rows_no_header",
                 "append_narrower_rows_no_header", "duplicate_column_name", "blank_header_cell", "reorder_columns")


@FUZZ
@pytest.mark.parametrize("reader", [r for r in TEXT_TABLES if r != "long_csv"])
@given(change=st.sampled_from(TABLE_CHANGES), column=st.integers(1, 30), data=st.data())
def test_header_and_column_changes(tmp_path_factory, reader, change, column, data):
    """Appended runs are split on a repeated or new header and each row is read under its own header;
    rows of another width without a header are left out, never read under the wrong names."""
    name, raw = SOURCES[reader]
    _, rows, eol = _table(raw)
    header, body = rows[0], rows[1:]
    j = 1 + column % (len(header) - 1)
    second = [list(r) for r in body]
    expect: dict[str, list[str]] | None = None  # column -> cells the last run must read, when known
    if change == "repeat_header":  # pandas to_csv(mode="a")
        new = [header, *body, header, *second]
        expect = {h.strip(): [r[i] for r in second] for i, h in enumerate(header)}
    elif change == "append_with_new_column":  # CSVLogger(append=True) after the model gained a metric
        h2 = header + ["learning_rate"]
        rows2 = [r + [repr(0.001 * (i + 1))] for i, r in enumerate(second)]
        new = [header, *body, h2, *rows2]
        expect = {h.strip(): [r[i] for r in rows2] for i, h in enumerate(h2)}
    elif change == "append_without_a_column":
        h2 = header[:j] + header[j + 1:]
        rows2 = [r[:j] + r[j + 1:] for r in second]
        new = [header, *body, h2, *rows2]
        expect = {h.strip(): [r[i] for r in rows2] for i, h in enumerate(h2)}
    elif change == "append_wider_rows_no_header":  # CSVLogger(append=True) writes no second header
        new = [header, *body, *[r + ["0.5"] for r in second]]
    elif change == "append_narrower_rows_no_header":
        new = [header, *body, *[r[:j] + r[j + 1:] for r in second]]
    elif change == "duplicate_column_name":
        new = [header[:j] + [header[1 if j != 1 else 2 % len(header)]] + header[j + 1:], *body]
    elif change == "blank_header_cell":
        new = [header[:j] + [""] + header[j + 1:], *body]
    else:
        order = data.draw(st.permutations(range(len(header))))
        new = [[r[i] if i < len(r) else "" for i in order] for r in rows]
        expect = None
    path = _fresh(tmp_path_factory, name, _render(new, eol))
    run = classify(reader, path)
    if run is not None:
        _check_columns(reader, path, run, expect, change)
        if change.endswith("no_header"):
            truth = curvecheck.load(_fresh(tmp_path_factory, name, raw))
            for s in run.series.values():  # the appended rows are left out: every value is the file's own
                if s.name in truth.series and len(s) > len(truth[s.name]):
                    misread(reader, path, f"{change}: rows without a header read under '{s.name}'")
    check_cli(reader, path)


def _check_columns(reader: str, path: Path, run, expect, change: str) -> None:
    if expect is None or run.selected_segment not in (None, len(run.segments)):
        return
    for col, cells in expect.items():
        if col not in run.series or not cells:
            continue
        want = [float(c) if c.strip() else math.nan for c in cells]
        got = run[col].values.tolist()
        tail = got[-len(want):] if len(got) >= len(want) else None
        differs = tail is None or not np.array_equal(np.array(tail), np.array(want), equal_nan=True)
        if differs and not all(math.isnan(w) for w in want):
            misread(reader, path, f"{change}: '{col}' of the appended run reads {got}, its rows say {want}")


# --- 4. hostile names ----------------------------------------------------------------------------

_HOSTILE = ["\x1b]0;title\x07", "\x1b[2J", "\x1b]8;;http://x\x1b\\", "[link=http://x]", "[/link]", "[bold]",
            "$\\frac{a}{b}$", "$x^2$", "\x00", "\r", "\n", "\t", "\u202e", "\x9b", "<svg>", "&amp;", "\"", "'", "`",
            "|", "\\", "%s", "{}", "..", "/", ","]
hostile_name = st.one_of(
    st.lists(st.one_of(st.sampled_from(["val_", "loss", "acc", "train/", "lr"]), st.sampled_from(_HOSTILE),
                       st.text(max_size=4)), min_size=1, max_size=6).map("".join),
    st.integers(300, 20_000).map(lambda n: "val_loss_" + "x" * n),  # very long
)


def _rename(reader: str, data: bytes, old: str, new: bytes) -> bytes:
    """``data`` with the name ``old`` replaced by ``new`` (bytes: not always UTF-8), quoted for the format."""
    if reader in JSON_DOCS:
        quoted = json.dumps(new.decode("utf-8", "surrogateescape"), ensure_ascii=False).encode("utf-8",
                                                                                               "surrogateescape")
        return data.replace(json.dumps(old).encode(), quoted)
    head, eol, rest = data.partition(b"\n")
    cell = b'"' + new.replace(b'"', b'""') + b'"'
    if reader == "long_csv":
        return head + eol + re.sub(rb"(^|\n)" + re.escape(old.encode()) + rb",", lambda m: m.group(1) + cell + b",",
                                   rest)
    return head.replace(old.encode(), cell, 1) + eol + rest


def _names(reader: str) -> list[str]:
    if reader == "keras_json":
        return []  # a Python dict repr inside a JSON string: renamed through the text below
    if reader in JSON_DOCS:
        return ["loss", "eval_loss", "learning_rate", "lr"]
    if reader == "long_csv":
        return ["loss", "val_loss", "accuracy"]
    return [h.strip() for h in SOURCES[reader][1].split(b"\n", 1)[0].decode().rstrip("\r").split(",")
            if h.strip() and h.strip().lower() not in ("epoch", "step")]


@FUZZ
@pytest.mark.parametrize("reader", [r for r in READERS if r != "tensorboard"])
@given(new=hostile_name, which=st.integers(0, 30), latin1=st.booleans())
def test_hostile_names(tmp_path_factory, reader, new, which, latin1):
    """A column or key renamed to markup, control characters, mathtext, 20,000 characters or bytes that
    are not UTF-8: the values under it are read as they are, and the CLI writes nothing onto the log."""
    name, data = SOURCES[reader]
    raw_new = new.encode("latin-1", "replace") if latin1 else new.encode("utf-8", "surrogatepass")
    if reader == "keras_json":
        old = "val_loss"
        mutated = data.replace(f"'{old}'".encode(), ("'" + new.replace("\\", "").replace("'", "")
                                                     .replace('"', "") + "'").encode("utf-8", "replace"))
    else:
        names = _names(reader)
        old = names[which % len(names)]
        mutated = _rename(reader, data, old, raw_new)
    path = _fresh(tmp_path_factory, name, mutated)
    run = classify(reader, path)
    if run is not None and mutated != data:
        truth = [v for _x, v in points(curvecheck.load(_fresh(tmp_path_factory, name, data))).values()]
        # computed series (Ultralytics' fitness) follow the columns they are made of, renamed or not
        derived = {"fitness"} if any(n.kind == "derived_fitness" for n in run.notes) else set()
        for tag, (_x, v) in points(run).items():  # every curve read is one of the file's, values unchanged
            if v not in truth and tag not in derived:
                misread(reader, path, f"'{tag}' reads values no curve of the file has")
    check_cli(reader, path)


@FUZZ
@given(tags=st.lists(hostile_name, min_size=1, max_size=3, unique=True))
def test_hostile_tensorboard_tags(tmp_path_factory, tags):
    """A real writer (tensorboardX) logs the real file's values under hostile tags."""
    from tensorboardX import SummaryWriter

    name, data = SOURCES["tensorboard"]
    truth = curvecheck.load(_fresh(tmp_path_factory, name, data))
    values = next(iter(truth.series.values()))
    folder = tmp_path_factory.mktemp("tb") / "logs"
    w = SummaryWriter(str(folder), flush_secs=3600)
    for tag in tags:
        for step, v in zip(values.x, values.values, strict=True):
            w.add_scalar(tag, float(v), int(step))
    w.close()
    path = next(folder.iterdir())
    run = classify("tensorboard", path)
    if run is not None:
        want = [repr(float(v)) for v in values.values]
        for s in run.series.values():
            if [repr(float(v)) for v in s.values] != want:
                misread("tensorboard", path, f"tag {s.name!r} reads {s.values.tolist()}")
    check_cli("tensorboard", path)


# --- 5. extreme values ---------------------------------------------------------------------------

_CSV_TOKENS = ["nan", "NaN", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e309", "-1e999", "9" * 4300,
               "-" + "9" * 4300, "1.7976931348623157e308", "5e-324", "0", "-0.0", "1e-400", "NA", "", "null"]
_JSON_TOKENS = ["NaN", "Infinity", "-Infinity", "1e308", "-1e308", "1e309", "-1e999", "9" * 4300, "-" + "9" * 4300,
                "1.7976931348623157e308", "5e-324", "0", "-0.0", "1e-400", "null", "[[[[[[[[0.5]]]]]]]]",
                "[" * 1000 + "]" * 1000, "{\"a\": " * 500 + "1" + "}" * 500, "true", "\"0.5\""]


def _expected(token: str) -> float | None:
    """What a cell or JSON value written as ``token`` must read as; None when it is a gap or not a number."""
    if token in ("NA", "", "null"):
        return None
    try:
        return float(token)
    except ValueError:
        return None


@FUZZ
@pytest.mark.parametrize("reader", [r for r in READERS if r not in ("tensorboard", "keras_json")])
@given(token=st.sampled_from(_CSV_TOKENS), row=st.integers(0, 30), column=st.integers(0, 30))
def test_extreme_values(tmp_path_factory, reader, token, row, column):
    """One value replaced by NaN, inf, 1e308, 1e309, a 4,300-digit integer, deep nesting...: the value
    reads as what it is (inf beyond the float range), or the file is rejected in one line."""
    name, data = SOURCES[reader]
    if reader in JSON_DOCS:
        token = _JSON_TOKENS[(row * 31 + column) % len(_JSON_TOKENS)] if token not in _JSON_TOKENS else token
        mutated, where = _replace_json_value(reader, data, token, row, column)
    else:
        mutated, where = _replace_cell(reader, data, token, row, column)
    path = _fresh(tmp_path_factory, name, mutated)
    run = classify(reader, path)
    want = _expected(token) if not token.startswith(("[", "{", "\"", "true")) else None
    if run is not None and where is not None and want is not None:
        series, x = where
        s = run.series.get(series)
        if s is not None:
            hit = np.flatnonzero(s.x == x)
            if hit.size == 1 and repr(float(s.values[hit[0]])) != repr(want) and not (
                    math.isinf(want) and math.isinf(s.values[hit[0]]) and np.sign(want) == np.sign(s.values[hit[0]])):
                misread(reader, path, f"'{series}' at {x}: {token[:20]} read as {s.values[hit[0]]}")
    check_cli(reader, path)


def _replace_cell(reader: str, data: bytes, token: str, row: int, column: int):
    _, rows, eol = _table(data)
    header = [h.strip() for h in rows[0]]
    i = 1 + row % (len(rows) - 1)
    if reader == "long_csv":
        j = header.index("value")
        rows[i][j] = token
        return _render(rows, eol), (rows[i][0], float(rows[i][header.index("step")]))
    x_col = header.index("epoch") if "epoch" in header else 0
    j = column % len(header)
    if reader == "lightning_csv" and not rows[i][j].strip():
        return _render(rows, eol), None  # an empty cell of a sparse row: no value to replace
    rows[i][j] = token
    if j == x_col or header[j].lower() == "step" or reader == "lightning_csv":
        return _render(rows, eol), None  # the x-axis itself moved, or Lightning's epoch means: no single value
    return _render(rows, eol), (header[j], float(rows[i][x_col]))


def _replace_json_value(reader: str, data: bytes, token: str, row: int, column: int):
    marker = "@@FUZZ@@"
    if reader == "jsonl":
        records = [json.loads(ln) for ln in data.splitlines() if ln.strip()]
        rec = records[row % len(records)]
        keys = [k for k in rec if k != "step"]
        key = keys[column % len(keys)]
        where = (key, float(rec["step"]))
        rec[key] = marker
        text = "".join(json.dumps(r) + "\n" for r in records)
    else:
        doc = json.loads(data)
        entries = [e for e in doc["log_history"] if "train_runtime" not in e]
        entry = entries[row % len(entries)]
        keys = [k for k in entry if k not in ("step", "epoch")]
        key = keys[column % len(keys)]
        # several entries at one step are merged, so the value is checked only when its step is unique
        unique = sum(e.get("step") == entry["step"] for e in entries) == 1
        where = (key, float(entry["step"])) if unique else None
        entry[key] = marker
        text = json.dumps(doc, indent=2)
    return text.replace(json.dumps(marker), token).encode(), where


@FUZZ
@given(token=st.sampled_from(["nan", "inf", "-inf", "1e308", "1e309", "-1e999", "9" * 4300, "5e-324"]),
       which=st.integers(0, 30))
def test_extreme_values_in_a_keras_history(tmp_path_factory, token, which):
    """The Keras history here is a Python dict repr in a JSON string: values are Python literals."""
    name, data = SOURCES["keras_json"]
    numbers = list(re.finditer(rb"\d\.\d+", data))
    m = numbers[which % len(numbers)]
    path = _fresh(tmp_path_factory, name, data[: m.start()] + token.encode() + data[m.end():])
    classify("keras_json", path)
    check_cli("keras_json", path)


_TB_VALUES = [math.nan, math.inf, -math.inf, 3.4028234663852886e38, -3.4028234663852886e38, 1e308, 1.4e-45, 0.0, 0.5]


@FUZZ
@given(values=st.lists(st.one_of(st.sampled_from(_TB_VALUES), st.floats(width=32)), min_size=2, max_size=12),
       first_step=st.sampled_from([0, 1, -5, 2**31, 2**53 - 3, 2**62]), stride=st.sampled_from([1, 7, 2**20]))
def test_extreme_values_in_tensorboard(tmp_path_factory, values, first_step, stride):
    """A real writer (tensorboardX) logs NaN, inf, float32 max, 1e308 (inf in float32), denormals, at
    steps up to 2^62: each value reads as the float32 it was written as, at its own step."""
    from tensorboardX import SummaryWriter

    folder = tmp_path_factory.mktemp("tb") / "logs"
    w = SummaryWriter(str(folder), flush_secs=3600)
    steps = [first_step + k * stride for k in range(len(values))]
    for step, v in zip(steps, values, strict=True):
        w.add_scalar("val_loss", v, step)
    w.close()
    path = next(folder.iterdir())
    run = classify("tensorboard", path)
    if run is not None and "val_loss" in run.series:
        with np.errstate(over="ignore"):
            want = [repr(float(np.float32(v))) for v in values]
        got = points(run)["val_loss"]
        if got != ([repr(float(s)) for s in steps], want):
            misread("tensorboard", path, f"wrote {list(zip(steps, want))}, read {list(zip(*got))}")
    check_cli("tensorboard", path)


# --- extremes that are not a mutation of one value -----------------------------------------------

def _many_keys_json(n: int) -> bytes:
    return json.dumps({f"metric_{k}": [1.0 / (k + 1), 0.5 / (k + 1)] for k in range(n)}).encode()


EXTREMES = {
    "deep_json": ("keras_json", "history.json", b"[" * 100_000 + b"]" * 100_000),
    "deep_json_object": ("keras_json", "history.json", b'{"loss": ' * 50_000 + b"1" + b"}" * 50_000),
    "deep_trainer_state": ("hf_trainer_state", "trainer_state.json",
                           b'{"log_history": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"),
    "deep_jsonl_line": ("jsonl", "metrics.jsonl", b'{"step": 1, "loss": ' + b"[" * 100_000 + b"]" * 100_000
                        + b'}\n{"step": 2, "loss": 0.5}\n'),
    "20000_keys": ("keras_json", "history.json", _many_keys_json(20_000)),
    "4300_digit_integers": ("keras_json", "history.json",
                            b'{"loss": [' + b"9" * 4300 + b", 1" + b"0" * 5000 + b", 0.5]}"),
    "10000_columns": ("csv", "wide.csv", (",".join(f"m{k}" for k in range(10_000)) + "\n"
                                          + "\n".join(",".join(str(r + k / 1e4) for k in range(10_000))
                                                      for r in range(3)) + "\n").encode()),
    "one_cell_of_a_megabyte": ("csv", "big.csv", b"epoch,loss\n0,0.5\n1," + b"1" * 1_000_000 + b"\n"),
    "nul_bytes_in_a_csv": ("keras_csv", "log.csv", SOURCES["keras_csv"][1].replace(b"0.", b"0\x00.", 3)),
    "utf16_csv": ("keras_csv", "log.csv", SOURCES["keras_csv"][1].decode().encode("utf-16")),
}


@pytest.mark.parametrize("case", list(EXTREMES))
def test_extreme_documents(tmp_path, case):
    """Deep nesting, 20,000 keys, 10,000 columns, 4,300-digit integers: read or rejected in one line, in time."""
    reader, name, data = EXTREMES[case]
    path = _write(tmp_path / "logs", name, data)
    start = time.monotonic()
    classify(reader, path)
    assert time.monotonic() - start < HANG_SECONDS


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    if REPORT:
        target = Path(REPORT).with_name(Path(REPORT).stem + "_readers.json")
        table = {r: {k: c.get(k, 0) for k in ("inputs", "ok", "rejected", "cli_checked", *FAILURES)} for r, c in sorted(COUNTS.items())}
        target.write_text(json.dumps({"examples": EXAMPLES, "counts": table, "found": FOUND}, indent=1) + "\n")
        assert not FOUND, f"{len(FOUND)} failing input(s): see {target}"
