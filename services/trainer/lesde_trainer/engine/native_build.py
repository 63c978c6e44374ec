"""Build and load the native LeNet kernel (``native/lenet.c``) on the machine that runs it.

The C source is compiled at first use with the system C compiler for this very CPU
(``-march=native``: AVX-512 where the CPU has it) and cached under
``$LESDE_NATIVE_CACHE`` (default ``~/.cache/lesde/native``), keyed by the source, the
flags, the compiler and the CPU, so a changed source, compiler or host never loads a
stale binary. The build takes about a second; concurrent workers race harmlessly (each
writes its own temporary file and renames it into place).

Without a C compiler, or with ``LESDE_NATIVE_KERNEL=off``, ``load_native()`` returns
None and says why in ``native_unavailable_reason()``: the engine then runs the torch
LeNet kernel, a little slower and otherwise the same.

OpenMP: the library links ``libgomp.so.1``, the soname torch's own OpenMP runtime has
on Linux, so once torch is imported both share one runtime and one thread pool.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

SOURCE_DIR = Path(__file__).with_name("native")
SOURCES = ("lenet.c", "lenet_body.inc")
ABI_VERSION = 1
# -fassociative-math (with the two flags it needs) lets the compiler vectorise the dot
# products' sums; results stay deterministic for one binary. NaN and infinity keep their
# IEEE meaning (no -ffinite-math-only), so a diverging trial still shows as NaN.
CFLAGS = (
    "-O3",
    "-march=native",
    "-fopenmp",
    "-fPIC",
    "-shared",
    "-std=gnu11",
    "-ffp-contract=fast",
    "-fno-math-errno",
    "-fno-trapping-math",
    "-fassociative-math",
    "-fno-signed-zeros",
)
SETTING = "LESDE_NATIVE_KERNEL"  # "auto" (default): build and use it where possible; "off": never
CACHE_SETTING = "LESDE_NATIVE_CACHE"


class NativeBuildError(RuntimeError):
    """The native kernel could not be compiled or loaded (the message says why)."""


def native_unavailable_reason() -> str | None:
    """None when ``load_native()`` returns a library, else why it cannot."""
    try:
        _load()
    except NativeBuildError as exc:
        return str(exc)
    return None


def load_native() -> ctypes.CDLL | None:
    """The compiled kernel, built on first use (cached per process and on disk), or None."""
    try:
        return _load()
    except NativeBuildError:
        return None


@functools.cache
def _load() -> ctypes.CDLL:
    setting = os.environ.get(SETTING, "auto").strip().lower()
    if setting in {"off", "0", "false", "no"}:
        raise NativeBuildError(f"{SETTING}={setting}: the native kernel is switched off")
    if setting not in {"auto", "on", "1", "true", "yes", ""}:
        raise NativeBuildError(f"{SETTING}: {setting!r} is not one of auto, off")
    if platform.system() != "Linux":
        raise NativeBuildError(f"the native kernel is built on Linux only, not {platform.system()}")
    compiler = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if not compiler:
        raise NativeBuildError("no C compiler (gcc or cc, or $CC) on PATH")
    path = _build(compiler)
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as exc:
        raise NativeBuildError(f"cannot load {path}: {exc}") from exc
    if lib.lenet_abi_version() != ABI_VERSION:
        raise NativeBuildError(f"{path}: ABI version {lib.lenet_abi_version()}, expected {ABI_VERSION}")
    _declare(lib)
    log.info("native LeNet kernel loaded from %s", path)
    return lib


def _build(compiler: str) -> Path:
    """Compile the sources into the cache (if not there yet) and return the library's path."""
    version = _run([compiler, "--version"], "query the C compiler").splitlines()[0]
    key = hashlib.sha256()
    for name in SOURCES:
        key.update((SOURCE_DIR / name).read_bytes())
    for part in (*CFLAGS, compiler, version, _cpu_identity()):
        key.update(part.encode() + b"\0")
    cache = Path(os.environ.get(CACHE_SETTING) or Path.home() / ".cache" / "lesde" / "native")
    target = cache / f"lenet-{key.hexdigest()[:20]}.so"
    if target.exists():
        return target
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NativeBuildError(f"{CACHE_SETTING}: cannot create {cache}: {exc}") from exc
    fd, scratch = tempfile.mkstemp(prefix=target.stem, suffix=".so.tmp", dir=cache)
    os.close(fd)
    try:
        _run([compiler, *CFLAGS, "-o", scratch, str(SOURCE_DIR / "lenet.c"), "-lm"], "compile the native kernel")
        os.replace(scratch, target)  # atomic: a concurrent loader sees the old state or the whole file
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)
    log.info("built the native LeNet kernel with %s into %s", version, target)
    return target


def _cpu_identity() -> str:
    """What -march=native depends on: the CPU model and its feature flags."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or platform.machine()
    wanted = [line for line in lines if line.startswith(("model name", "flags"))]
    return "\n".join(dict.fromkeys(wanted))  # the first CPU's lines (all CPUs repeat them)


def _run(command: list[str], what: str) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NativeBuildError(f"cannot {what}: {exc}") from exc
    if done.returncode != 0:
        raise NativeBuildError(f"cannot {what} ({' '.join(command[:1])} exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


def _declare(lib: ctypes.CDLL) -> None:
    """Argument types of the exported functions (see native/lenet_body.inc)."""
    i64, ptr, dbl, cint = ctypes.c_int64, ctypes.c_void_p, ctypes.c_double, ctypes.c_int
    for suffix in ("f32", "f64"):
        train = getattr(lib, f"lenet_train_{suffix}")
        train.argtypes = [i64, i64, i64, i64, ptr, ptr, ptr, ptr, ptr, dbl, ptr, ptr, cint]
        train.restype = cint
        forward = getattr(lib, f"lenet_forward_{suffix}")
        forward.argtypes = [i64, i64, i64, i64, ptr, ptr, ptr, ptr, ptr, cint]
        forward.restype = cint
