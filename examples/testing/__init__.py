"""Tests that double as the code of the testing how-to guides (docs/how-to/)."""
