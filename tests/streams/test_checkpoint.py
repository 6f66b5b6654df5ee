"""The checkpoint's watchdog: a transactional call that outlives its timeout ends the process."""

import subprocess
import sys

from streams.checkpoint import WATCHDOG_EXIT, guarded

HANGING = """
import time
from streams import checkpoint
checkpoint.WATCHDOG_GRACE_S = 0.2
checkpoint.guarded("a call librdkafka never returns from", time.sleep, 30, timeout_s=0.1)
print("returned")
"""


def test_a_call_that_hangs_past_its_timeout_ends_the_process() -> None:
    """The process exits with the watchdog's status and says which call hung; it never
    returns from the call."""
    finished = subprocess.run([sys.executable, "-c", HANGING], capture_output=True, text=True,
                              timeout=20, check=False)
    assert finished.returncode == WATCHDOG_EXIT, finished
    assert "a call librdkafka never returns from did not return" in finished.stderr
    assert "returned" not in finished.stdout


def test_a_call_within_its_timeout_returns_its_value() -> None:
    """The watchdog is disarmed once the call returns."""
    assert guarded("a quick call", max, 3, 4, timeout_s=5) == 4
