"""fnact's benchmarks: `run.py` runs them; each `bench_*` module is one benchmark."""
