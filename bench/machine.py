"""One line naming the machine a benchmark ran on, for its printed and recorded results."""

from __future__ import annotations

import os
from pathlib import Path


def machine() -> str:
    """CPU count and model, and the load average when the benchmark starts."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} cores ({model}), load average {load:.2f} at start"
