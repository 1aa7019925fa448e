"""mypkg's container: fnact's providers, and the price list the activities read."""

# --8<-- [start:container]
import fnact
from dependency_injector import providers


class Container(fnact.Container):
    """The composition root: fnact's own providers plus the project's."""

    prices = providers.Object({"apple": 50, "pear": 75})  # cents per item


# --8<-- [end:container]
