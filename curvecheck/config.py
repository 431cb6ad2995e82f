"""Configuration: defaults < config file < command-line flags, with where each value came from.

The file is ``curvecheck.toml`` (top-level keys) or the ``[tool.curvecheck]`` table of a
``pyproject.toml``, found by walking up from the working directory (the nearest directory that has
either wins; in one directory ``curvecheck.toml`` wins), or given with ``--config PATH``;
``--isolated`` ignores every file. Like ruff::

    [tool.curvecheck]
    select = ["CC1", "CC2"]          # or a comma-separated string
    ignore = ["CC103"]
    fail-on = "warning"              # error | warning | info | never
    direction = { val_wer = "min" }  # override a series' direction
    monitor = ["val_loss"]           # recommend-stop's (and analyze's recommendation) monitors
    strategy = "auto"                # recommend-stop's strategy
    fail-if = ["val_iou < -0.01"]    # compare --baseline's regression gate (when no --fail-if is given)
    max-points = 20000               # longer series are judged on a sample of their points (0: never)

    [tool.curvecheck.severity]       # per-code severity
    CC203 = "info"

    [tool.curvecheck.plateau]        # a check's settings, by name or code (curvecheck explain CODE)
    min_epochs = 10

In ``curvecheck.toml`` the same keys sit at the top level (``fail-on = ...``, ``[plateau]``).
An unknown key or a wrong type is a :class:`~curvecheck.errors.UsageError` naming the key and the file.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError
from .reduce import MAX_POINTS
from .vocab import DIRECTIONS, FAIL_ON_LEVELS, STRATEGIES

CONFIG_NAMES = ("curvecheck.toml", "pyproject.toml")
OPTIONS = ("select", "ignore", "fail-on", "direction", "monitor", "strategy", "fail-if", "max-points")
DEFAULTS: dict[str, Any] = {"select": None, "ignore": None, "fail-on": "error", "direction": {}, "monitor": None,
                            "strategy": "auto", "fail-if": [], "max-points": MAX_POINTS}


@dataclass
class Config:
    """Effective options, check settings and severities, each with its source ("default", a file, a flag)."""

    options: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS))
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # check code -> {name: value}
    severities: dict[str, str] = field(default_factory=dict)  # check code -> severity
    sources: dict[str, str] = field(default_factory=dict)  # "fail-on", "CC202.min_epochs", "CC203.severity"
    path: Path | None = None

    def source(self, key: str) -> str:
        return self.sources.get(key, "default")

    def __getitem__(self, key: str) -> Any:
        return self.options[key]

    def set_option(self, key: str, value: Any, source: str) -> None:
        """Apply one option (from a file or a flag); None means "not given" and changes nothing."""
        if value is None:
            return
        self.options[key] = _check_option(key, value, source)
        self.sources[key] = source

    def set_setting(self, check_key: str, name: str, value: Any, source: str) -> None:
        from .checks import find_check

        check = find_check(check_key)
        if check is None:
            raise UsageError(f"{source}: '{check_key}' is not a check (see 'curvecheck explain' for codes and names)")
        check.make_settings({name: value}, source)  # validates the name and the type now, naming the source
        self.settings.setdefault(check.code, {})[name] = value
        self.sources[f"{check.code}.{name}"] = source

    def set_severity(self, check_key: str, severity: Any, source: str) -> None:
        from .checks import resolve_severities

        code, sev = next(iter(resolve_severities({check_key: severity}, source).items()))
        self.severities[code] = sev
        self.sources[f"{code}.severity"] = source

    def apply_sets(self, items: list[str] | None) -> None:
        """``--set CHECK.NAME=VALUE`` (by code or name); the value is parsed as int, float or bool."""
        for item in items or []:
            key, sep, raw = item.partition("=")
            check_key, dot, name = key.strip().partition(".")
            if not sep or not dot or not check_key or not name:
                raise UsageError(f"--set expects CHECK.SETTING=VALUE (e.g. plateau.min_epochs=10), got '{item}'")
            if name == "severity":
                self.set_severity(check_key, raw.strip(), "--set")
            else:
                self.set_setting(check_key, name.strip(), parse_value(raw), "--set")


def parse_value(raw: str) -> Any:
    """A command-line value as the TOML type it would have: int, float, bool, else the string."""
    text = raw.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    return text


def _str_list(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [p.strip() for v in value for p in v.split(",") if p.strip()]
    raise UsageError(f"{where}: expected a list of strings, got {value!r}")


def _check_option(key: str, value: Any, source: str) -> Any:
    where = source if source == f"--{key}" else f"{source}: {key}"  # a flag names itself
    if key in ("select", "ignore"):
        from .checks import select_checks

        patterns = _str_list(value, where)
        try:
            select_checks(patterns)
        except UsageError as exc:
            raise UsageError(f"{where}: {exc}") from None
        return patterns
    if key == "monitor":
        return _str_list(value, where)
    if key == "fail-if":
        from .gate import parse_condition

        # a list only: "val_loss > 5%, x" cannot be split on commas safely, and one string is one condition
        conditions = [value] if isinstance(value, str) else value
        if not isinstance(conditions, list) or not all(isinstance(c, str) for c in conditions):
            raise UsageError(f"{where}: expected a list of conditions such as [\"val_iou < -0.01\"], got {value!r}")
        for condition in conditions:
            parse_condition(condition, where)  # a bad one fails when the file loads, not after reading the logs
        return list(conditions)
    if key == "fail-on":
        if value not in FAIL_ON_LEVELS:
            raise UsageError(f"{where}: expected one of {', '.join(FAIL_ON_LEVELS)}, got {value!r}")
        return value
    if key == "strategy":
        if value not in STRATEGIES:
            raise UsageError(f"{where}: expected one of {', '.join(STRATEGIES)}, got {value!r}")
        return value
    if key == "max-points":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise UsageError(f"{where}: expected a whole number >= 0 (0: never reduce), got {value!r}")
        return value
    if key == "direction":
        if not isinstance(value, Mapping) or not all(d in DIRECTIONS for d in value.values()):
            raise UsageError(f"{where}: expected a table of NAME = \"min\" | \"max\" | \"none\", got {value!r}")
        return dict(value)
    raise UsageError(f"{where}: unknown option")


def find_config(start: Path | None = None) -> Path | None:
    """The nearest curvecheck.toml, or pyproject.toml with a [tool.curvecheck] table, from ``start`` up."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        own = folder / "curvecheck.toml"
        if own.is_file():
            return own
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "curvecheck" in _read_toml(pyproject).get("tool", {}):
            return pyproject
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML ({exc})") from None


def load_config(path: str | Path | None = None, *, isolated: bool = False, start: Path | None = None) -> Config:
    """The configuration from ``path``, or the file found from ``start`` (default: the working
    directory) up; defaults only when ``isolated`` or no file is found."""
    config = Config()
    if isolated:
        return config
    found = Path(path) if path is not None else find_config(start)
    if found is None:
        return config
    if not found.is_file():
        raise UsageError(f"{found}: no such config file")
    data = _read_toml(found)
    if found.name == "pyproject.toml":
        data = data.get("tool", {}).get("curvecheck", {})
    config.path = found
    source = str(found)
    for key, value in data.items():
        if key in OPTIONS:
            config.set_option(key, value, source)
        elif key == "severity":
            if not isinstance(value, Mapping):
                raise UsageError(f"{source}: severity: expected a table of CODE = \"error\" | \"warning\" | \"info\"")
            for code, sev in value.items():
                config.set_severity(code, sev, source)
        elif isinstance(value, Mapping):
            for name, v in value.items():
                config.set_setting(key, name, v, source)
        else:
            raise UsageError(f"{source}: {key}: unknown key (options: {', '.join(OPTIONS)}; "
                             f"[severity]; or a check's table such as [plateau])")
    return config


def describe(config: Config) -> list[tuple[str, Any, str]]:
    """Every effective value as (key, value, source): options, each check's settings and severity."""
    from .checks import CHECKS
    from .checks.base import setting_docs

    rows: list[tuple[str, Any, str]] = [(k, config.options[k], config.source(k)) for k in OPTIONS]
    for code, check in CHECKS.items():
        rows.append((f"{check.name}.severity", config.severities.get(code, check.severity),
                     config.source(f"{code}.severity")))
        for name, _typ, default, _doc in setting_docs(check.Settings):
            rows.append((f"{check.name}.{name}", config.settings.get(code, {}).get(name, default),
                         config.source(f"{code}.{name}")))
    return rows
