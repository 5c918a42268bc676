"""How hard the suite searches: CSRISK_TEST_PROFILE=local (the default, `make test` on a
laptop) or ci (.ci/run). One place decides how many examples every property test and the
API fuzzer draw, so a local run stays within minutes and CI searches harder.

A local budget is smaller, never empty: each property test still runs, and the fuzzer
still sends every operation of the schema, valid and invalid (tests/test_api_fuzz.py).
"""

from __future__ import annotations

import os

PROFILES = ("local", "ci")
PROFILE = os.environ.get("CSRISK_TEST_PROFILE", "local")
if PROFILE not in PROFILES:
    raise RuntimeError(f"CSRISK_TEST_PROFILE={PROFILE!r}: choose one of {', '.join(PROFILES)}")

# A local run draws this share of the CI budget of each property test, and at least
# LOCAL_MINIMUM examples (hypothesis finds most counterexamples in its first few dozen).
LOCAL_SHARE = 0.25
LOCAL_MINIMUM = 10


def examples(ci: int) -> int:
    """How many examples a property test with a CI budget of ``ci`` draws in this run."""
    if PROFILE == "ci":
        return ci
    return min(ci, max(LOCAL_MINIMUM, round(ci * LOCAL_SHARE)))


def fuzz_examples() -> int:
    """Examples per API operation and phase for schemathesis (``--max-examples``);
    CSRISK_FUZZ_EXAMPLES, when set, wins over the profile."""
    given = os.environ.get("CSRISK_FUZZ_EXAMPLES")
    if given:
        return int(given)
    return 10 if PROFILE == "ci" else 5


def fuzz_phases() -> str:
    """The schemathesis phases (``--phases``). Locally: the schema's own examples, then
    generated valid and invalid requests for every operation. CI adds the coverage phase,
    which sends every boundary value the schema defines and methods no operation has:
    about 250 requests per operation whatever --max-examples says, nine tenths of the
    fuzzer's time."""
    return "examples,coverage,fuzzing" if PROFILE == "ci" else "examples,fuzzing"
