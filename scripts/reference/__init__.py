"""Python reference generators for leakscope fixtures (see scripts/make_reference.py)."""
