"""The optional MILP solver (HiGHS, `ketaplan[optimize]`): imported only by --optimize."""
