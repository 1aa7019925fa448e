"""Test fnact activities without a cluster, and workflows against a real dev server.

Installing fnact registers a pytest plugin with the fixtures in
`fnact.testing._plugin`.
"""

from fnact._devserver import DevServer, DevServerError, find_temporal_cli
from fnact.testing._activity import activity_info, run_activity

__all__ = ["DevServer", "DevServerError", "activity_info", "find_temporal_cli", "run_activity"]
