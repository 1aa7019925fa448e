"""Code shown in the how-to guides; the tests in ``tests/examples`` run every part of it."""
