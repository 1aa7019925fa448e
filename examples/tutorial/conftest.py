"""Fixtures for the tutorial's tests: the fnact pytest plugin needs the app's container."""

# --8<-- [start:container]
import pytest

from examples.tutorial.activities import Container


@pytest.fixture
def fnact_container() -> Container:
    """Return the app's container; the plugin's fixtures run activities with it."""
    return Container()


# --8<-- [end:container]
