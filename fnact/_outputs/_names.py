"""Output names: checked once, so no name leaves its run's prefix on any store."""

from __future__ import annotations

__all__ = ["output_parts"]


def output_parts(relative: str) -> list[str]:
    """Return the parts of an output name, refusing any name that is not strictly a file in it.

    ``relative`` is one or more ``/``-separated names. Refused: an empty name,
    an absolute path, an empty part (``a//b``, ``a/``), a part made only of dots
    (``.``, ``./a``, ``a/.``, ``..``), a backslash or NUL.

    >>> output_parts("tables/users.json")
    ['tables', 'users.json']
    >>> output_parts("../etc/passwd")
    Traceback (most recent call last):
    ...
    ValueError: output file name '../etc/passwd' has the part '..': ...

    Raises:
        ValueError: naming ``relative`` and what is wrong with it.
    """
    if not relative:
        raise ValueError("output file name '' is empty: give a file name under the output path")
    if "\0" in relative or "\\" in relative:
        raise ValueError(f"output file name {relative!r} contains NUL or a backslash")
    if relative.startswith("/"):
        raise ValueError(
            f"output file name {relative!r} is absolute: it must stay under the run's output path"
        )
    parts = relative.split("/")
    for part in parts:
        if not part:
            raise ValueError(
                f"output file name {relative!r} has an empty part: each part must be a file "
                "or folder name"
            )
        if not part.strip("."):
            raise ValueError(
                f"output file name {relative!r} has the part {part!r}: each part must be a "
                "file or folder name strictly under the run's output path"
            )
    return parts
