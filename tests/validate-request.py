#!/usr/bin/env python3
# validate-request.py
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs test-request in dump mode and validates every body it builds against
# the request schema of its api-version, then checks that the schemas do
# reject bodies of the wrong shape, so that this test can fail at all.
#
# Usage: validate-request.py /path/to/test-request

import copy
import json
import os
import subprocess
import sys
import tempfile

SKIP = 77

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema is not installed")
    sys.exit(SKIP)

SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "schemas")

SCHEMAS = {
    "2024-10-21": "request-schema-2024-10-21.json",
    "2023-08-01-preview": "legacy-2023-08-01-preview.json",
}

# Fewer bodies than this means test-request lost rows or stopped dumping.
MIN_BODIES = 10


def load_validator(name):
    with open(os.path.join(SCHEMA_DIR, name), encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    checker = getattr(jsonschema.Draft7Validator, "FORMAT_CHECKER", None)
    if checker is None:
        checker = jsonschema.draft7_format_checker
    return jsonschema.Draft7Validator(schema, format_checker=checker)


def errors_of(validator, body):
    return sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))


def describe(error):
    path = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return "%s: %s" % (path, error.message[:160])


def dump_bodies(test_request, directory):
    env = dict(os.environ)
    env.pop("GAZE_DUMP_DIR", None)
    result = subprocess.run([test_request, "--dump", directory],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, check=False)
    if result.returncode != 0:
        print(result.stdout)
        print("FAIL: %s --dump exited with %d" % (test_request, result.returncode))
        sys.exit(1)


def read_bodies(directory):
    bodies = {}
    for version in sorted(os.listdir(directory)):
        folder = os.path.join(directory, version)
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                bodies.setdefault(version, []).append((name, json.load(f)))
    return bodies


def has_image(body):
    for message in body["messages"]:
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and ("image" in part or "image_url" in part):
                    return True
    return False


def first_with_image(bodies):
    for name, body in bodies:
        if has_image(body):
            return name, body
    raise AssertionError("no body with an image")


def user_parts(body):
    for message in body["messages"]:
        if message["role"] == "user" and isinstance(message["content"], list):
            return message["content"]
    raise AssertionError("no user message with parts")


def image_part(body):
    for part in user_parts(body):
        if isinstance(part, dict) and ("image_url" in part or "image" in part):
            return part
    raise AssertionError("no image part")


def text_part(body):
    for part in user_parts(body):
        if isinstance(part, dict) and part.get("type") == "text":
            return part
    raise AssertionError("no text part")


def mutated(body, change):
    body = copy.deepcopy(body)
    change(body)
    return body


def checks_uri_format(validator):
    # jsonschema checks "format": "uri" only when rfc3987 is installed.
    return not validator.format_checker.conforms("not a uri", "uri")


def negative_cases(modern, legacy, uri_checked):
    """(name, schema version, body) that the schema must reject."""
    cases = []
    if uri_checked:
        cases.append(("image url that is not a URI", "2024-10-21",
                      mutated(modern, lambda b: image_part(b)["image_url"].update(url="not a uri"))))
    return cases + [
        ("image part without image_url", "2024-10-21",
         mutated(modern, lambda b: image_part(b).pop("image_url"))),
        ("image_url without url", "2024-10-21",
         mutated(modern, lambda b: image_part(b)["image_url"].pop("url"))),
        ("flat image part of the 2024-06-01 spec", "2024-10-21",
         mutated(modern, lambda b: image_part(b).update(url=image_part(b).pop("image_url")["url"]))),
        ("detail outside low/high/auto", "2024-10-21",
         mutated(modern, lambda b: image_part(b)["image_url"].update(detail="medium"))),
        ("text part without text", "2024-10-21",
         mutated(modern, lambda b: text_part(b).pop("text"))),
        ("unknown part type", "2024-10-21",
         mutated(modern, lambda b: text_part(b).update(type="image"))),
        ("empty user content", "2024-10-21",
         mutated(modern, lambda b: [m.update(content=[]) for m in b["messages"] if m["role"] == "user"])),
        ("no messages", "2024-10-21",
         mutated(modern, lambda b: b.update(messages=[]))),
        ("unknown role", "2024-10-21",
         mutated(modern, lambda b: b["messages"][0].update(role="robot"))),
        ("max_tokens as a string", "2024-10-21",
         mutated(modern, lambda b: b.update(max_tokens="800"))),
        ("legacy body sent to 2024-10-21", "2024-10-21", legacy),
        ("2024-10-21 body sent as legacy", "2023-08-01-preview", modern),
        ("legacy image without data", "2023-08-01-preview",
         mutated(legacy, lambda b: image_part(b).update(image=""))),
        ("legacy image with a type", "2023-08-01-preview",
         mutated(legacy, lambda b: image_part(b).update(type="image"))),
        ("legacy content a number", "2023-08-01-preview",
         mutated(legacy, lambda b: b["messages"][-1].update(content=42))),
    ]


def main():
    if len(sys.argv) != 2:
        print("usage: %s TEST-REQUEST" % sys.argv[0], file=sys.stderr)
        return 2

    validators = {version: load_validator(name) for version, name in SCHEMAS.items()}
    failures = 0

    with tempfile.TemporaryDirectory(prefix="gaze-bodies-") as directory:
        dump_bodies(sys.argv[1], directory)
        bodies = read_bodies(directory)

    for version, validator in validators.items():
        found = bodies.get(version, [])
        if len(found) < MIN_BODIES:
            print("FAIL: only %d bodies for api-version %s" % (len(found), version))
            failures += 1
            continue

        images = 0
        for name, body in found:
            errors = errors_of(validator, body)
            if errors:
                failures += 1
                print("FAIL: %s/%s does not match %s:" % (version, name, SCHEMAS[version]))
                for error in errors:
                    print("    " + describe(error))
            else:
                images += has_image(body)
                print("ok: %s/%s matches %s" % (version, name, SCHEMAS[version]))

        if images == 0:
            print("FAIL: no body with an image was validated for %s" % version)
            failures += 1

    for version in sorted(set(bodies) - set(validators)):
        print("not validated: %d bodies for %s, which has no schema here"
              % (len(bodies[version]), version))

    if failures == 0:
        modern_name, modern = first_with_image(bodies["2024-10-21"])
        legacy_name, legacy = first_with_image(bodies["2023-08-01-preview"])
        print("negative cases start from 2024-10-21/%s and 2023-08-01-preview/%s"
              % (modern_name, legacy_name))

        uri_checked = checks_uri_format(validators["2024-10-21"])
        if not uri_checked:
            print("not checked: \"format\": \"uri\" (this jsonschema has no rfc3987)")

        for name, version, body in negative_cases(modern, legacy, uri_checked):
            errors = errors_of(validators[version], body)
            if errors:
                print("ok: %s schema rejects %s (%s)" % (version, name, describe(errors[0])))
            else:
                print("FAIL: %s schema accepts %s" % (version, name))
                failures += 1

    if failures:
        print("%d failures" % failures)
        return 1

    return 0


if __name__ == "__main__":
    sys.exit(main())
