"""Benchmark: time to validate one request document, over generated requests of every kind.

Requests are made by mutating the examples in `examples/requests/` (the same scenario parties
the law tests use, shared/design/scenarios.md): another requested party, another date (some
before an instrument's entry into force), missing elements, another language, a field of the
wrong type. Each is validated as `comity request check` does (`comity.law.checking.check`:
type checks, then the law evaluator's `check_request`); requests the law refuses outright (an
unknown party, an instrument not in force) count too, since answering them is validation.

The baseline, measured in the same run on the same documents: plain JSON Schema validation
against `request_schema(kind)` with a validator compiled once per kind (`jsonschema`), which
checks shapes only - no instruments, routes, languages or declarations.

A second phase times the law evaluator alone (`check_request`) on each kind's complete example
request, as it runs when a draft is checked, against the same jsonschema baseline on the same
documents (this measurement was a timed assertion in tests/law/test_elements.py; speed is
measured here, not asserted in the test suite).

Prints its figures and, last, one JSON line. Goal: median under 1 ms (both phases).
Run `.venv/bin/python bench/validate.py --help`.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import jsonschema

from comity.directory.document import Directory, parse_directory
from comity.kit.errors import ComityError
from comity.law import check_request, get_law, request_schema
from comity.law.checking import HEADER_FIELDS, check

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "requests"
# The scenario directory is defined once, for the law tests; the benchmark reuses it.
sys.path.insert(0, str(ROOT))

from tests.law.conftest import scenario_directory_document  # noqa: E402

FIRST_DAY = date(2026, 1, 1)
LANGUAGES = ["en", "fr", "es", "ar", "zh", "de"]


def examples() -> dict[str, dict[str, Any]]:
    loaded = {}
    for path in sorted(EXAMPLES.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        loaded[document["kind"]] = document
    return loaded


def generate(count: int, seed: int, directory: Directory) -> list[tuple[dict[str, Any], date]]:
    """`count` (request, date) pairs, kinds in turn, each example mutated at random."""
    rng = random.Random(seed)
    base = examples()
    kinds = sorted(base)
    parties = [p.id for p in directory.participants]
    made = []
    for index in range(count):
        document = copy.deepcopy(base[kinds[index % len(kinds)]])
        on = FIRST_DAY + timedelta(days=rng.randrange(0, 3 * 365))
        roll = rng.random()
        if roll < 0.25:
            document["requested_party"] = rng.choice(parties)
        elif roll < 0.35:
            document["requesting_party"] = rng.choice(parties)
        if rng.random() < 0.3:
            document["language"] = rng.choice(LANGUAGES)
        elements = [k for k in document if k not in HEADER_FIELDS and k != "language"]
        for name in rng.sample(elements, k=min(len(elements), rng.choice([0, 0, 1, 2, 3]))):
            del document[name]
        if rng.random() < 0.2:
            document.pop("instrument", None)
        if rng.random() < 0.03 and elements:
            document[rng.choice(elements)] = 42
        made.append((document, on))
    return made


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="requests to validate")
    parser.add_argument("--warmup", type=int, default=1_000, help="untimed validations first")
    parser.add_argument("--seed", type=int, default=20260827)
    parser.add_argument(
        "--example-rounds", type=int, default=200, help="timed checks of each complete example"
    )
    args = parser.parse_args()

    directory = parse_directory(scenario_directory_document(), source="scenario directory")
    get_law()
    requests = generate(args.count, args.seed, directory)
    validators = {
        kind: jsonschema.Draft202012Validator(request_schema(kind)) for kind in get_law().kinds
    }

    outcomes: Counter[str] = Counter()

    def validate(document: dict[str, Any], on: date) -> str:
        try:
            return "blocking" if check(directory, document, on).blocking else "sendable"
        except ComityError as exc:
            return f"refused:{exc.code}"

    for document, on in requests[: args.warmup]:
        validate(document, on)
        list(validators[document["kind"]].iter_errors(document))

    timer = time.perf_counter_ns
    ours: list[float] = []
    baseline: list[float] = []
    for document, on in requests:
        start = timer()
        outcome = validate(document, on)
        middle = timer()
        list(validators[document["kind"]].iter_errors(document))
        end = timer()
        ours.append((middle - start) / 1e6)
        baseline.append((end - middle) / 1e6)
        outcomes[outcome] += 1

    # The complete examples through the law evaluator alone, as a draft is checked.
    example_on = date(2026, 9, 1)
    complete = list(examples().values())
    example_ours: list[float] = []
    example_baseline: list[float] = []
    for document in complete:
        check_request(directory, document, example_on)
    for _ in range(args.example_rounds):
        for document in complete:
            start = timer()
            check_request(directory, document, example_on)
            middle = timer()
            list(validators[document["kind"]].iter_errors(document))
            end = timer()
            example_ours.append((middle - start) / 1e6)
            example_baseline.append((end - middle) / 1e6)
    example_median = statistics.median(example_ours)
    example_base_median = statistics.median(example_baseline)

    median, p99 = statistics.median(ours), percentile(ours, 0.99)
    base_median, base_p99 = statistics.median(baseline), percentile(baseline, 0.99)
    print(f"requests: {len(requests)} over {len(validators)} kinds, warm-up {args.warmup}")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    print(
        f"check (law + types): median {median:.4f} ms, p99 {p99:.4f} ms, "
        f"mean {statistics.fmean(ours):.4f} ms, max {max(ours):.4f} ms"
    )
    print(
        f"baseline (jsonschema, shapes only): median {base_median:.4f} ms, "
        f"p99 {base_p99:.4f} ms, mean {statistics.fmean(baseline):.4f} ms"
    )
    print(
        f"ratio check/baseline: median {median / base_median:.2f}x, p99 {p99 / base_p99:.2f}x; "
        f"goal median < 1 ms: {'met' if median < 1 else 'NOT met'}"
    )
    print(
        f"complete examples, law evaluator only ({len(complete)} kinds x {args.example_rounds}):"
        f" median {example_median:.4f} ms, p99 {percentile(example_ours, 0.99):.4f} ms;"
        f" baseline (jsonschema) median {example_base_median:.4f} ms;"
        f" goal median < 1 ms: {'met' if example_median < 1 else 'NOT met'}"
    )
    print(
        json.dumps(
            {
                "median_ms": round(median, 4),
                "p99_ms": round(p99, 4),
                "mean_ms": round(statistics.fmean(ours), 4),
                "count": len(requests),
                "baseline_median_ms": round(base_median, 4),
                "baseline_p99_ms": round(base_p99, 4),
                "example_median_ms": round(example_median, 4),
                "example_p99_ms": round(percentile(example_ours, 0.99), 4),
                "example_baseline_median_ms": round(example_base_median, 4),
            }
        )
    )
    return 0 if median < 1 and example_median < 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
