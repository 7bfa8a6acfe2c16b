"""Crash points: a process SIGKILLs itself at a named point of a job.

Off unless the environment variable RESCUEPORTAL_CRASH_AT names the point (comma-separated).
The reliability tests set it on one worker to prove that an operation survives a worker dying
exactly there; a real deployment never sets it.
"""

import os
import signal

POINTS = ("before_submit", "after_submitting_recorded", "after_provider_accepted", "during_poll",
          "before_enqueue")


def crash_point(name: str) -> None:
    assert name in POINTS, name
    if name in os.environ.get("RESCUEPORTAL_CRASH_AT", "").split(","):
        os.kill(os.getpid(), signal.SIGKILL)
