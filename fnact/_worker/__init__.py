"""The worker side: building workers, the plugin, housekeeping, probes and the dev server.

Nothing here is imported by ``import fnact``: `fnact.worker` is the public way in.
"""
