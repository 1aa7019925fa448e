"""The project's pytest fixtures: fnact's pytest plugin needs the project's container."""

# --8<-- [start:conftest]
import pytest

from mypkg.container import Container


@pytest.fixture
def fnact_container() -> Container:
    """Return the project's container; the plugin's fixtures run activities with it."""
    return Container()


# --8<-- [end:conftest]
