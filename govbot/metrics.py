"""Counters the front ends record into, rendered in the Prometheus text format for `/metrics`."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Mapping

# Seconds; commands are quick database work, so the buckets are dense below a second.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[tuple[str, str], ...]


class _Histogram:
    def __init__(self) -> None:
        self.buckets = [0] * len(LATENCY_BUCKETS)
        self.count = 0
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        for index, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                self.buckets[index] += 1


class Metrics:
    """Commands by platform, command and outcome; their latency; errors. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._commands: dict[Labels, int] = defaultdict(int)
        self._latency: dict[Labels, _Histogram] = defaultdict(_Histogram)
        self._errors: dict[Labels, int] = defaultdict(int)

    def record_command(self, platform: str, command: str, outcome: str, seconds: float) -> None:
        """Count one handled command (outcome: ok, refused, duplicate, failed) and its latency."""
        with self._lock:
            self._commands[
                (("platform", platform), ("command", command), ("outcome", outcome))
            ] += 1
            self._latency[(("platform", platform), ("command", command))].observe(seconds)

    def record_error(self, platform: str, kind: str) -> None:
        """Count one error a front end met (a platform API call failed, a handler crashed)."""
        with self._lock:
            self._errors[(("platform", platform), ("kind", kind))] += 1

    def render(self, gauges: Mapping[str, tuple[str, float]] | None = None) -> str:
        """Render every series, plus gauges given as name -> (help, value)."""
        with self._lock:
            commands = sorted(self._commands.items())
            latency = sorted(
                (labels, (list(h.buckets), h.count, h.total)) for labels, h in self._latency.items()
            )
            errors = sorted(self._errors.items())
        lines = _family(
            "govbot_commands_total", "counter", "Commands handled, by outcome.", commands
        )
        lines += [
            "# HELP govbot_command_duration_seconds Time from receiving a command to its replies.",
            "# TYPE govbot_command_duration_seconds histogram",
        ]
        for labels, (buckets, count, total) in latency:
            for bound, hits in zip(LATENCY_BUCKETS, buckets, strict=True):
                le = (("le", _number(bound)),)
                lines.append(f"govbot_command_duration_seconds_bucket{_labels(labels + le)} {hits}")
            inf = (("le", "+Inf"),)
            lines.append(f"govbot_command_duration_seconds_bucket{_labels(labels + inf)} {count}")
            lines.append(f"govbot_command_duration_seconds_sum{_labels(labels)} {_number(total)}")
            lines.append(f"govbot_command_duration_seconds_count{_labels(labels)} {count}")
        lines += _family(
            "govbot_errors_total", "counter", "Errors met by the front ends, by kind.", errors
        )
        for name, (help_text, value) in sorted((gauges or {}).items()):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value:g}"]
        return "\n".join(lines) + "\n"


def _family(name: str, kind: str, help_text: str, series: list[tuple[Labels, int]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{_labels(labels)} {value}" for labels, value in series]
    return lines


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in labels)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(float(value))


def build_info(version: str) -> str:
    """Render the build-info series: a constant 1 labelled with the running version."""
    labels = _labels((("version", version),))
    return (
        "# HELP govbot_build_info The running govbot's version.\n"
        "# TYPE govbot_build_info gauge\n"
        f"govbot_build_info{labels} 1\n"
    )


_STARTED = time.monotonic()


def uptime_seconds() -> float:
    """Return the seconds since this process loaded govbot's metrics."""
    return time.monotonic() - _STARTED


REGISTRY = Metrics()


def record_command(platform: str, command: str, outcome: str, seconds: float) -> None:
    """Count one handled command in the process-wide registry."""
    REGISTRY.record_command(platform, command, outcome, seconds)


def record_error(platform: str, kind: str) -> None:
    """Count one front-end error in the process-wide registry."""
    REGISTRY.record_error(platform, kind)
