"""From ``Settings.output_root`` (and an optional configured store) to the store behind it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from fnact._outputs._backend import Backend
from fnact._outputs._local import LocalBackend

__all__ = ["OBJECT_STORE_SCHEMES", "backend_for", "is_local_root", "normalize_root"]

OBJECT_STORE_SCHEMES = frozenset({"s3", "s3a", "gs", "az", "abfs", "abfss", "azure", "memory"})
"""URL schemes of object stores an output root may name (obstore's)."""

_backends: dict[tuple[str, int], tuple[Backend, Any]] = {}
_lock = threading.Lock()


def normalize_root(root: object, *, field: str = "Settings.output_root") -> Path | str:
    """Return ``root`` as a local `Path` or an object store URL; refuse anything else.

    >>> normalize_root("/data/out")
    PosixPath('/data/out')
    >>> normalize_root("file:///data/out")
    PosixPath('/data/out')
    >>> normalize_root("s3://bucket/prefix")
    's3://bucket/prefix'

    Raises:
        TypeError: ``root`` is neither a path nor a string, naming ``field``.
        ValueError: ``root`` is a URL of a scheme no store serves, naming ``field``.
    """
    if isinstance(root, Path):
        return root
    if not isinstance(root, str):
        raise TypeError(
            f"{field} must be a path or a URL string (file://, s3://, gs://, az://, memory://), "
            f"not {type(root).__qualname__}"
        )
    if "://" not in root:
        return Path(root)
    scheme = urlsplit(root).scheme.lower()
    if scheme == "file":
        return Path(unquote(urlsplit(root).path))
    if scheme not in OBJECT_STORE_SCHEMES:
        raise ValueError(
            f"{field} {root!r}: the scheme {scheme!r} names no store; use a local path, or a "
            "file://, s3://, gs://, az:// or memory:// URL"
        )
    return root


def is_local_root(root: Path | str, store: object | None = None) -> bool:
    """Whether outputs under ``root`` are local files (no store configured in the container)."""
    return store is None and not (isinstance(root, str) and "://" in root)


def backend_for(root: Path | str, store: Any = None) -> Backend:
    """Return the store behind ``root`` (one per root and store per process).

    ``store`` is an obstore store the container provides (``output_store``); it
    then serves the root, and the root names it in references.
    """
    root = normalize_root(root)
    url = str(root)
    key = (url, id(store))
    found = _backends.get(key)
    if found is not None:
        return found[0]
    with _lock:
        found = _backends.get(key)
        if found is None:
            found = (_build(root, store), store)
            _backends[key] = found
    return found[0]


def _build(root: Path | str, store: Any) -> Backend:
    from fnact._outputs._object_store import ObjectStoreBackend

    if store is not None:
        return ObjectStoreBackend(store, str(root))
    if isinstance(root, Path):
        return LocalBackend(root)
    try:
        from obstore.store import MemoryStore, from_url
    except ImportError as exc:
        raise ImportError(
            f"Settings.output_root {root!r} is on object storage, which needs obstore: "
            "pip install 'fnact[objectstore]' (or 'fnact[s3]' on S3)"
        ) from exc
    if urlsplit(root).scheme.lower() == "memory":
        # One store per memory:// URL in this process: for tests and single-process runs.
        return ObjectStoreBackend(MemoryStore(), root)
    return ObjectStoreBackend(from_url(root), root)
