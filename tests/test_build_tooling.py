"""deploy/build.py: `make build` names the Python it needs, and refuses extension modules for another platform."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from vidstats.local.template import load_template

from deploy.build import BuildError, Target, check_native_modules, check_web_assets, find_runtime_python, target_of


def test_a_missing_runtime_python_is_named_with_how_to_get_it(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    monkeypatch.delenv("RUNTIME_PYTHON", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    with pytest.raises(BuildError) as error:
        find_runtime_python("3.99")
    message = str(error.value)
    assert "needs Python 3.99" in message
    assert "python3.99 runtime" in message
    assert "pyenv install 3.99" in message
    assert "RUNTIME_PYTHON" in message


def test_runtime_python_override_must_be_that_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTIME_PYTHON", sys.executable)
    this = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert find_runtime_python(this) == sys.executable
    with pytest.raises(BuildError, match=r"not a working Python 3\.99"):
        find_runtime_python("3.99")


def test_the_target_is_the_templates_runtime_and_architecture() -> None:
    template = load_template()
    target = target_of({"Globals": {"Function": {k.removeprefix("!"): v for k, v in
                                                 template["Globals"]["Function"].items()}}})
    assert target == Target(python_version="3.12", arch="aarch64")


def _elf(machine: int) -> bytes:
    return b"\x7fELF" + bytes(14) + machine.to_bytes(2, "little") + bytes(44)


def test_extension_modules_for_another_processor_or_python_are_refused(tmp_path: Path) -> None:
    target = Target(python_version="3.12", arch="aarch64")
    good = tmp_path / "pkg" / "_speedups.cpython-312-aarch64-linux-gnu.so"
    good.parent.mkdir()
    good.write_bytes(_elf(183))
    (tmp_path / "pkg" / "_rust.abi3.so").write_bytes(_elf(183))
    assert check_native_modules(tmp_path, target) == 2

    wrong_cpu = tmp_path / "pkg" / "_other.cpython-312-aarch64-linux-gnu.so"
    wrong_cpu.write_bytes(_elf(62))
    with pytest.raises(BuildError, match="not built for aarch64"):
        check_native_modules(tmp_path, target)
    wrong_cpu.unlink()

    (tmp_path / "pkg" / "_old.cpython-311-aarch64-linux-gnu.so").write_bytes(_elf(183))
    with pytest.raises(BuildError, match=r"another Python than 3\.12"):
        check_native_modules(tmp_path, target)


def test_the_dashboard_artefact_must_carry_the_web_page_and_every_file_it_loads(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="make web"):
        check_web_assets(tmp_path)
    static = tmp_path / "dashboard_api" / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text('<link rel="stylesheet" href="/assets/main-AB12.css">'
                                       '<script type="module" src="/assets/main-CD34.js"></script>')
    (static / "assets" / "main-AB12.css").write_text("body{}")
    with pytest.raises(BuildError, match=r"main-CD34\.js"):
        check_web_assets(tmp_path)
    (static / "assets" / "main-CD34.js").write_text("1")
    assert "index.html and 2 files" in check_web_assets(tmp_path)
