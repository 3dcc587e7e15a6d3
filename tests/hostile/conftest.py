"""The hostile corpus, written once per session into a temporary directory.

The 50 MB single-line CSV is written only when a test asks for it (:func:`big_csv`), in
1 MB chunks, and deleted with the session's temporary directory.
"""

from __future__ import annotations

import contextlib
import signal
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hostile.corpus import BIG_CSV, big_single_line_csv, write_corpus

#: Each file must be handled within this many seconds (generous for a busy CI runner).
PER_FILE_SECONDS = 10.0


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("hostile-corpus")
    write_corpus(directory)
    return directory


@pytest.fixture(scope="session")
def big_csv(corpus_dir) -> Iterator[Path]:
    path = big_single_line_csv(corpus_dir / BIG_CSV)
    yield path
    path.unlink()  # pytest keeps the last temporary directories: not 50 MB each


@dataclass
class Measured:
    seconds: float = 0.0
    peak_bytes: int | None = None


class Hang(Exception):
    """Processing one file ran past the alarm: the import would hang a worker."""


@contextlib.contextmanager
def bounded(seconds: float = PER_FILE_SECONDS, memory: bool = False) -> Iterator[Measured]:
    """Time (and optionally trace the peak Python memory of) the block.

    A SIGALRM one second past the bound turns a hang into a test failure instead of a
    stuck CI job (it interrupts Python code; a native call is interrupted when it returns).
    """
    measured = Measured()

    def alarm(_signum, _frame):
        raise Hang(f"still running after {seconds + 1:.0f} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds + 1)
    if memory:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        yield measured
    finally:
        measured.seconds = time.perf_counter() - started
        if memory:
            measured.peak_bytes = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
