"""The calibration team's web console (optional extra ``web``): browse, compare, submit.

``create_app(cache)`` is the Starlette application of ``csst-crds serve``; ``write_site`` writes
the browse pages as static HTML (``csst-crds site``).
"""

__all__: list[str] = []
