"""Every private API of temporalio and fnact the benchmarks use, imported here and only here.

The other benchmark modules take these names from this module, never from a private
module of either package, so when fnact renames a private module or temporalio changes
its internals, this file is the one to change. Each name is re-exported without its
leading underscore.
"""

from temporalio.activity import _Definition
from temporalio.worker._activity import _ActivityInboundImpl, _ActivityOutboundImpl

from fnact._adapter import build_adapter
from fnact._headers import START_HEADER
from fnact._metrics import WorkerMetrics
from fnact._run_facts import read_run
from fnact._worker._interceptor import RunHeadersInterceptor

ActivityDefinition = _Definition
"""temporalio's activity definition; its ``arg_types`` are what the worker decodes with."""
ActivityInboundImpl = _ActivityInboundImpl
"""The last link of temporalio's activity inbound chain: it awaits the activity function."""
ActivityOutboundImpl = _ActivityOutboundImpl
"""temporalio's activity outbound link, with which the worker initializes the inbound chain."""

__all__ = [
    "START_HEADER",
    "ActivityDefinition",
    "ActivityInboundImpl",
    "ActivityOutboundImpl",
    "RunHeadersInterceptor",
    "WorkerMetrics",
    "build_adapter",
    "read_run",
]
"""What the benchmarks use: fnact's adapter builder (`build_adapter`), the header an fnact
workflow puts its run's start time in (`START_HEADER`), the worker's interceptor
(`RunHeadersInterceptor`), its metrics (`WorkerMetrics`) and its history read (`read_run`),
and temporalio's activity internals above."""
