"""Read a Prometheus endpoint in tests: a free port, a scrape, and its samples by labels."""

from __future__ import annotations

import re
import socket
import time
import urllib.request
from collections.abc import Callable

_SAMPLE = re.compile(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    """Return a TCP port no one listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def scrape(url: str) -> str:
    """Return the text an endpoint serves."""
    with urllib.request.urlopen(url, timeout=5) as response:
        body: str = response.read().decode()
    return body


def parse(body: str) -> Samples:
    """Return each sample of a Prometheus text page, keyed by name and label set."""
    samples: Samples = {}
    for line in body.splitlines():
        found = _SAMPLE.match(line)
        if found is None:
            continue
        name, labels, value = found.groups()
        samples[(name, frozenset(_LABEL.findall(labels or "")))] = float(value)
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """Return the sum of ``name``'s samples whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def scrape_until(url: str, ready: Callable[[Samples], bool], *, within: float = 10.0) -> Samples:
    """Scrape ``url`` until ``ready`` holds for its samples (or ``within`` seconds pass)."""
    deadline = time.monotonic() + within
    while True:
        samples = parse(scrape(url))
        if ready(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.2)
