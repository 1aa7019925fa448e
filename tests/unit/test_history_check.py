"""Decoding recorded values with today's types: strict errors and fields decoding would drop."""

from __future__ import annotations

import msgspec
from temporalio.api.common.v1 import Payload

from fnact._history_check import problems_decoding


class Line(msgspec.Struct):
    sku: str
    quantity: int


class Order(msgspec.Struct):
    id: int
    lines: list[Line]
    note: str = ""


class Shipped(msgspec.Struct, tag="shipped"):
    carrier: str


class Held(msgspec.Struct, tag="held"):
    reason: str


def payload(value: object) -> Payload:
    """Encode ``value`` as a worker records it."""
    return Payload(metadata={"encoding": b"json/plain"}, data=msgspec.json.encode(value))


def test_a_value_that_fits_has_no_problem() -> None:
    """An old value without today's optional field decodes, with nothing dropped."""
    assert problems_decoding(payload({"id": 1, "lines": []}), Order) == []


def test_a_wrong_type_deep_inside_names_its_path() -> None:
    """The message of msgspec, split from its path, for a field inside a list."""
    recorded = payload({"id": 1, "lines": [{"sku": "a", "quantity": "2"}]})
    assert problems_decoding(recorded, Order) == [
        ("$.lines[0].quantity", "Expected `int`, got `str`")
    ]


def test_fields_decoding_would_drop_are_reported_at_any_depth() -> None:
    """A field of a nested Struct that today's type lacks is found with its path."""
    recorded = payload({"id": 1, "lines": [{"sku": "a", "quantity": 2, "price": 3}], "rush": True})
    assert [path for path, _ in problems_decoding(recorded, Order)] == [
        "$.lines[0].price",
        "$.rush",
    ]


def test_a_tagged_union_member_is_matched_by_its_tag() -> None:
    """The tag picks the member whose fields are compared; the tag field itself is known."""
    recorded = payload({"type": "held", "reason": "fraud check", "until": "monday"})
    assert problems_decoding(recorded, Shipped | Held) == [
        ("$.until", "this field is not in today's type: decoding drops its value")
    ]
