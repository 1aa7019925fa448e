"""One activity written three ways: plain Temporal, the original base class, and fnact.

The explanation page "Three ways to write the same activity" shows these modules side by
side; ``tests/examples/test_comparison.py`` runs every one of them.
"""
