"""Load generator for the worker protocol: simulated workers against a running amtune.

Run ``python -m bench.load --help``; results and the exact command are in bench/LOAD_RESULTS.md.
"""
