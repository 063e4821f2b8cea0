"""`make build`: the deployment artefact made by `sam build`, then proven: every handler imports from it alone.

Steps: find a Python of the Lambda runtime's version (template.yaml's ``Runtime``; the artefact is checked with it,
never with the developer's virtualenv), run ``sam build`` (functions/Makefile packs each function and the shared
dependencies layer), then import each function's handler in a bare interpreter (``-I -S -B``: no site-packages,
no environment, no bytecode written into the artefact) whose path holds only that function's code and its
layers, as Lambda's does. On a machine whose
processor differs from the target architecture (x86_64 here, arm64 in Lambda), the native wheels cannot load, so
the import runs with a twin layer built from the same lock for this machine, and the real layer is checked to hold
the same distributions with every extension module built for the target architecture and Python.

``python -m deploy.build --check-only`` checks an existing .aws-sam/build without building.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidstats.local.template import load_template

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
BUILD_DIR = ROOT / ".aws-sam" / "build"
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # function code and all its layers, unzipped
ELF_MACHINES = {"x86_64": 62, "aarch64": 183}
TEMPLATE_ARCH = {"x86_64": "x86_64", "arm64": "aarch64"}

# Runs inside the runtime's bare interpreter: argv = code dir, layer python dirs..., handler.
IMPORT_PROBE = r"""
import importlib, importlib.util, json, sys, time
*paths, handler = sys.argv[1:]
sys.path[:0] = paths
module, _, attribute = handler.rpartition(".")
started = time.perf_counter()
function = getattr(importlib.import_module(module), attribute)
seconds = time.perf_counter() - started
dev_only = [name for name in ("vidstats.local.stack", "vidstats.cli", "vidstats.migrations")
            if importlib.util.find_spec(name) is not None]
print(json.dumps({"callable": callable(function), "seconds": seconds, "dev_only": dev_only,
                  "python": "%d.%d.%d" % sys.version_info[:3], "modules": len(sys.modules)}))
"""


class BuildError(Exception):
    """A prerequisite is missing or the artefact is wrong; the message says which and what to do."""




@dataclass(frozen=True)
class Target:
    python_version: str  # "3.12"
    arch: str  # "aarch64" / "x86_64", as platform.machine() and wheel tags spell it


def target_of(template: dict[str, Any]) -> Target:
    function_globals = template["Globals"]["Function"]
    runtime = str(function_globals["Runtime"])
    if not runtime.startswith("python3."):
        raise BuildError(f"template.yaml's Runtime is {runtime}: this build knows only Python runtimes")
    (architecture,) = function_globals.get("Architectures", ["x86_64"])
    return Target(python_version=runtime.removeprefix("python"), arch=TEMPLATE_ARCH[architecture])


def _version_of(python: str) -> str | None:
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def find_runtime_python(version: str) -> str:
    """A Python of the runtime's version: RUNTIME_PYTHON, pythonX.Y on PATH, or one installed by pyenv or uv."""
    override = os.environ.get("RUNTIME_PYTHON")
    if override:
        if _version_of(override) != version:
            raise BuildError(f"RUNTIME_PYTHON={override} is not a working Python {version}")
        return override
    name = f"python{version}"
    candidates = [shutil.which(name)]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [str(p) for p in sorted(pyenv_root.glob(f"versions/{version}.*/bin/{name}"), reverse=True)]
    uv_pythons = Path.home() / ".local/share/uv/python"
    candidates += [str(p) for p in sorted(uv_pythons.glob(f"cpython-{version}.*/bin/{name}"), reverse=True)]
    candidates += [f"/usr/bin/{name}", f"/usr/local/bin/{name}"]
    for candidate in candidates:
        if candidate and _version_of(candidate) == version:
            return candidate
    raise BuildError(
        f"`make build` needs Python {version}: the functions run on Lambda's python{version} runtime "
        f"(template.yaml), and the artefact is checked by importing every handler with that Python. None was found "
        f"(looked for {name} on PATH, in pyenv and uv). Install it, e.g. `pyenv install {version}`, "
        f"`uv python install {version}`, `apt install {name}` (Debian 13, Ubuntu 24.04) or python.org, "
        f"or point RUNTIME_PYTHON at one.")


def sam_build(sam: str) -> float:
    if not Path(sam).exists() and shutil.which(sam) is None:
        raise BuildError(f"SAM CLI not found at {sam}: `make build` installs it (pip install aws-sam-cli)")
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    started = time.monotonic()
    result = subprocess.run([sam, "build", "--template-file", str(TEMPLATE)], cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        raise BuildError(f"sam build failed (exit {result.returncode}); its output is above")
    return time.monotonic() - started


@dataclass(frozen=True)
class BuiltFunction:
    logical_id: str
    handler: str
    code: Path
    layers: tuple[Path, ...]  # each layer's root (the python/ folder inside is what Lambda puts on sys.path)


def built_functions(build_dir: Path) -> list[BuiltFunction]:
    template = load_template(build_dir / "template.yaml")
    resources = template["Resources"]
    global_layers = template.get("Globals", {}).get("Function", {}).get("Layers", [])
    functions = []
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        layers = []
        for ref in props.get("Layers", global_layers):
            # sam build writes the long form (Ref: X); a hand-written template the short one (!Ref X)
            layer = ref.get("Ref", ref.get("!Ref")) if isinstance(ref, dict) else None
            if layer not in resources:
                raise BuildError(f"{logical_id}: layer {ref!r} is not one of this template's layers")
            layers.append(build_dir / resources[layer]["Properties"]["ContentUri"])
        functions.append(BuiltFunction(logical_id, str(props["Handler"]), build_dir / props["CodeUri"],
                                       tuple(layers)))
    return functions


def _dist_infos(site: Path) -> set[str]:
    return {p.name for p in site.glob("*.dist-info")}


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        raise BuildError(f"{path} is not an ELF shared object")
    return int.from_bytes(header[18:20], "little")


def check_native_modules(site: Path, target: Target) -> int:
    """Every extension module is built for the target's processor and Python; returns how many there are."""
    abi = f"cpython-{target.python_version.replace('.', '')}-"
    count = 0
    for so in site.rglob("*.so*"):
        if not so.is_file():
            continue
        count += 1
        if _elf_machine(so) != ELF_MACHINES[target.arch]:
            raise BuildError(f"{so.relative_to(site)} is not built for {target.arch}")
        name = so.name
        if ".cpython-" in name and abi not in name:
            raise BuildError(f"{so.relative_to(site)} is built for another Python than {target.python_version}")
        if ".cpython-" in name and not name.endswith(f"{target.arch}-linux-gnu.so"):
            raise BuildError(f"{so.relative_to(site)} is not built for {target.arch} Linux")
    return count


def build_twin_layer(into: Path, arch: str) -> Path:
    """The dependencies layer for this machine's processor, from the same lock and the same Makefile rule."""
    env = {**os.environ, "ARTIFACTS_DIR": str(into), "LAMBDA_ARCH": arch}
    subprocess.run(["make", "--no-print-directory", "-C", str(ROOT / "functions"), "build-DependenciesLayer"],
                   env=env, check=True)
    return into


def _tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _zipped_size(path: Path) -> int:
    with tempfile.TemporaryFile() as handle:
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                archive.write(file, file.relative_to(path))
        return handle.seek(0, os.SEEK_END)


def import_handler(python: str, function: BuiltFunction, layer_roots: Sequence[Path]) -> dict[str, Any]:
    paths = [str(function.code), *(str(root / "python") for root in layer_roots)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_REGION": "eu-west-1",
           "AWS_DEFAULT_REGION": "eu-west-1", "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
           "LAMBDA_TASK_ROOT": str(function.code)}
    result = subprocess.run([python, "-I", "-S", "-B", "-c", IMPORT_PROBE, *paths, function.handler],
                            capture_output=True, text=True, env=env, cwd=function.code, timeout=120, check=False)
    if result.returncode != 0:
        raise BuildError(f"{function.logical_id}: `import {function.handler.rpartition('.')[0]}` fails from the "
                         f"artefact alone:\n{result.stderr.strip()}")
    probe: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    if not probe["callable"]:
        raise BuildError(f"{function.logical_id}: {function.handler} is not callable")
    if probe["dev_only"]:
        raise BuildError(f"{function.logical_id}: developer-only code is packaged: {', '.join(probe['dev_only'])}")
    return probe


WEB_DIR = "dashboard_api/static"  # where `make web` writes the web dashboard, inside the dashboard function's code


def check_web_assets(code: Path) -> str:
    """The web dashboard ships with the dashboard function: its page and every file the page loads."""
    static = code / WEB_DIR
    page = static / "index.html"
    if not page.is_file():
        raise BuildError(f"the web dashboard is not in the artefact ({page} is missing): run `make web` first "
                         "(make build does)")
    referenced = sorted(set(re.findall(r'(?:src|href)="/(assets/[^"]+)"', page.read_text())))
    missing = [name for name in referenced if not (static / name).is_file()]
    if not referenced or missing:
        raise BuildError(f"the web dashboard's page loads files the artefact lacks: {missing or 'none referenced'}")
    files = [f for f in (static / "assets").iterdir() if f.is_file()]
    return f"web dashboard: index.html and {len(files)} files ({_tree_size(static) / 1024:.0f} KiB)"


def check(build_dir: Path, python: str, target: Target) -> list[str]:
    if not (build_dir / "template.yaml").exists():
        raise BuildError(f"no artefact in {build_dir}: run `make build`")
    functions = built_functions(build_dir)
    if not functions:
        raise BuildError("the built template has no functions")
    layer_roots = sorted({layer for f in functions for layer in f.layers})
    lines = []
    for layer in layer_roots:
        native = check_native_modules(layer / "python", target)
        lines.append(f"{layer.name}: {_zipped_size(layer) / 2**20:.1f} MiB zipped, "
                     f"{_tree_size(layer) / 2**20:.1f} MiB unzipped, {len(_dist_infos(layer / 'python'))} "
                     f"distributions, {native} extension modules for {target.arch} / Python {target.python_version}")
    host = platform.machine()
    with tempfile.TemporaryDirectory(prefix="vidstats-twin-") as scratch:
        twins = {layer: layer for layer in layer_roots}
        if host != target.arch:
            for layer in layer_roots:
                twin = build_twin_layer(Path(scratch) / layer.name, host)
                missing = _dist_infos(layer / "python") ^ _dist_infos(twin / "python")
                if missing:
                    raise BuildError(f"{layer.name} and its {host} twin differ: {sorted(missing)}")
                twins[layer] = twin
            lines.append(f"imports run on {host} with a twin of each layer built from the same lock "
                         f"(same distributions); the {target.arch} layer is checked above")
        for function in functions:
            probe = import_handler(python, function, [twins[layer] for layer in function.layers])
            unzipped = _tree_size(function.code) + sum(_tree_size(layer) for layer in function.layers)
            if unzipped > LAMBDA_UNZIPPED_LIMIT:
                raise BuildError(f"{function.logical_id}: {unzipped / 2**20:.0f} MiB unzipped with its layers, "
                                 "over Lambda's 250 MiB")
            if function.handler.startswith("dashboard_api."):
                lines.append(check_web_assets(function.code))
            lines.append(f"{function.logical_id}: {function.handler} imports with Python {probe['python']} in "
                         f"{probe['seconds'] * 1000:.0f} ms ({probe['modules']} modules); code "
                         f"{_zipped_size(function.code) / 1024:.0f} KiB zipped; with layers "
                         f"{unzipped / 2**20:.1f} MiB unzipped")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sam", default="sam", help="the SAM CLI to build with")
    parser.add_argument("--check-only", action="store_true", help="check .aws-sam/build without building")
    args = parser.parse_args(argv)
    try:
        target = target_of(load_template(TEMPLATE))
        python = find_runtime_python(target.python_version)
        print(f"runtime Python {target.python_version} ({target.arch}): {python}", flush=True)
        if not args.check_only:
            seconds = sam_build(args.sam)
            print(f"sam build: {seconds:.1f} s", flush=True)
        for line in check(BUILD_DIR, python, target):
            print(line)
    except BuildError as error:
        print(f"make build: {error}", file=sys.stderr)
        return 1
    print(f"artefact OK: {BUILD_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
