"""``python -m fnact``: the ``fnact`` command."""

from fnact._cli import run

if __name__ == "__main__":
    run()
