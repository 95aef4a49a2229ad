#!/usr/bin/python3
"""Validates client events against the official GA schemas, as the live server does.

    validate_events.py SCHEMAS_JSON EVENTS_JSONL

EVENTS_JSONL holds one client event (a JSON object) per line. Each is validated with
jsonschema's Draft 2020-12 validator against client_events_strict[event["type"]], the GA client
schemas with unevaluatedProperties:false (so a beta field such as session.input_audio_format, or
any unknown field, is a violation, like the server's unknown_parameter).

Prints one line per violation and a final summary line
    validated N events (type=count ...), I invalid
where I counts the events with at least one violation. Exit status: 0 all valid, 1 any invalid, 2 usage or unreadable input, 77 python3-jsonschema is
missing (the caller skips).
"""
import collections
import json
import sys

try:
    import jsonschema
except ImportError:
    print("python3-jsonschema is not installed: schema check skipped")
    sys.exit(77)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    with open(sys.argv[1]) as f:
        schemas = json.load(f)["client_events_strict"]
    validators = {t: jsonschema.Draft202012Validator(s) for t, s in schemas.items()}
    counts = collections.Counter()
    invalid = 0
    with open(sys.argv[2]) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError as e:
                print("line %d: not JSON: %s" % (n, e))
                invalid += 1
                continue
            kind = event.get("type") if isinstance(event, dict) else None
            counts[kind] += 1
            validator = validators.get(kind)
            if validator is None:
                print("line %d: unknown client event type %r" % (n, kind))
                invalid += 1
                continue
            errors = list(validator.iter_errors(event))
            for error in errors:
                path = ".".join(str(p) for p in error.absolute_path) or "(event)"
                print("line %d (%s): %s: %s" % (n, kind, path, error.message[:300]))
            invalid += 1 if errors else 0
    total = sum(counts.values())
    summary = " ".join("%s=%d" % (k, v) for k, v in sorted(counts.items(), key=str))
    print("validated %d events (%s), %d invalid" % (total, summary, invalid))
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
