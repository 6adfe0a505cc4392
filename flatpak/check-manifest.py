#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the Flatpak manifest for the promises Gaze makes about its sandbox.

Usage: check-manifest.py [MANIFEST]

Without an argument, checks io.github.gazeapp.Gaze.json beside this script.
Exits with status 0 when every check passes and 1 otherwise, printing one
line for each problem found.
"""

import json
import re
import sys
from pathlib import Path

APP_ID = 'io.github.gazeapp.Gaze'
MIN_RUNTIME_VERSION = 50

# Files reach Gaze through the file chooser and drag-and-drop portals, so the
# sandbox needs no filesystem access of any kind.
FINISH_ARGS = {
    '--share=network',
    '--share=ipc',
    '--socket=wayland',
    '--socket=fallback-x11',
    '--device=dri',
}

SHA256 = re.compile(r'^[0-9a-f]{64}$')


def check(manifest):
    problems = []

    if manifest.get('app-id', manifest.get('id')) != APP_ID:
        problems.append(f'app-id is not {APP_ID}')
    if manifest.get('command') != 'gaze':
        problems.append(f'command is {manifest.get("command")!r}, not \'gaze\'')
    if manifest.get('runtime') != 'org.gnome.Platform':
        problems.append('runtime is not org.gnome.Platform')
    if manifest.get('sdk') != 'org.gnome.Sdk':
        problems.append('sdk is not org.gnome.Sdk')

    version = str(manifest.get('runtime-version', ''))
    if not version.isdigit():
        problems.append(f'runtime-version {version!r} is not a GNOME release number')
    elif int(version) < MIN_RUNTIME_VERSION:
        problems.append(f'runtime-version {version} is older than {MIN_RUNTIME_VERSION}')

    finish_args = manifest.get('finish-args', [])
    if len(finish_args) != len(set(finish_args)):
        problems.append('finish-args lists a permission twice')
    for arg in sorted(set(finish_args) - FINISH_ARGS):
        problems.append(f'finish-args grants {arg}, which Gaze must not have')
    for arg in sorted(FINISH_ARGS - set(finish_args)):
        problems.append(f'finish-args lacks {arg}')

    modules = manifest.get('modules', [])
    for module in modules:
        if not isinstance(module, dict):
            continue
        for source in module.get('sources', []):
            if source.get('type') in ('archive', 'file') and 'url' in source:
                if not SHA256.match(str(source.get('sha256', ''))):
                    problems.append(f'module {module.get("name")}: {source["url"]} has no valid sha256')

    if not modules or not isinstance(modules[-1], dict) or modules[-1].get('name') != 'gaze':
        problems.append('the last module is not gaze')

    return problems


def main(argv):
    if len(argv) > 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2

    path = Path(argv[1]) if len(argv) == 2 else Path(__file__).with_name(f'{APP_ID}.json')
    try:
        with open(path, encoding='utf-8') as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        print(f'{path}: {e}')
        return 1
    if not isinstance(manifest, dict):
        print(f'{path}: the manifest is not a JSON object')
        return 1

    problems = check(manifest)
    for problem in problems:
        print(f'{path}: {problem}')
    if not problems:
        print(f'{path}: ok')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
