"""Run the ledger's fuzz targets under atheris (libFuzzer), replay inputs, or run a campaign.

    python -m tests.fuzz.run list
    python -m tests.fuzz.run TARGET [libFuzzer args]      fuzz one target
    python -m tests.fuzz.run replay [--guarded] TARGET FILE...   run files through a target
    python -m tests.fuzz.run campaign [--seconds N] [TARGET...] [-- libFuzzer args]
                                                           what `make fuzz` runs

Fuzzing one target without corpus directories grows ``var/fuzz/<target>/corpus`` (ignored
by git) from the committed seeds in ``tests/fuzz/corpus/<target>``, and writes crashing
inputs to ``var/fuzz/<target>/crashes/``. Findings (``tests/fuzz/findings/<target>``) are not
seeds here, so that an open one does not stop every run at its start; the bounded run in
``make test`` does start from them, to fail until they are fixed.
Given directories, libFuzzer writes new inputs to the first and only reads the others.
Unless the arguments say otherwise the runner adds ``-timeout=10`` (an input running longer
is a hang, and a finding), ``-max_len=4096``, ``-rss_limit_mb=2048`` and the target's
dictionary, if it has one.

A campaign runs each target for ``--seconds`` and keeps going past findings: an exception
is recorded under ``var/fuzz/campaign/<target>/<signature>/`` (the smallest input seen for
each distinct exception and place, with its traceback) instead of stopping the run; a hang
or a native crash ends the libFuzzer process (its input goes to
``var/fuzz/campaign/<target>/artifacts/``), and the campaign restarts it.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
import resource
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from tests.fuzz.targets import TARGETS, Target

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "fuzz"
CORPUS = HERE / "corpus"
FINDINGS = HERE / "findings"
DICTIONARIES = HERE / "dictionaries"
WORK = ROOT / "var" / "fuzz"
KEEP_GOING = "LEDGER_FUZZ_KEEP_GOING"
DEFAULTS = ("-timeout=10", "-max_len=4096", "-rss_limit_mb=2048")
PROJECT = ("ledger_core", "schemas", "streams", "connectors")
IGNORED_FILES = (".gitkeep", "README.md")
REPLAY_TIMEOUT_S = 10
REPLAY_RSS_MB = 2048

TestOneInput = Callable[[bytes], None]


def inputs(directory: Path) -> list[Path]:
    """The input files of a corpus or findings directory, sorted."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir()
                  if p.is_file() and p.name not in IGNORED_FILES and not p.name.startswith("."))


def load(target: Target, instrument: bool) -> ModuleType:
    """Import a target's module, instrumented for coverage when ``instrument``."""
    if not instrument:
        return importlib.import_module(target.module)
    import atheris

    with atheris.instrument_imports(include=list(target.instrument)):
        return importlib.import_module(target.module)


# -- keeping going past findings (campaigns) ----------------------------------------------


def signature(error: BaseException) -> str:
    """How and where an input failed: the exception type and the two innermost frames in the
    project's packages (the innermost target frame, with its line, for a ``FindingError``)."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if any(f"/{p}/" in f.filename for p in PROJECT)]
    if type(error).__name__ == "FindingError" or not ours:
        targets = [f for f in frames if "/tests/fuzz/targets/" in f.filename] or frames
        if not targets:
            return f"{type(error).__name__}@unknown"
        frame = targets[-1]
        return f"{type(error).__name__}@{_shown(frame.filename)}:{frame.name}:{frame.lineno}"
    places: list[str] = []
    for frame in reversed(ours):
        place = f"{_shown(frame.filename)}:{frame.name}"
        if place not in places:
            places.append(place)
        if len(places) == 2:
            break
    return f"{type(error).__name__}@{'<-'.join(places)}"


def _shown(filename: str) -> str:
    path = Path(filename)
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return path.name


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@-]+", "_", text.replace("<-", "--"))[:150]


def recording(target: Target, test_one_input: TestOneInput, directory: Path) -> TestOneInput:
    """``test_one_input`` that records each distinct finding and lets the fuzzing go on."""
    seen: dict[str, int] = {}

    def run(data: bytes) -> None:
        try:
            test_one_input(data)
        except Exception as error:  # every exception is a finding here
            key = signature(error)
            folder = directory / target.name / _slug(key)
            smallest = seen.get(key)
            if smallest is None:
                known = sorted(folder.glob("input-*"))
                smallest = min((p.stat().st_size for p in known), default=1 << 62)
                if not known:
                    print(f"\n*** new finding {key}\n", file=sys.stderr, flush=True)
            if len(data) < smallest:
                folder.mkdir(parents=True, exist_ok=True)
                for old in folder.glob("input-*"):
                    old.unlink()
                digest = hashlib.sha1(data).hexdigest()[:16]
                (folder / f"input-{digest}").write_bytes(data)
                (folder / "traceback.txt").write_text(
                    "".join(traceback.format_exception(error))[-20_000:],
                    errors="backslashreplace")
                seen[key] = len(data)
            else:
                seen[key] = smallest

    return run


# -- commands -----------------------------------------------------------------------------


def fuzz(name: str, arguments: Sequence[str]) -> None:
    """Run one target under libFuzzer; never returns."""
    import logging

    import atheris

    # Engines log failed functions and the router logs what it contains; findings are raised.
    # Silenced through the root logger rather than logging.disable, so that the command and
    # catalog targets can still hear the router log an exception it contained.
    root = logging.getLogger()
    root.setLevel(logging.CRITICAL + 1)
    root.addHandler(logging.NullHandler())
    target = TARGETS[name]
    module = load(target, instrument=True)
    test_one_input: TestOneInput = module.test_one_input
    keep_going = os.environ.get(KEEP_GOING)
    if keep_going:
        test_one_input = recording(target, test_one_input, Path(keep_going))
    args = list(arguments)
    if not any(not a.startswith("-") for a in args):
        corpus = WORK / name / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        args += [str(corpus), str(CORPUS / name)]
        if not any(a.startswith("-artifact_prefix=") for a in args):
            crashes = WORK / name / "crashes"
            crashes.mkdir(parents=True, exist_ok=True)
            args.append(f"-artifact_prefix={crashes}/")
    for default in DEFAULTS:
        flag = default.split("=")[0] + "="
        if not any(a.startswith(flag) for a in args):
            args.append(default)
    dictionary = DICTIONARIES / f"{name}.dict"
    if dictionary.is_file() and not any(a.startswith("-dict=") for a in args):
        args.append(f"-dict={dictionary}")
    for directory in (Path(a) for a in args if not a.startswith("-")):
        if not directory.exists():
            directory.mkdir(parents=True)
    # libFuzzer runs argv[0] through a shell for -fork and -minimize_crash: name this module
    atheris.Setup([f"{sys.executable} -m tests.fuzz.run {name}", *args], test_one_input)
    atheris.Fuzz()


class LimitError(BaseException):
    """An input ran past the time or memory a fuzzing run allows it (a hang or a blow-up).

    Not an Exception, so that no ``except Exception`` on the way swallows the time limit."""


def replay(name: str, files: Sequence[str], guarded: bool = False) -> int:
    """Run each file through a target without libFuzzer; 1 if any of them fails.

    ``guarded`` holds each input to libFuzzer's limits (``-timeout=10``,
    ``-rss_limit_mb=2048``): past them the input fails as a hang or a memory blow-up. The
    address space is capped a little above, so that a blow-up cannot take the machine down.
    """
    module = load(TARGETS[name], instrument=False)
    if guarded:
        cap = (REPLAY_RSS_MB + 1024) << 20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

        def expire(signum: int, frame: object) -> None:
            raise LimitError(f"the input ran for more than {REPLAY_TIMEOUT_S}s (a hang)")

        signal.signal(signal.SIGALRM, expire)
    failed = 0
    for file in files:
        paths = inputs(Path(file)) if Path(file).is_dir() else [Path(file)]
        for path in paths:
            started = time.monotonic()
            try:
                if guarded:
                    signal.alarm(REPLAY_TIMEOUT_S)
                module.test_one_input(path.read_bytes())
                if guarded:
                    signal.alarm(0)
                    _check_limits(time.monotonic() - started)
            except (Exception, LimitError) as error:  # every failure is reported
                failed += 1
                print(f"FAIL {path}: {signature(error)}")
                traceback.print_exception(error)
            else:
                print(f"ok   {path} ({time.monotonic() - started:.2f}s)")
    return 1 if failed else 0


def _check_limits(elapsed_s: float) -> None:
    if elapsed_s > REPLAY_TIMEOUT_S:
        raise LimitError(f"the input ran for {elapsed_s:.1f}s (more than {REPLAY_TIMEOUT_S}s: "
                         "a hang, which an engine may have turned into an error)")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    if peak_mb > REPLAY_RSS_MB:
        raise LimitError(f"the input took {peak_mb} MB (more than {REPLAY_RSS_MB} MB; a "
                         "memory blow-up, which an engine may have turned into an error)")


def campaign(seconds: int, names: Sequence[str], extra: Sequence[str] = ()) -> int:
    """Fuzz each target for ``seconds``, past findings; print where they went."""
    findings = WORK / "campaign"
    for name in names:
        corpus = WORK / name / "corpus"
        artifacts = findings / name / "artifacts"
        corpus.mkdir(parents=True, exist_ok=True)
        artifacts.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + seconds
        restarts = 0
        print(f"== fuzzing {name} for {seconds}s: corpus {corpus}", flush=True)
        while (left := int(deadline - time.monotonic())) > 5 and restarts < 50:
            log = WORK / name / f"libfuzzer-{restarts}.log"
            with log.open("w") as out:
                code = subprocess.call(
                    [sys.executable, "-m", "tests.fuzz.run", name, str(corpus),
                     str(CORPUS / name), f"-max_total_time={left}",
                     f"-artifact_prefix={artifacts}/", "-print_final_stats=1", *extra],
                    cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                    env={**os.environ, KEEP_GOING: str(findings)})
            if code == 0:
                break
            restarts += 1
            print(f"   libFuzzer stopped ({code}), see {log}; restarting", flush=True)
    return summary(findings, names)


def summary(findings: Path, names: Sequence[str]) -> int:
    """Print every finding of the campaign; 1 if there is any."""
    found = 0
    print("\n== findings (smallest input of each distinct failure)")
    for name in names:
        for folder in sorted((findings / name).glob("*@*")):
            for path in sorted(folder.glob("input-*")):
                found += 1
                print(f"  {name}: {folder.name}\n      {path} ({path.stat().st_size} bytes)"
                      f"\n      {folder / 'traceback.txt'}")
        for artifact in sorted((findings / name / "artifacts").glob("*")):
            found += 1
            print(f"  {name}: libFuzzer artifact (hang or native crash) {artifact}")
    if not found:
        print("  none")
    print("\nReplay one with: python -m tests.fuzz.run replay TARGET FILE\n"
          "Each finding worth keeping goes to tests/fuzz/findings/<target>/ "
          "(docs/fuzzing.md).")
    return 1 if found else 0


def main(argv: Sequence[str]) -> int:
    """The command line."""
    usage = __doc__ or ""
    if not argv or argv[0] in ("-h", "--help"):
        print(usage)
        return 0 if argv else 2
    command, rest = argv[0], list(argv[1:])
    if command == "list":
        for target in TARGETS.values():
            print(f"{target.name:14} {target.summary}")
        return 0
    if command == "replay":
        guarded = rest[:1] == ["--guarded"]
        rest = rest[1:] if guarded else rest
        if len(rest) < 2 or rest[0] not in TARGETS:
            print("usage: python -m tests.fuzz.run replay [--guarded] TARGET FILE...",
                  file=sys.stderr)
            return 2
        return replay(rest[0], rest[1:], guarded)
    if command == "campaign":
        seconds, extra = 600, []
        if "--" in rest:
            extra, rest = rest[rest.index("--") + 1:], rest[:rest.index("--")]
        if rest[:1] == ["--seconds"]:
            seconds, rest = int(rest[1]), rest[2:]
        unknown = [name for name in rest if name not in TARGETS]
        if unknown:
            print(f"unknown targets {unknown}; known: {sorted(TARGETS)}", file=sys.stderr)
            return 2
        return campaign(seconds, rest or sorted(TARGETS), extra)
    if command in TARGETS:
        fuzz(command, rest)
        return 0
    print(f"unknown target or command {command!r}; known targets: {sorted(TARGETS)}",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
