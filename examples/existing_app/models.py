"""The app's pydantic models: its workflow's input and result, and its activities' types."""

# --8<-- [start:imports]
from __future__ import annotations

from pydantic import BaseModel

# --8<-- [end:imports]


# --8<-- [start:models]
class Line(BaseModel):
    sku: str
    qty: int


class Order(BaseModel):
    """The workflow's input; fnact builds the run state of `reserve_line` from it."""

    order_id: str
    warehouse: str
    lines: list[Line]


class Quote(BaseModel):
    """What the app's own activity, `quote_order`, returns."""

    order_id: str
    total_cents: int


class Reservation(BaseModel):
    """What the fnact activity, `reserve_line`, returns."""

    sku: str
    qty: int
    warehouse: str


class Shipment(BaseModel):
    """The workflow's result."""

    order_id: str
    total_cents: int
    reserved: list[Reservation]
    short: list[str]


# --8<-- [end:models]
