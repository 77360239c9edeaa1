"""The tools behind the commands: sync, certify, delivery, diff, bestrefs, affected and more."""
