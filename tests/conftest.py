import os
import sys

from hypothesis import settings

sys.path.insert(0, os.path.dirname(__file__))  # tests/naive*.py references

# CI (CI=true, as .ci/run is run) explores a fixed sequence of examples, so a submission's verdict is reproducible;
# local runs draw fresh examples each time (`pytest --hypothesis-seed=N` replays one).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
