#!/usr/bin/env python3
# check-potfiles.py
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Checks po/POTFILES.in against the sources, so that a string marked for
# translation cannot miss the template: every file under src/ and data/
# that marks strings (_(), N_(), C_(), NC_(), translatable="yes") or that
# gettext reads whole (.desktop.in, .metainfo.xml.in, .gschema.xml) must be
# listed; every file listed must exist; the list stays sorted and lists each
# file once. It also refuses a translatable C string glued to a GLib format
# macro ("%" G_GINT64_FORMAT): xgettext does not expand macros, so the
# template would get "%" alone and the sentence could never be translated.
#
# Usage: check-potfiles.py [SOURCE_ROOT]
#
# Without an argument, SOURCE_ROOT is the folder above this script. Exits 0
# when POTFILES.in is right and 1 otherwise, with one line per problem.

import os
import re
import sys

SCANNED_DIRS = ("src", "data")

# Only text that can hold translatable strings; images and the like are
# never read.
SCANNED_SUFFIXES = (".c", ".h", ".ui", ".blp", ".in", ".xml")

# Files that gettext extracts whole, whatever they contain.
WHOLE_FILE_SUFFIXES = (".desktop.in", ".metainfo.xml.in", ".gschema.xml")

# _("…"), N_("…"), C_("ctx", "…") and NC_("ctx", "…"), with or without a
# space before the parenthesis, but not the end of an identifier such as
# foo_(…).
GETTEXT_CALL = re.compile(r"(?<![A-Za-z0-9_])(?:N|C|NC)?_\s*\(")
TRANSLATABLE = re.compile(r"""translatable\s*=\s*["']yes["']""")

# The calls whose string arguments xgettext extracts from C.
EXTRACTED_CALL = re.compile(r"(?<![A-Za-z0-9_])(?:(?:N|C|NC)?_|g_d?n?gettext|g_dpgettext2?|"
                            r"d?n?gettext)\s*\(")
GLIB_FORMAT_MACRO = re.compile(r'"\s*(G_G?[A-Z0-9]+_(?:FORMAT|MODIFIER))\b')


def needs_translation(path):
    if path.endswith(WHOLE_FILE_SUFFIXES):
        return True
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return False
    return bool(GETTEXT_CALL.search(text) or TRANSLATABLE.search(text))


def call_arguments(text, start):
    """The text of the call's arguments from @start, just after its “(”, to
    the parenthesis that closes it, string literals skipped whole."""
    depth = 1
    i = start
    while i < len(text) and depth > 0:
        c = text[i]
        if c == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        i += 1
    return text[start:i - 1]


def glued_format_macros(path):
    """Lines where a translatable string is glued to a GLib format macro."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        return []
    problems = []
    for call in EXTRACTED_CALL.finditer(text):
        arguments = call_arguments(text, call.end())
        macro = GLIB_FORMAT_MACRO.search(arguments)
        if macro:
            line = text.count("\n", 0, call.start()) + 1
            problems.append((line, macro.group(1)))
    return problems


def translatable_files(root):
    found = set()
    for top in SCANNED_DIRS:
        for folder, dirs, files in os.walk(os.path.join(root, top)):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in files:
                if not name.endswith(SCANNED_SUFFIXES):
                    continue
                path = os.path.join(folder, name)
                if needs_translation(path):
                    found.add(os.path.relpath(path, root).replace(os.sep, "/"))
    return found


def read_potfiles(path):
    entries = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            # Comments, blank lines and [encoding: …] lines are not files.
            if not line or line.startswith(("#", "[")):
                continue
            entries.append((number, line))
    return entries


def check(root):
    potfiles = os.path.join(root, "po", "POTFILES.in")
    try:
        entries = read_potfiles(potfiles)
    except OSError as e:
        return [f"{potfiles}: {e}"]

    problems = []
    listed = set()
    for number, entry in entries:
        where = f"po/POTFILES.in:{number}"
        if entry in listed:
            problems.append(f"{where}: {entry} is listed twice")
        listed.add(entry)
        if not os.path.isfile(os.path.join(root, entry)):
            problems.append(f"{where}: {entry} does not exist")

    names = [entry for _, entry in entries]
    if names != sorted(names):
        problems.append("po/POTFILES.in: the files are not sorted (LC_ALL=C sort)")

    translatable = translatable_files(root)
    for path in sorted(translatable - listed):
        problems.append(f"{path} has translatable strings but is missing from po/POTFILES.in")

    for path in sorted(translatable):
        if not path.endswith((".c", ".h")):
            continue
        for line, macro in glued_format_macros(os.path.join(root, path)):
            problems.append(f"{path}:{line}: a translatable string is glued to {macro}, which "
                            "xgettext does not expand; cast the number and use a plain "
                            "conversion such as %d or %lu instead")

    return problems


def main(argv):
    if len(argv) > 2:
        print("Usage: check-potfiles.py [SOURCE_ROOT]", file=sys.stderr)
        return 2

    root = argv[1] if len(argv) == 2 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems = check(root)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print("po/POTFILES.in lists every file with translatable strings")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
