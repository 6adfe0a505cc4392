#!/usr/bin/env python3
# check-install.py
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Installs the build into a private DESTDIR with `meson install --destdir`
# and checks that everything a desktop needs from Gaze lands where it
# belongs: the binary, the desktop file, the metainfo, the GSettings schema
# (and that it compiles there, as the post-install step, skipped under a
# DESTDIR, would do), both icons, and a catalog for every language in
# po/LINGUAS. It also checks that the installed files agree with each other:
# the desktop file starts the installed binary and names an installed icon,
# and the metainfo launches that desktop file.
#
# Usage: check-install.py BUILD_DIR SOURCE_DIR
#
# The meson command comes from $MESON, else from PATH. Other tests run in
# parallel, so nothing is written outside a temporary folder of its own.

import configparser
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

APP_ID = "io.github.gazeapp.Gaze"
GETTEXT_PACKAGE = "gaze"
BINARY = "gaze"


def meson_command():
    command = os.environ.get("MESON")
    if command:
        return command.split()
    found = shutil.which("meson")
    if found is None:
        raise RuntimeError("meson is not in PATH and $MESON is not set")
    return [found]


def install_dirs(meson, build_dir):
    out = subprocess.run(meson + ["introspect", "--buildoptions", build_dir],
                         check=True, capture_output=True, text=True).stdout
    options = {option["name"]: option["value"] for option in json.loads(out)}
    prefix = options["prefix"]
    return {name: os.path.join(prefix, options[name])
            for name in ("bindir", "datadir", "localedir")}


def languages(source_dir):
    with open(os.path.join(source_dir, "po", "LINGUAS"), encoding="utf-8") as f:
        return [word for line in f for word in line.split("#", 1)[0].split()]


def in_destdir(destdir, path):
    return os.path.join(destdir, os.path.relpath(path, "/"))


def check_desktop_file(path, bindir, icon_dirs, problems):
    # Desktop files are not quite INI files: keep keys' case, allow
    # "Name[de]"-style keys, and do not interpolate.
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    try:
        parser.read(path, encoding="utf-8")
        entry = parser["Desktop Entry"]
    except (configparser.Error, KeyError) as e:
        problems.append(f"{path}: cannot be read as a desktop file: {e}")
        return

    exec_line = entry.get("Exec", "").split()
    if not exec_line or exec_line[0] != BINARY:
        problems.append(f"the desktop file runs {entry.get('Exec')!r}, not the installed "
                        f"{BINARY} (found in {bindir} through PATH)")
    elif "%U" not in exec_line and "%F" not in exec_line:
        problems.append("the desktop file's Exec takes no files (%U or %F), so “Open With” "
                        "would start Gaze without the photo")
    if not entry.get("MimeType"):
        problems.append("the desktop file has no MimeType, so Files will not offer Gaze")

    icon = entry.get("Icon", "")
    if not any(os.path.isfile(os.path.join(d, icon + ".svg")) for d in icon_dirs):
        problems.append(f"the desktop file's icon {icon!r} is not installed")


def check_metainfo(path, problems):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        problems.append(f"{path}: cannot be parsed: {e}")
        return
    if root.findtext("id") != APP_ID:
        problems.append(f"the metainfo's id is {root.findtext('id')!r}, not {APP_ID}")
    launchable = root.find("launchable[@type='desktop-id']")
    if launchable is None or launchable.text != f"{APP_ID}.desktop":
        problems.append(f"the metainfo does not launch {APP_ID}.desktop")


def check(destdir, dirs, source_dir):
    bindir = in_destdir(destdir, dirs["bindir"])
    datadir = in_destdir(destdir, dirs["datadir"])
    localedir = in_destdir(destdir, dirs["localedir"])
    icons = os.path.join(datadir, "icons", "hicolor")
    schemas = os.path.join(datadir, "glib-2.0", "schemas")

    expected = {
        "the binary": os.path.join(bindir, BINARY),
        "the desktop file": os.path.join(datadir, "applications", f"{APP_ID}.desktop"),
        "the metainfo": os.path.join(datadir, "metainfo", f"{APP_ID}.metainfo.xml"),
        "the GSettings schema": os.path.join(schemas, f"{APP_ID}.gschema.xml"),
        "the app icon": os.path.join(icons, "scalable", "apps", f"{APP_ID}.svg"),
        "the symbolic icon": os.path.join(icons, "symbolic", "apps", f"{APP_ID}-symbolic.svg"),
    }
    for lang in languages(source_dir):
        expected[f"the {lang} translation"] = os.path.join(localedir, lang, "LC_MESSAGES",
                                                           f"{GETTEXT_PACKAGE}.mo")

    problems = []
    for what, path in expected.items():
        if not os.path.isfile(path):
            problems.append(f"{what} is not installed at {os.path.relpath(path, destdir)}")
    if problems:
        return problems

    if not os.access(expected["the binary"], os.X_OK):
        problems.append("the installed binary is not executable")

    check_desktop_file(expected["the desktop file"], dirs["bindir"],
                       [os.path.join(icons, "scalable", "apps")], problems)
    check_metainfo(expected["the metainfo"], problems)

    # The post-install step compiles the schemas only without a DESTDIR;
    # compile them here, beside the installed files, to show it would work.
    with tempfile.TemporaryDirectory(prefix="gaze-schemas-") as target:
        result = subprocess.run(["glib-compile-schemas", "--strict", f"--targetdir={target}",
                                 schemas], capture_output=True, text=True)
        if result.returncode != 0 or not os.path.isfile(os.path.join(target, "gschemas.compiled")):
            problems.append(f"the installed schema does not compile: {result.stderr.strip()}")

    return problems


def main(argv):
    if len(argv) != 3:
        print("Usage: check-install.py BUILD_DIR SOURCE_DIR", file=sys.stderr)
        return 2
    build_dir, source_dir = argv[1], argv[2]

    try:
        meson = meson_command()
        dirs = install_dirs(meson, build_dir)
    except (RuntimeError, OSError, subprocess.CalledProcessError, KeyError, ValueError) as e:
        print(f"FAIL: cannot read the build's install folders: {e}")
        return 1

    with tempfile.TemporaryDirectory(prefix="gaze-install-") as destdir:
        result = subprocess.run(meson + ["install", "-C", build_dir, "--destdir", destdir,
                                         "--no-rebuild", "--quiet"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            print(result.stdout)
            print(f"FAIL: meson install exited with status {result.returncode}")
            return 1

        print("# Installed:")
        for folder, _, files in sorted(os.walk(destdir)):
            for name in sorted(files):
                print(f"#   /{os.path.relpath(os.path.join(folder, name), destdir)}")

        problems = check(destdir, dirs, source_dir)

    for problem in problems:
        print(f"FAIL: {problem}")
    if not problems:
        print("PASS: meson install puts every file where it belongs")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
