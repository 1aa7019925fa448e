#!/usr/bin/env python3
"""Draw ``docs/assets/activity-call.svg``: the path of one fnact activity call.

    python3 scripts/activity_call_svg.py          write the SVG
    python3 scripts/activity_call_svg.py --check  exit 1 if the committed SVG differs

Plain Python, no dependencies: it writes the SVG's text itself. The docs test
``tests/docs/test_activity_call_diagram.py`` checks that the committed file is what this
script writes, that it is well-formed XML, and that the built site shows it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "assets" / "activity-call.svg"

WIDTH = 770
LEFT, BOX_WIDTH = 20, 640  # every stage's box
INNER = LEFT + 16  # where a box's content starts
INNER_WIDTH = BOX_WIDTH - 32
CODE_X = LEFT + 150  # where a stage's code or subtitle starts
GAP = 28  # between two stages

INDIGO, INK, MUTED = "#3f51b5", "#1f2937", "#4b5563"
SANS = "'Helvetica Neue', Helvetica, Arial, 'DejaVu Sans', sans-serif"
MONO = "'DejaVu Sans Mono', Menlo, Consolas, monospace"
OUTCOMES = {  # fill, stroke
    "success": ("#e8f5e9", "#2e7d32"),
    "failure": ("#fff3e0", "#e65100"),
    "raise": ("#ffebee", "#c62828"),
}


@dataclass(frozen=True)
class Stage:
    """One box of the diagram: a numbered stage with its code and a few lines under it."""

    number: int
    name: str
    code: str
    height: int
    lines: tuple[str, ...] = ()
    code_is_text: bool = False  # the subtitle is prose, not code


STAGES = [
    Stage(
        1,
        "Decorator",
        "@fnact.activity(start_to_close_timeout=...)",
        72,
        ("checks the signature at import; records the types and default options",),
    ),
    Stage(
        2,
        "Worker",
        "fnact.worker.create_worker(...)  or  fnact.worker.Plugin(container)",
        72,
        ("registers one adapter per activity: @activity.defn, one RawValue argument",),
    ),
    Stage(3, "Adapter", "runs each attempt in four steps", 122, code_is_text=True),
    Stage(4, "Context", "ActivityContext", 116),
    Stage(5, "Outcome", "what the body returns, or raises", 120, code_is_text=True),
    Stage(
        6,
        "Workflow",
        "await fnact.workflow.execute_activity(activity, args)",
        72,
        ("returns the Result again: Success(v), or Failure(e) with e's own type",),
    ),
]
ADAPTER_STEPS = [
    "decode input strictly",
    "resolve dependencies",
    "build the context",
    "run the body",
]
ADAPTER_NOTES = [
    "input: msgspec, strict; bad input fails once (InvalidActivityInput)",
    "dependencies: each Provide[...] default, from the worker's container",
]
CONTEXT_CHIPS = [
    ("ctx.state", "the run's handler and workflow args"),
    ("ctx.logger", "bound to the run"),
    ("ctx.heartbeat, ctx.checkpoint", "throttled"),
    ("ctx.output_path", "the run's output folder"),
]
OUTCOME_COLUMNS = [
    ("success", "Success(v)", ("the activity completes", "with v")),
    (
        "failure",
        "Failure(e)",
        ("ApplicationError of e's type,", "benign; retried if e declares it"),
    ),
    ("raise", "raise", ("an activity failure, retried", "under the retry policy")),
]


def text(
    x: float,
    y: float,
    content: str,
    *,
    size: float = 13,
    fill: str = INK,
    font: str = SANS,
    weight: str = "normal",
    anchor: str = "start",
    extra: str = "",
) -> str:
    """Return one ``<text>`` element."""
    return (
        f'<text x="{x:g}" y="{y:g}" font-family={quoteattr(font)} font-size="{size:g}" '
        f'font-weight="{weight}" fill="{fill}" text-anchor="{anchor}"{extra}>'
        f"{escape(content)}</text>"
    )


def rect(
    x: float, y: float, width: float, height: float, *, fill: str, stroke: str, radius: int = 8
) -> str:
    """Return one rounded ``<rect>``."""
    return (
        f'<rect x="{x:g}" y="{y:g}" width="{width:g}" height="{height:g}" rx="{radius}" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
    )


def arrow(points: list[tuple[float, float]], *, color: str = INDIGO) -> str:
    """Return a polyline from the first point to the last, with an arrowhead at the end."""
    path = " ".join(f"{x:g},{y:g}" for x, y in points)
    marker = "head-red" if color == OUTCOMES["raise"][1] else "head"
    return (
        f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2" '
        f'marker-end="url(#{marker})"/>'
    )


def stage_box(stage: Stage, top: float) -> list[str]:
    """Draw a stage's box, its number, name, code and lines."""
    parts = [rect(LEFT, top, BOX_WIDTH, stage.height, fill="#f5f6fc", stroke=INDIGO)]
    parts.append(f'<circle cx="{INNER + 12}" cy="{top + 22}" r="12" fill="{INDIGO}"/>')
    parts.append(
        text(INNER + 12, top + 27, str(stage.number), fill="#fff", weight="bold", anchor="middle")
    )
    parts.append(text(INNER + 34, top + 27, stage.name, size=15, fill=INDIGO, weight="bold"))
    if stage.code_is_text:
        parts.append(text(CODE_X, top + 27, stage.code, fill=MUTED))
    else:
        parts.append(text(CODE_X, top + 27, stage.code, font=MONO))
    for n, line in enumerate(stage.lines):
        parts.append(text(INNER + 34, top + 52 + 18 * n, line, fill=MUTED))
    return parts


def adapter_details(top: float) -> list[str]:
    """The adapter's four steps as pills joined by arrows, and two notes under them."""
    parts = []
    gap = 16
    width = (INNER_WIDTH - gap * (len(ADAPTER_STEPS) - 1)) / len(ADAPTER_STEPS)
    for n, step in enumerate(ADAPTER_STEPS):
        x = INNER + n * (width + gap)
        parts.append(rect(x, top + 42, width, 30, fill="#fff", stroke=INDIGO, radius=15))
        parts.append(text(x + width / 2, top + 61, step, size=12, anchor="middle"))
        if n:
            parts.append(arrow([(x - gap + 1, top + 57), (x - 2, top + 57)]))
    for n, note in enumerate(ADAPTER_NOTES):
        parts.append(text(INNER + 4, top + 94 + 17 * n, note, size=12, fill=MUTED))
    return parts


def context_details(top: float) -> list[str]:
    """The context's four attributes, two by two."""
    parts = []
    width = (INNER_WIDTH - 16) / 2
    for n, (name, what) in enumerate(CONTEXT_CHIPS):
        x = INNER + (n % 2) * (width + 16)
        y = top + 42 + (n // 2) * 34
        parts.append(rect(x, y, width, 28, fill="#fff", stroke="#9fa8da", radius=6))
        parts.append(
            f'<text x="{x + 10:g}" y="{y + 19:g}" font-size="12" fill="{INK}">'
            f"<tspan font-family={quoteattr(MONO)}>{escape(name)}</tspan>"
            f'<tspan font-family={quoteattr(SANS)} fill="{MUTED}">  {escape(what)}</tspan></text>'
        )
    return parts


def outcome_columns(top: float) -> tuple[list[str], list[tuple[float, float, float]]]:
    """The three outcomes; also each column's (left, right, bottom) for the arrows."""
    parts = []
    edges = []
    gap = 16
    width = (INNER_WIDTH - 2 * gap) / 3
    for n, (kind, label, lines) in enumerate(OUTCOME_COLUMNS):
        fill, stroke = OUTCOMES[kind]
        x = INNER + n * (width + gap)
        parts.append(rect(x, top + 40, width, 68, fill=fill, stroke=stroke, radius=6))
        parts.append(text(x + 10, top + 58, label, font=MONO, weight="bold", fill=stroke))
        for m, line in enumerate(lines):
            parts.append(text(x + 10, top + 77 + 16 * m, line, size=12))
        edges.append((x, x + width, top + 108))
    return parts, edges


def draw() -> str:
    """Return the diagram's SVG text."""
    tops = []
    y = 16.0
    for stage in STAGES:
        tops.append(y)
        y += stage.height + (GAP if stage.number != 5 else GAP + 8)
    height = tops[-1] + STAGES[-1].height + 18
    middle = LEFT + BOX_WIDTH / 2
    body: list[str] = []
    for stage, top in zip(STAGES, tops, strict=True):
        body += stage_box(stage, top)
    body += adapter_details(tops[2])
    body += context_details(tops[3])
    columns, edges = outcome_columns(tops[4])
    body += columns
    # Stage to stage, down the middle, as far as the outcome.
    for n in range(4):
        bottom = tops[n] + STAGES[n].height
        body.append(arrow([(middle, bottom + 1), (middle, tops[n + 1] - 3)]))
    body.append(text(middle + 10, tops[2] - 10, "each attempt", size=12, fill=MUTED))
    # Success and Failure reach the workflow as a Result.
    for left, right, bottom in edges[:2]:
        x = (left + right) / 2
        body.append(arrow([(x, bottom + 1), (x, tops[5] - 3)]))
    body.append(text(edges[0][1] + 8, tops[5] - 12, "Result[R, E]", size=12, fill=MUTED, font=MONO))
    # A raise goes back to the adapter: Temporal schedules the next attempt.
    red = OUTCOMES["raise"][1]
    loop_x = LEFT + BOX_WIDTH + 52
    start_y = tops[4] + 74
    target_y = tops[2] + STAGES[2].height / 2
    right_edge = edges[2][1]
    body.append(
        arrow(
            [
                (right_edge, start_y),
                (loop_x, start_y),
                (loop_x, target_y),
                (LEFT + BOX_WIDTH + 3, target_y),
            ],
            color=red,
        )
    )
    label_y = (start_y + target_y) / 2
    body.append(
        text(
            loop_x + 18,
            label_y,
            "Temporal retries: the next attempt",
            size=12,
            fill=red,
            anchor="middle",
            extra=f' transform="rotate(-90 {loop_x + 18:g} {label_y:g})"',
        )
    )
    defs = (
        "<defs>"
        f'<marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{INDIGO}"/></marker>'
        f'<marker id="head-red" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{red}"/></marker>'
        "</defs>"
    )
    header = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:g}" '
        f'viewBox="0 0 {WIDTH} {height:g}" role="img" aria-labelledby="title desc">\n'
        '<title id="title">The path of an fnact activity call</title>\n'
        '<desc id="desc">The decorator records the activity; the worker registers an adapter '
        "for it; for each attempt the adapter decodes the input strictly, resolves the "
        "dependencies, builds the ActivityContext and runs the body; Success completes the "
        "activity, Failure becomes a benign ApplicationError of the error's type, a raise is "
        "retried; in the workflow, fnact.workflow.execute_activity returns the Result "
        "again.</desc>\n"
    )
    background = f'<rect width="{WIDTH}" height="{height:g}" fill="#ffffff"/>\n'
    return header + defs + "\n" + background + "\n".join(body) + "\n</svg>\n"


def main(argv: list[str]) -> int:
    """Write the SVG, or with ``--check`` report whether the committed one is current."""
    svg = draw()
    if argv == ["--check"]:
        if OUTPUT.read_text() != svg:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run python3 scripts/activity_call_svg.py")
            return 1
        return 0
    OUTPUT.write_text(svg)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
