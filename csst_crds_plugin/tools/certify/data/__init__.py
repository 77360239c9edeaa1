"""Reference constraints as data, one folder per observatory (see docs/certify.md)."""
