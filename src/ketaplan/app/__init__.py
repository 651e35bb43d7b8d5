"""Use cases: each module is one thing a coordinator or a script does (book a series,
change one, run a batch, plan a batch jointly, audit an imported series). Only this
layer combines planning (core, solver) with storage (store)."""
