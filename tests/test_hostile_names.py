"""Names are data: a log's series names reach every output escaped for it, and JSON keeps them exactly.

Also the audit's CLI edge cases: several logs with some unreadable, a newline in a path, "nothing to
plot", short-run sparklines, values near 1e308 and ``$...$`` in a name.
"""

import csv
import json
import os
import subprocess
import sys
import xml.dom.minidom

import pytest
from markdown_it import MarkdownIt

from curvecheck.names import markdown_text, terminal_text
from curvecheck.render.terminal import sparkline

from .conftest import SAMPLES

OSC_TITLE = "acc\x1b]0;pwned\x07"
CLEAR = "val_acc\x1b[2J"
HYPERLINK = "val_\x1b]8;;http://evil.example/\x07iou\x1b]8;;\x07"
MARKUP = "val_[link=http://evil.example]loss[/link]"
MATH = "$\\frac{a}{b}$_dice"
TAG = "<img src=x onerror=alert(1)>_f1"
PIPE = "val_|f1|"
HOSTILE = [OSC_TITLE, CLEAR, HYPERLINK, MARKUP, MATH, TAG, PIPE]


def cli(*args, cwd=None):
    env = {"PATH": os.environ["PATH"], "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "curvecheck", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env)


@pytest.fixture(scope="module")
def hostile_log(tmp_path_factory):
    """A Keras-style history whose column names attack the terminal, Markdown, HTML, XML and mathtext."""
    path = tmp_path_factory.mktemp("hostile") / "history.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["epoch", "loss", *HOSTILE])
        for e in range(20):
            w.writerow([e, 1 / (e + 1), 0.5 + e / 50, 0.5 + e / 60, 0.3 + e / 100, 1 / (e + 1) + 0.01 * e,
                        0.2 + e / 90, 0.1 + e / 80, 0.2 + e / 70])
    return path


def test_json_keeps_the_exact_names(hostile_log):
    res = cli("analyze", hostile_log, "--json")
    names = {s["name"] for s in json.loads(res.stdout)["runs"][0]["series"]}
    assert set(HOSTILE) <= names


def test_terminal_output_has_no_control_characters_and_no_markup(hostile_log):
    res = cli("analyze", hostile_log)
    assert res.returncode == 0, res.stderr
    assert "\x1b" not in res.stdout and "\x07" not in res.stdout
    assert "acc\\x1b]0;pwned\\x07" in res.stdout  # shown, escaped
    assert MARKUP in res.stdout  # printed as written, not interpreted as a Rich link


def test_recommend_stop_and_compare_escape_names_too(hostile_log):
    for args in (("recommend-stop", hostile_log, "--monitor", CLEAR), ("compare", hostile_log, hostile_log)):
        res = cli(*args)
        assert "\x1b" not in res.stdout + res.stderr and "internal error" not in res.stderr, res.stderr


def test_markdown_renders_names_as_text(hostile_log):
    out = cli("analyze", hostile_log, "--format", "markdown").stdout
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(out)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<a " not in html and "\x1b" not in html
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    table_rows = [r for r in rows if r.count("|") - r.count("\\|") != 7]  # series table: 6 columns
    assert all(r.count("|") - r.count("\\|") == 5 for r in table_rows), table_rows  # findings: 4 columns


def test_markdown_text_escapes_inline_syntax():
    html = MarkdownIt("commonmark").render(markdown_text("*a* _b_ [x](http://y) `c` <b>d</b> $m$ a|b"))
    assert html.strip() == "<p>*a* _b_ [x](http://y) `c` &lt;b&gt;d&lt;/b&gt; $m$ a|b</p>"


def test_svg_stays_well_formed_and_math_stays_text(hostile_log, tmp_path):
    fig = tmp_path / "fig.svg"
    res = cli("plot", hostile_log, "-o", fig)
    assert res.returncode == 0, res.stderr
    doc = xml.dom.minidom.parse(str(fig))  # raises on ill-formed XML
    text = " ".join(t.firstChild.data for t in doc.getElementsByTagName("text") if t.firstChild)
    assert "$\\frac{a}{b}$_dice" in text or "\\frac{a}{b}" in text
    assert cli("plot", hostile_log, "-o", tmp_path / "fig.png").returncode == 0  # mathtext would raise


def test_sarif_and_github_escape_names(hostile_log, tmp_path):
    res = cli("analyze", hostile_log, "--format", "github")
    assert "\x1b" not in res.stdout
    assert all("\n" not in line for line in res.stdout.splitlines())
    doc = json.loads(cli("analyze", hostile_log, "--format", "sarif").stdout)
    assert all("\x1b" not in r["message"]["text"] for r in doc["runs"][0]["results"])


def test_terminal_text_shows_every_control_character():
    assert terminal_text("a\nb\x1b\u202e\x9b") == "a\\nb\\x1b\\u202e\\x9b"
    assert terminal_text("plain (name) [x]") == "plain (name) [x]"


def test_several_logs_each_bad_one_gets_its_line_and_the_others_are_reported(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    good = SAMPLES / "overfitting_mlp.csv"
    res = cli("analyze", "missing.csv", good, empty)
    assert res.returncode == 2
    errors = res.stderr.splitlines()
    assert len(errors) == 2 and "missing.csv" in errors[0] and "empty.csv" in errors[1]
    assert str(good) in res.stdout and "CC201" in res.stdout
    res = cli("plot", good, "missing.csv", "-o", tmp_path / "f.png")
    assert res.returncode == 2 and res.stderr.count("\n") == 1  # main's api.plot stops at the bad log
    sweep = sorted((SAMPLES / "lr_sweep").glob("*.csv"))
    res = cli("compare", *sweep, "missing.csv")
    assert res.returncode == 2 and res.stderr.count("\n") == 1  # main's api.compare stops at the bad log


def test_a_newline_in_a_path_does_not_break_the_one_line_error(tmp_path):
    res = cli("analyze", tmp_path / "bad\nname.csv")
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "bad\\nname.csv" in res.stderr


def test_nothing_to_plot_names_the_file(tmp_path):
    log = tmp_path / "counters.csv"
    log.write_text("epoch,samples,batches\n" + "".join(f"{e},{e * 10 + 3},{e * 5 + 1}\n" for e in range(10)))
    res = cli("plot", log, "-o", tmp_path / "f.png")
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "counters.csv" in res.stderr and "nothing to plot" in res.stderr


def test_sparkline_spans_the_whole_short_run():
    diverging = [1.0, 0.8, 0.6, 0.5, 0.45, 0.5, 0.9, 2.0, 5.0, 9.0]
    line = sparkline(diverging)
    assert len(line) == 10 and line[0] != "█" and line[-1] == "█"
    assert sparkline(list(range(30)), 24)[-1] == "█" and len(sparkline(list(range(30)), 24)) == 24
    assert sparkline([1.0, float("nan"), 3.0]) == "▁·█"


def test_values_near_float_max_do_not_break_report_or_plot(tmp_path):
    log = tmp_path / "huge.csv"
    rows = [f"{e},{1e308 if e % 2 else -1e308},{1.7e308 - e * 1e300},{0.5 + e / 100}" for e in range(12)]
    log.write_text("epoch,loss,val_loss,accuracy\n" + "\n".join(rows) + "\n")
    for args in (("analyze", log), ("analyze", log, "--format", "markdown"), ("plot", log, "-o", tmp_path / "h.png")):
        res = cli(*args)
        assert res.returncode in (0, 1) and "internal error" not in res.stderr, (args, res.stderr)
    assert sparkline([1e308, -1e308, 1.7e308])  # no overflow to inf/nan inside


def test_fuzz_found_span_that_made_matplotlib_singular(tmp_path):
    """Found by tests/test_fuzz_outputs.py: this mix of 1e308, 1e278 and denormals crashed plot."""
    a = [0.7023064650913172, 5e-324, -1e+308, 5e-324, -7.659475770850388e-249, -6.933296172203077e+16,
         -3.402823466e+38, 1.192092896e-07, 7.313447687577107e-183, 0.8981385827565733, -2.0088814001170748e-32,
         0.0, -3.894466526000031e+278, -1.4571990801013736e+214, 1.7976931348623157e+308, 0.10159755999287004, 1e-300]
    b = [1171071675106.3164, 0.0, 0.5, 0.877035455451693, 0.659484376097185, 1e+308, -1.5, 1e+308, 5e-324,
         0.5160723149332601, 0.7514934430094227, 0.9654185956358856, -9.154291579916775e+235, 0.0,
         1.7976931348623157e+308, 3.360875359109497e-176, 1.1125369292536007e-308]
    log = tmp_path / "history.csv"
    log.write_text("epoch,loss,val_acc,val_loss\n" + "".join(f"{e},{a[e]!r},{b[e]!r},{a[e]!r}\n" for e in range(17)))
    res = cli("plot", log, "-o", tmp_path / "f.svg", "--fail-on", "never")  # its findings are not the point
    assert res.returncode == 0, res.stderr


def test_a_newline_in_a_path_is_one_line_for_every_command(tmp_path):
    odd = tmp_path / "bad\nname.csv"
    odd.write_text("")
    good = SAMPLES / "overfitting_mlp.csv"
    for args in (("recommend-stop", odd), ("compare", good, "--baseline", odd), ("compare", odd, good),
                 ("plot", odd, "-o", tmp_path / "x.png"), ("analyze", odd)):
        res = cli(*args)
        assert res.returncode == 2 and res.stderr.count("\n") == 1 and "bad\\nname.csv" in res.stderr, (args, res.stderr)
