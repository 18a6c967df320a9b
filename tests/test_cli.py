"""The command line, run as a user runs it (subprocess), plus in-process edge cases."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import BAD, BAD_LINE, GOOD, run

import mdderiv
from mdderiv.cli import main


def test_version() -> None:
    result = run("-m", "mdderiv", "--version")
    assert result.returncode == 0
    assert result.stdout.decode().strip() == f"mdderiv {mdderiv.__version__}"


def test_help_lists_commands_examples_and_next_steps() -> None:
    result = run("-m", "mdderiv", "--help")
    text = result.stdout.decode()
    assert result.returncode == 0
    for word in ("derive", "render", "examples:", "next steps:", "plugins: [mdderiv]"):
        assert word in text
    sub = run("-m", "mdderiv", "derive", "--help").stdout.decode()
    assert "--format" in sub and "--no-check" in sub and "examples:" in sub
    assert "--flavor" in run("-m", "mdderiv", "render", "--help").stdout.decode()


def test_derive_json(tmp_path: Path) -> None:
    block = tmp_path / "block.derive"
    block.write_text(GOOD, encoding="utf-8")
    result = run("-m", "mdderiv", "derive", "--format", "json", str(block))
    assert result.returncode == 0, result.stderr.decode()
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert set(data["symbols"]) == {"a", "X", "b"}
    assert data["symbols"]["X"]["shape"] == ["m", "n"]
    assert data["results"][0]["wrt"] == "X"
    assert data["results"][0]["shape"] == ["m", "n"]
    assert data["steps"]


def test_derive_json_from_stdin_with_options() -> None:
    result = run("-m", "mdderiv", "derive", "--format", "json", "--layout", "numerator", "--no-check", "-",
                 input=GOOD.encode())
    assert result.returncode == 0, result.stderr.decode()
    data = json.loads(result.stdout)
    # numerator layout: the transpose of the m×n gradient
    assert data["results"][0]["shape"] == ["n", "m"]


@pytest.mark.parametrize("fmt", ["latex", "text"])
def test_derive_latex_and_text(tmp_path: Path, fmt: str) -> None:
    block = tmp_path / "block.derive"
    block.write_text(GOOD, encoding="utf-8")
    result = run("-m", "mdderiv", "derive", "--format", fmt, str(block))
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.strip()


def test_derive_chinese_notes_on_a_c_locale(tmp_path: Path) -> None:
    block = tmp_path / "block.derive"
    block.write_text(GOOD, encoding="utf-8")
    import os
    import subprocess
    import sys

    env = dict(os.environ, LANG="C", LC_ALL="C")
    env.pop("PYTHONIOENCODING", None)
    result = subprocess.run([sys.executable, "-m", "mdderiv", "derive", "--format", "text", "--lang", "zh",
                             str(block)], capture_output=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    result.stdout.decode("utf-8")


def test_error_object_and_exit_status(tmp_path: Path) -> None:
    block = tmp_path / "bad.derive"
    block.write_text(BAD, encoding="utf-8")
    result = run("-m", "mdderiv", "derive", "--format", "json", str(block))
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    error = data["error"]
    assert set(error) >= {"message", "line", "column"}
    assert error["line"] == BAD_LINE
    assert isinstance(error["column"], int) and error["column"] >= 1
    assert b"Traceback" not in result.stderr


def test_error_as_file_line_col_for_other_formats(tmp_path: Path) -> None:
    block = tmp_path / "bad.derive"
    block.write_text(BAD, encoding="utf-8")
    result = run("-m", "mdderiv", "derive", str(block))
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert re.match(rf"^{re.escape(str(block))}:{BAD_LINE}:\d+: \S", stderr), stderr
    assert "Traceback" not in stderr


GARBAGE = [
    b"",
    b"\xff\xfe\x00garbage\x80",
    b"f = \\frac{",
    b"}}}} {{{{ \\\\\\",
    b"given: X \\in \\mathbb{R}^{0 \\times -1}\nf = X\nwrt: X",
    b"wrt: X",
    b"f = " + b"(" * 400 + b"x" + b")" * 400 + b"\nwrt: x",
    b"given: x: n\nf = x^T x\nwrt: x\nlayout: sideways",
    "给定: 中文\n\x00\x1b[31m".encode(),
]


@pytest.mark.parametrize("data", GARBAGE)
def test_garbage_never_shows_a_traceback(data: bytes) -> None:
    result = run("-m", "mdderiv", "derive", "--format", "json", "-", input=data)
    assert b"Traceback" not in result.stderr
    assert result.returncode in (0, 1), result.stderr.decode(errors="replace")
    assert json.loads(result.stdout)["ok"] is (result.returncode == 0)


TOKENS = list("fxXAb=^T_{}()\\+-*/ \n:,") + ["wrt: ", "given: ", "\\mathbf", "\\in", "\\mathbb{R}", "^{n}"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_arbitrary_text_gives_json_and_status_0_or_1(capsys: pytest.CaptureFixture[str], text: str) -> None:
    import io
    import sys

    stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(text.encode()))
    try:
        status = main(["derive", "--format", "json", "-"])
    finally:
        sys.stdin = stdin
    out = capsys.readouterr()
    assert status in (0, 1), out.err
    assert json.loads(out.out)["ok"] is (status == 0)


def test_missing_file_is_a_usage_error() -> None:
    result = run("-m", "mdderiv", "derive", "no/such/file.derive")
    assert result.returncode == 2
    assert b"cannot read" in result.stderr and b"Traceback" not in result.stderr


def test_bad_arguments_exit_2_with_a_hint() -> None:
    result = run("-m", "mdderiv", "derive", "--format", "yaml", "x")
    assert result.returncode == 2
    assert b"--help" in result.stderr


def test_internal_error_is_reported_as_a_bug(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(mdderiv, "derive", broken)
    block = tmp_path / "b.derive"
    block.write_text(GOOD)
    assert main(["derive", str(block)]) == 2
    err = capsys.readouterr().err
    assert "internal error" in err and "bug" in err and "Traceback" not in err


def test_console_script_is_installed() -> None:
    import shutil

    assert shutil.which("mdderiv"), "pip install -e . installs the `mdderiv` command"


def test_a_file_holding_the_whole_fence(tmp_path: Path) -> None:
    block = tmp_path / "block.md"
    block.write_text("```derive layout=numerator\n" + GOOD + "\n```\n", encoding="utf-8")
    result = run("-m", "mdderiv", "derive", "--format", "json", str(block))
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads(result.stdout)["results"][0]["shape"] == ["n", "m"]
    bad = tmp_path / "bad.md"
    bad.write_text("```derive\n" + BAD + "\n```\n", encoding="utf-8")
    result = run("-m", "mdderiv", "derive", str(bad))
    assert result.returncode == 1
    assert result.stderr.decode().startswith(f"{bad}:{BAD_LINE + 1}:")
