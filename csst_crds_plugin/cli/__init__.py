"""The ``csst-crds`` command line."""
