"""csst-crds-plugin: CRDS-syntax reference selection for the CSST pipelines."""
