"""CSST reference constraints: all.toml plus one file per instrument."""
