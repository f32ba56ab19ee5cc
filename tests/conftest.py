import os
import sys

from hypothesis import settings

sys.path.insert(0, os.path.dirname(__file__))  # tests/naive*.py references

# Hypothesis profiles (Hypothesis itself loads its built-in "ci" profile when it sees CI=true; these replace it).
# - "ci": a fixed sequence of examples, so a submission's verdict is reproducible (.ci/run sets CI=true);
#   local runs draw fresh examples each time.
# - "sweep": what an explicit --hypothesis-seed=N selects (tests/seed_sweep.py, the random-seed runs of .ci/run,
#   a user replaying a failure): no example database, so the run is a function of N alone.
# Every tolerance in the suite comes from an error model, so the suite is meant to pass under ANY seed;
# `python tests/seed_sweep.py` checks that over many seeds.
_default = settings.get_profile("default")  # the parent: not whatever profile was current at import
settings.register_profile("ci", _default, derandomize=True, database=None, print_blob=True)
settings.register_profile("sweep", _default, database=None, print_blob=True)


def pytest_configure(config):
    if config.getoption("--hypothesis-profile", None):
        return  # the user chose; Hypothesis's plugin loads it
    if config.getoption("--hypothesis-seed", None) is not None:
        settings.load_profile("sweep")  # derandomize (the "ci" profile) would silently ignore the seed
    elif os.environ.get("CI"):
        settings.load_profile("ci")


def pytest_report_header(config):
    seed = config.getoption("--hypothesis-seed", None)
    profile = settings.get_current_profile_name()
    if seed is not None:
        return f"hypothesis: seed {seed}, profile {profile!r} (replay: pytest --hypothesis-seed={seed})"
    if profile == "ci":
        return "hypothesis: profile 'ci' (derandomized: the same examples on every run)"
    return f"hypothesis: profile {profile!r}, fresh random examples (pass --hypothesis-seed=N to fix them)"
