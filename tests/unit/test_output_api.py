"""ctx.outputs in activities, and the local-only output calls on an object store root."""

from __future__ import annotations

import uuid
from pathlib import Path

import msgspec
import pytest
from returns.result import Result, Success

import fnact
from fnact.exceptions import OutputError
from fnact.testing import ActivityHarness, assert_success


class Export(msgspec.Struct, frozen=True):
    name: str
    body: str


@fnact.activity
async def export(ctx: fnact.ActivityContext, args: Export) -> Result[fnact.OutputRef, fnact.Fault]:
    if await ctx.outputs.exists(args.name):
        return Success(await ctx.outputs.ref(args.name))
    return Success(await ctx.outputs.write(args.name, args.body))


@fnact.activity
async def local_only(ctx: fnact.ActivityContext, args: str) -> Result[str, fnact.Fault]:
    if args == "output_path":
        return Success(str(ctx.output_path))
    if args == "write_output":
        return Success(str(ctx.write_output("a.txt", b"x")))
    return Success(str(ctx.has_output("a.txt")))


def memory_root() -> str:
    return f"memory://{uuid.uuid4().hex}"


async def test_an_activity_writes_through_ctx_outputs_on_an_object_store_root() -> None:
    """ctx.outputs writes under the run's prefix; the harness reads it back by name and ref."""
    with ActivityHarness(fnact.Container(), output_root=memory_root()) as harness:
        run = await harness.run(export, Export("report.csv", "a,b\n"))
        ref = assert_success(run)
        assert ref.key == f"{harness.output_prefix}/report.csv"
        assert await harness.outputs.read("report.csv") == b"a,b\n"
        assert await harness.outputs.read(ref) == b"a,b\n"
        assert run.files == {}
        assert run.output_path is None


async def test_a_retry_finds_the_committed_output_and_skips_the_work() -> None:
    """A second attempt sees the first attempt's committed output and returns its reference."""
    with ActivityHarness(fnact.Container(), output_root=memory_root()) as harness:
        first = assert_success(await harness.run(export, Export("r.json", "1")))
        again = assert_success(await harness.run(export, Export("r.json", "2"), attempt=2))
        assert again == first
        assert await harness.outputs.read("r.json") == b"1"


@pytest.mark.parametrize(
    ("call", "replacement"),
    [
        ("output_path", "ctx.outputs"),
        ("write_output", "await ctx.outputs.write"),
        ("has_output", "await ctx.outputs.exists"),
    ],
)
async def test_local_only_calls_name_their_replacement_on_an_object_store_root(
    call: str, replacement: str
) -> None:
    """ctx.output_path, write_output and has_output on an S3-like root name what to use."""
    root = memory_root()
    with ActivityHarness(fnact.Container(), output_root=root) as harness:
        run = await harness.run(local_only, call)
        assert isinstance(run.exception, OutputError)
        message = str(run.exception)
        assert f"ctx.{call}" in message
        assert root in message
        assert replacement in message
        with pytest.raises(OutputError, match=r"harness\.outputs"):
            _ = harness.output_path


async def test_on_a_local_root_outputs_and_output_path_agree(tmp_path: Path) -> None:
    """On a local root, ctx.outputs writes into ctx.output_path; checksum files stay hidden."""
    with ActivityHarness(fnact.Container(), output_root=str(tmp_path)) as harness:
        run = await harness.run(export, Export("tables/users.json", "[]"))
        ref = assert_success(run)
        assert Path(ref.url) == harness.output_path / "tables" / "users.json"
        assert run.files == {"tables/users.json": b"[]"}
        assert await harness.outputs.list() == ["tables/users.json"]
        assert assert_success(await harness.run(local_only, "has_output")) == "False"


def test_settings_take_a_str_path_or_a_url_and_refuse_other_types() -> None:
    """A str root becomes a Path, a file:// URL too, object store URLs stay; others are refused."""
    assert fnact.Settings(output_root="/data/out").output_root == Path("/data/out")
    assert fnact.Settings(output_root="file:///data/out").output_root == Path("/data/out")
    assert fnact.Settings(output_root="s3://b/p").output_root == "s3://b/p"
    with pytest.raises(TypeError, match=r"Settings\.output_root must be a path or a URL"):
        fnact.Settings(output_root=42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'ftp' names no store"):
        fnact.Settings(output_root="ftp://host/x")
