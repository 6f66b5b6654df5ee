"""Other commits of the project, checked out beside it, so one benchmark run can measure
them side by side with the working tree (``--commits 9be6ad8``)."""

import subprocess
from pathlib import Path

from bench.broker import BENCH_HOME, REPO


def checkout(commit: str) -> Path:
    """A detached worktree of ``commit`` under ``var/bench/checkouts``, made once."""
    path = BENCH_HOME / "checkouts" / commit
    if not (path / "streams").is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--force", "--detach",
                        str(path), commit], check=True, capture_output=True)
    return path
