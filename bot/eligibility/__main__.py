"""``python -m bot.eligibility --json '<facts>'``: the verdict of every programme for these facts."""

from __future__ import annotations

import argparse
import json
import sys

from pydantic import ValidationError

from bot.eligibility.engine import EligibilityEngine
from bot.eligibility.facts import Facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.eligibility")
    parser.add_argument(
        "--json",
        metavar="FACTS",
        required=True,
        help='facts as a JSON object, e.g. \'{"child_age": 9, "father": "imprisoned"}\'; "-" reads stdin',
    )
    args = parser.parse_args(argv)
    raw = sys.stdin.read() if args.json == "-" else args.json
    try:
        facts = Facts.model_validate(json.loads(raw))
    except json.JSONDecodeError as exc:
        print(json.dumps({"error": f"facts are not valid JSON: {exc.msg}"}), file=sys.stderr)
        return 2
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        print(json.dumps({"error": "invalid facts", "problems": problems}, ensure_ascii=False), file=sys.stderr)
        return 2
    results = EligibilityEngine.load().evaluate(facts)
    print(json.dumps({"programs": [r.to_json() for r in results]}, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
