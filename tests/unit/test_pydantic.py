"""pydantic v2 models on fnact's side: inputs, results, faults, workflow arguments, converters."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
import temporalio.converter
from dependency_injector import providers
from pydantic import BaseModel, ConfigDict, Field
from returns.result import Failure, Result, Success
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticPayloadConverter, pydantic_data_converter
from temporalio.exceptions import ApplicationError

import fnact
import fnact.worker
from fnact._converter import NonFiniteFloatError, decoder_for, with_fnact_converter
from fnact._history_check import problems_decoding
from fnact.exceptions import ActivityDefinitionError
from fnact.testing import ActivityHarness, run_activity

ROOT = Path(__file__).resolve().parents[2]
PLACED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


class Line(BaseModel):
    sku: str
    qty: int


class Order(BaseModel):
    order_id: str = Field(alias="orderId")
    lines: list[Line]
    placed: datetime


class Priced(BaseModel):
    order_id: str
    total: float


class Lenient(BaseModel):
    model_config = ConfigDict(strict=False)
    qty: int


@dataclass
class Address:
    city: str


class Customer(BaseModel):
    """A model holding a dataclass."""

    name: str
    address: Address


class Shipment(msgspec.Struct):
    """A Struct holding a model."""

    carrier: str
    order: Order


class Tenant(BaseModel):
    name: str
    region: str


class OutOfStock(fnact.Fault):
    """A fault whose field is a model."""

    line: Line


@dataclass
class Session:
    region: str


class TenantContainer(fnact.Container):
    handler = providers.Factory(lambda workflow_args: Session(workflow_args.region))


@fnact.activity
async def price(ctx: fnact.ActivityContext, order: Order) -> Result[Priced, OutOfStock]:
    for line in order.lines:
        if line.qty <= 0:
            return Failure(OutOfStock(line=line))
    return Success(Priced(order_id=order.order_id, total=sum(line.qty for line in order.lines)))


@fnact.activity
async def pick(ctx: fnact.ActivityContext, shipment: Shipment) -> Result[list[Line], OutOfStock]:
    return Success([line for line in shipment.order.lines if line.qty > 0])


@fnact.activity
async def city_of(ctx: fnact.ActivityContext, customer: Customer) -> Result[str, OutOfStock]:
    return Success(f"{customer.name} in {customer.address.city}")


@fnact.activity
async def count(ctx: fnact.ActivityContext, value: Lenient) -> Result[int, OutOfStock]:
    return Success(value.qty)


@fnact.activity
async def region_of(
    ctx: fnact.ActivityContext[Session, Tenant], line: Line
) -> Result[str, OutOfStock]:
    return Success(f"{ctx.state.workflow_args.name}:{ctx.state.handler.region}:{line.sku}")


def order(*lines: Line) -> Order:
    return Order(orderId="o-1", lines=list(lines), placed=PLACED)


def order_json(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "orderId": "o-1",
        "lines": [{"sku": "a", "qty": 2}],
        "placed": "2026-03-01T09:30:00Z",
    }
    value.update(changes)
    return value


async def test_a_model_input_and_result_run_through_the_adapter() -> None:
    """A model input is decoded for the activity and its model result comes back equal."""
    result = await run_activity(
        price, order(Line(sku="a", qty=2), Line(sku="b", qty=3)), container=fnact.Container()
    )
    assert result == Success(Priced(order_id="o-1", total=5.0))


async def test_a_wrong_field_type_fails_once_naming_its_path() -> None:
    """A string for an int deep in the input fails non-retryable, naming ``$.lines[1].qty``."""
    bad = order_json(lines=[{"sku": "a", "qty": 1}, {"sku": "b", "qty": "3"}])
    with pytest.raises(ApplicationError) as caught:
        await run_activity(price, bad, container=fnact.Container())  # type: ignore[arg-type]
    assert caught.value.type == "InvalidActivityInput"
    assert caught.value.non_retryable
    assert caught.value.message == (
        "activity 'price': invalid input: Input should be a valid integer - at `$.lines[1].qty`"
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"lines": [{"sku": "a", "qty": 1.5}]},
            "Input should be a valid integer - at `$.lines[0].qty`",
        ),
        ({"lines": [{"sku": "a"}]}, "Field required - at `$.lines[0].qty`"),
        ({"placed": 1}, "Input should be a valid datetime - at `$.placed`"),
        ({"orderId": 7}, "Input should be a valid string - at `$.orderId`"),
        ({"lines": {}}, "Input should be a valid array - at `$.lines`"),
    ],
)
def test_decoding_is_strict_and_names_the_field(changes: dict[str, Any], message: str) -> None:
    """A float for an int, a number for a datetime, or a missing field is refused."""
    data = msgspec.json.encode(order_json(**changes))
    with pytest.raises(msgspec.ValidationError) as caught:
        decoder_for(Order).decode(data)
    assert str(caught.value) == message


def test_strict_json_still_reads_what_json_carries_as_strings() -> None:
    """Strict decoding still reads a datetime from the string JSON carries it as."""
    decoded = decoder_for(Order).decode(msgspec.json.encode(order_json()))
    assert decoded == order(Line(sku="a", qty=2))
    assert decoded.placed == PLACED


def test_malformed_json_is_a_decode_error() -> None:
    """Bytes that are not JSON raise msgspec.DecodeError, as msgspec's own decoders do."""
    with pytest.raises(msgspec.DecodeError, match="Invalid JSON") as caught:
        decoder_for(Order).decode(b'{"orderId":')
    assert not isinstance(caught.value, msgspec.ValidationError)


async def test_a_model_that_asks_for_lax_validation_gets_it() -> None:
    """A model whose config sets strict=False itself is validated with its own settings."""
    assert await run_activity(count, {"qty": "3"}, container=fnact.Container()) == Success(3)  # type: ignore[arg-type]


def test_models_are_encoded_by_alias_as_temporal_s_pydantic_converter_does() -> None:
    """The fnact converter writes a model's JSON byte for byte as pydantic_data_converter does."""
    value = order(Line(sku="a", qty=2))
    ours = fnact.worker.data_converter.payload_converter.to_payloads([value])[0]
    theirs = pydantic_data_converter.payload_converter.to_payloads([value])[0]
    assert ours.metadata["encoding"] == b"json/plain"
    assert ours.data == theirs.data
    assert ours.data.startswith(b'{"orderId":"o-1","lines":[{"sku":"a","qty":2}]')


@pytest.mark.parametrize(
    "converter",
    [
        fnact.worker.data_converter,
        with_fnact_converter(pydantic_data_converter),
        pydantic_data_converter,
    ],
    ids=["fnact", "fnact-in-front-of-pydantic", "pydantic"],
)
def test_a_workflow_s_model_argument_decodes_in_the_activity(
    converter: temporalio.converter.DataConverter,
) -> None:
    """What the workflow's converter writes for a model, fnact's adapter decodes strictly."""
    value = order(Line(sku="a", qty=2))
    payload = converter.payload_converter.to_payloads([value])[0]  # as execute_activity does
    assert decoder_for(Order).decode(payload.data) == value
    back = converter.payload_converter.from_payloads([payload], [Order])[0]
    assert back == value


def test_the_coexisting_converter_leaves_models_to_the_app_s_converter() -> None:
    """In front of the app's converter, fnact hands it the app's models to encode and decode."""
    seen: list[Any] = []

    class Recording(PydanticPayloadConverter):
        def to_payloads(self, values: Any) -> list[Payload]:
            seen.extend(values)
            return super().to_payloads(values)

    app = temporalio.converter.DataConverter(payload_converter_class=Recording)
    both = with_fnact_converter(app).payload_converter
    value = order(Line(sku="a", qty=2))
    payloads = both.to_payloads([value, Address(city="Oslo")])
    assert seen == [value]
    assert both.from_payloads(payloads, [Order, Address]) == [value, Address(city="Oslo")]


async def test_a_struct_holding_a_model_names_the_full_path() -> None:
    """A model inside a Struct decodes, and its bad field is named from the Struct down."""
    shipment = Shipment(carrier="post", order=order(Line(sku="a", qty=2), Line(sku="b", qty=0)))
    picked = await run_activity(pick, shipment, container=fnact.Container())
    assert picked == Success([Line(sku="a", qty=2)])
    bad = {"carrier": "post", "order": order_json(lines=[{"sku": "a", "qty": "2"}])}
    with pytest.raises(ApplicationError) as caught:
        await run_activity(pick, bad, container=fnact.Container())  # type: ignore[arg-type]
    assert caught.value.non_retryable
    assert caught.value.message.endswith(
        "Input should be a valid integer - at `$.order.lines[0].qty`"
    )


async def test_a_model_holding_a_dataclass_decodes() -> None:
    """A model's dataclass field is validated by pydantic, strictly."""
    customer = Customer(name="Ada", address=Address(city="London"))
    result = await run_activity(city_of, customer, container=fnact.Container())
    assert result == Success("Ada in London")
    with pytest.raises(msgspec.ValidationError, match=r"- at `\$\.address\.city`$"):
        decoder_for(Customer).decode(b'{"name":"Ada","address":{"city":5}}')


async def test_a_fault_with_a_model_field_comes_back_typed() -> None:
    """A Failure whose fault holds a model travels as its details and comes back equal."""
    result = await run_activity(price, order(Line(sku="z", qty=0)), container=fnact.Container())
    assert result == Failure(OutOfStock(line=Line(sku="z", qty=0)))


async def test_workflow_args_may_be_a_model(tmp_path: Path) -> None:
    """The run state is built from a pydantic workflow input, with no mirror type."""
    container = TenantContainer()
    async with ActivityHarness(
        container, output_root=tmp_path, workflow_args=Tenant(name="acme", region="eu")
    ) as harness:
        run = await harness.run(region_of, Line(sku="a", qty=1))
    assert run.unwrap() == Success("acme:eu:a")


async def test_workflow_args_that_do_not_validate_fail_once_naming_the_path() -> None:
    """Workflow arguments that do not fit the model fail non-retryable, naming the field."""
    with pytest.raises(ApplicationError) as caught:
        await run_activity(
            region_of,
            Line(sku="a", qty=1),
            container=TenantContainer(),
            workflow_args={"name": "acme", "region": 3},
        )
    assert caught.value.type == "StateError"
    assert caught.value.non_retryable
    assert "workflow arguments do not match" in caught.value.message
    assert caught.value.message.endswith("Input should be a valid string - at `$.region`")


async def test_harness_names_workflow_args_it_cannot_encode(tmp_path: Path) -> None:
    """A workflow_args value no converter encodes fails naming workflow_args and its type."""

    class Opaque:
        pass

    harness = ActivityHarness(TenantContainer(), output_root=tmp_path)
    harness.workflow_args = Opaque()
    with pytest.raises(TypeError) as caught:
        await harness.run(region_of, Line(sku="a", qty=1))
    await harness.aclose()
    message = str(caught.value)
    assert message.startswith("ActivityHarness workflow_args: fnact's converter cannot encode")
    assert "type Opaque" in message
    assert "data_converter=" in message


async def test_harness_encodes_with_the_app_s_converter(tmp_path: Path) -> None:
    """Given the app's converter, the harness encodes workflow_args and inputs with it."""
    seen: list[Any] = []

    class Recording(PydanticPayloadConverter):
        def to_payloads(self, values: Any) -> list[Payload]:
            seen.extend(values)
            return super().to_payloads(values)

    app = temporalio.converter.DataConverter(payload_converter_class=Recording)
    tenant = Tenant(name="acme", region="eu")
    line = Line(sku="a", qty=1)
    async with ActivityHarness(TenantContainer(), output_root=tmp_path, data_converter=app) as h:
        h.workflow_args = tenant
        run = await h.run(region_of, line)
    assert run.unwrap() == Success("acme:eu:a")
    assert seen == [tenant, line]


def test_nan_in_a_model_is_refused_naming_where() -> None:
    """NaN in a model field is refused when encoding, naming its JSON path."""
    with pytest.raises(NonFiniteFloatError, match=r"at `\$\[0\]\.total`"):
        fnact.worker.data_converter.payload_converter.to_payloads(
            [[Priced(order_id="o", total=math.nan)]]
        )


def test_decoration_accepts_models_where_types_are_checked() -> None:
    """Inputs, results, the workflow arguments type and fault fields may be models."""
    definition = region_of.definition
    assert definition.workflow_args_type is Tenant
    assert price.definition.result_type is Priced
    assert price.definition.error_types == {"OutOfStock": OutOfStock}
    assert pick.definition.result_type == list[Line]


def test_a_model_is_not_an_error_type() -> None:
    """An error type must stay a Struct or dataclass; the message says a model can be a field."""

    async def f(ctx: fnact.ActivityContext, line: Line) -> Result[int, Line]:
        return Success(1)

    with pytest.raises(ActivityDefinitionError, match="a pydantic model can be one of its fields"):
        fnact.activity(f)


def test_the_history_check_reports_a_model_s_field_path() -> None:
    """The history check reports a recorded value that no longer fits a model at its path."""
    payload = Payload(
        metadata={"encoding": b"json/plain"},
        data=msgspec.json.encode(order_json(lines=[{"sku": "a", "qty": "x"}])),
    )
    assert problems_decoding(payload, Order) == [
        ("$.lines[0].qty", "Input should be a valid integer")
    ]


def test_fnact_imports_and_runs_without_pydantic() -> None:
    """With pydantic not installable, fnact imports without it and runs an activity."""
    script = textwrap.dedent(
        """
        import asyncio
        import sys


        class NoPydantic:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in ("pydantic", "pydantic_core", "pydantic_settings"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None


        sys.meta_path.insert(0, NoPydantic())
        import msgspec
        from returns.result import Result, Success

        import fnact
        import fnact.worker
        import fnact.workflow
        from fnact.testing import run_activity
        from temporalio.exceptions import ApplicationError


        class Args(msgspec.Struct):
            n: int


        @fnact.activity
        async def double(ctx: fnact.ActivityContext, args: Args) -> Result[int, fnact.Fault]:
            return Success(args.n * 2)


        print(asyncio.run(run_activity(double, Args(3), container=fnact.Container())).unwrap())
        try:
            asyncio.run(run_activity(double, {"n": "3"}, container=fnact.Container()))
        except ApplicationError as exc:
            print(exc.message)
        print(sorted(m for m, v in sys.modules.items() if m.startswith("pydantic") and v))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "6",
        "activity 'double': invalid input: Expected `int`, got `str` - at `$.n`",
        "[]",
    ]
