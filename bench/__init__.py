"""VTM's benchmarks (docs/benchmarks.md): `make bench`, or `python -m bench --help`."""
