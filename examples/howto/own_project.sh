#!/usr/bin/env bash
# Shell snippets of the "Use fnact in your own project" guide, one section each, run from
# the project's folder (examples/own_project). tests/examples/test_own_project.py runs the
# worker and test sections in a copy of that folder, and checks the install section against
# the project's pyproject.toml. Not meant to be run as a whole.

# --8<-- [start:install]
python3 -m venv .venv
source .venv/bin/activate
pip install 'fnact[server]' 'fnact[test]'
# --8<-- [end:install]

# --8<-- [start:worker]
fnact worker mypkg.worker:spec
# --8<-- [end:worker]

# --8<-- [start:test]
pytest
# --8<-- [end:test]
