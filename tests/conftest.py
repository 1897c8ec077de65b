"""Shared test configuration.

Hypothesis profiles, chosen with the environment variable ``HYPOTHESIS_PROFILE``:

* ``ci`` (default): bounded so the whole suite stays quick on a 2-core machine;
* ``dev``: many more examples and longer state-machine runs, for local bug hunts;
* ``debug``: few examples with verbose output, to watch a state machine run;
* ``noshrink``: ``ci`` without the shrink phase.  The state machines compare
  the whole table after every step, so shrinking a failure can take Hypothesis'
  full five-minute shrink budget; use this to see the first failure at once.

No deadline in any profile: the first call of a test builds lookup indexes and
a shared CI machine has noisy timings.
"""
import os

from hypothesis import HealthCheck, Phase, Verbosity, settings

settings.register_profile(
    "ci",
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=1500,
    stateful_step_count=100,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "debug",
    max_examples=10,
    stateful_step_count=20,
    deadline=None,
    verbosity=Verbosity.verbose,
    print_blob=True,
)
settings.register_profile(
    "noshrink",
    settings.get_profile("ci"),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
