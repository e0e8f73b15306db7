"""Training on top of the task registry and rsl-rl: the rsl-rl config classes of the tasks' agents (:mod:`.rsl_rl_cfg`),
the DAgger warm start (:mod:`.dagger`, :mod:`.warm_start`), trained policies as functions (:mod:`.policy`), the run
directory layout (:mod:`.run`), console progress and learning-curve plots."""
