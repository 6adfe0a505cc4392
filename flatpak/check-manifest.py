#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the Flatpak manifest for the promises Gaze makes about its sandbox.

Usage: check-manifest.py [MANIFEST [SOURCE_ROOT]]

Without an argument, checks io.github.gazeapp.Gaze.json beside this script.
Besides the sandbox, it checks that the manifest builds what meson asks
for: every dependency() in the meson.build files under SOURCE_ROOT (by
default the folder the gaze module builds from) that the GNOME runtime does
not provide has a module, and every module builds something meson asks for
or is a loader Gaze needs at run time. When flatpak-builder is installed,
the manifest must also pass `flatpak-builder --show-manifest`.

Exits with status 0 when every check passes and 1 otherwise, printing one
line for each problem found.
"""

import json
import os
import re
import shutil
import subprocess
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

# What the GNOME runtime and SDK provide, by pkg-config (or library) name.
# A dependency outside this list needs a module of its own.
RUNTIME_DEPENDENCIES = {
    'glib-2.0', 'gobject-2.0', 'gio-2.0', 'gio-unix-2.0', 'gmodule-2.0', 'gthread-2.0',
    'gtk4', 'libadwaita-1', 'libsoup-3.0', 'json-glib-1.0', 'gdk-pixbuf-2.0',
    'pango', 'cairo', 'graphene-1.0', 'libxml-2.0',
    # The Freedesktop SDK under GNOME's builds libjpeg-turbo for gdk-pixbuf.
    'libjpeg',
    'm', 'dl', 'threads',
}

# Modules that meson cannot know about, because Gaze does not link them:
# gdk-pixbuf loads them at run time to read more image formats.
RUNTIME_LOADER_MODULES = {
    'webp-pixbuf-loader', 'libheif', 'libde265', 'heif-gdk-pixbuf',
}

# A dependency whose module has another name.
MODULE_FOR_DEPENDENCY = {
    'md4c-html': 'md4c',
}

MESON_DEPENDENCY = re.compile(r'(?<![\w.])dependency\s*\(([^)]*)\)')
MESON_FIND_LIBRARY = re.compile(r'\.find_library\s*\(\s*[\'"]([^\'"]+)[\'"]')
QUOTED = re.compile(r'\s*[\'"]([^\'"]+)[\'"]\s*(?:,|$)')


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


def all_modules(modules):
    """The manifest's modules, nested ones included, in build order."""
    for module in modules:
        if isinstance(module, dict):
            yield from all_modules(module.get('modules', []))
            yield module


def is_build_dir(folder):
    return (folder / 'meson-private').is_dir() or (folder / 'meson-info').is_dir()


def meson_dependencies(source_root):
    """The names meson asks for with dependency() or find_library(), by
    meson.build file, leaving out build folders and subprojects."""
    found = {}
    for folder, dirs, files in os.walk(source_root):
        folder = Path(folder)
        dirs[:] = sorted(d for d in dirs
                         if not d.startswith('.') and d != 'subprojects'
                         and not is_build_dir(folder / d))
        if 'meson.build' not in files:
            continue
        text = (folder / 'meson.build').read_text(encoding='utf-8')
        text = re.sub(r'#[^\n]*', '', text)
        for call in MESON_DEPENDENCY.finditer(text):
            # Every leading string is a name: dependency('a', 'b', ...).
            arguments = call.group(1)
            while True:
                name = QUOTED.match(arguments)
                if not name:
                    break
                found.setdefault(name.group(1), folder / 'meson.build')
                arguments = arguments[name.end():]
        for call in MESON_FIND_LIBRARY.finditer(text):
            found.setdefault(call.group(1), folder / 'meson.build')
    return found


def module_names_for(dependency):
    """The module names that could build @dependency: md4c for md4c-html,
    foo for libfoo-1.0."""
    names = {dependency, re.sub(r'-[0-9.]+$', '', dependency)}
    names |= {name[3:] for name in names if name.startswith('lib')}
    names.add(dependency.split('-')[0])
    if dependency in MODULE_FOR_DEPENDENCY:
        names.add(MODULE_FOR_DEPENDENCY[dependency])
    return names


def source_root_of(manifest, manifest_path):
    """The folder the gaze module builds from, as the manifest says."""
    for module in all_modules(manifest.get('modules', [])):
        if module.get('name') != 'gaze':
            continue
        for source in module.get('sources', []):
            if source.get('type') == 'dir' and 'path' in source:
                return (manifest_path.parent / source['path']).resolve()
    return manifest_path.parent.parent.resolve()


def check_dependencies(manifest, source_root):
    problems = []
    dependencies = meson_dependencies(source_root)
    if not dependencies:
        return [f'no dependency() found in the meson.build files under {source_root}']

    modules = [m for m in all_modules(manifest.get('modules', [])) if m.get('name') != 'gaze']
    module_names = {str(m.get('name', '')).lower() for m in modules}
    used = set()
    for dependency, where in sorted(dependencies.items()):
        if dependency in RUNTIME_DEPENDENCIES:
            continue
        candidates = {name.lower() for name in module_names_for(dependency)}
        matched = candidates & module_names
        if matched:
            used |= matched
        else:
            problems.append(f'{where.relative_to(source_root)} asks for {dependency!r}, which the '
                            f'GNOME runtime does not provide, and no module builds it')
    for name in sorted(module_names - used - RUNTIME_LOADER_MODULES):
        problems.append(f'module {name} builds nothing meson asks for and is no image loader; '
                        f'drop it, or add it to RUNTIME_LOADER_MODULES if Gaze loads it')
    return problems


def check_with_flatpak_builder(path):
    flatpak_builder = shutil.which('flatpak-builder')
    if flatpak_builder is None:
        return []
    result = subprocess.run([flatpak_builder, '--show-manifest', str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        return [f'flatpak-builder --show-manifest refuses it: {result.stderr.strip()}']
    return []


def main(argv):
    if len(argv) > 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2

    path = Path(argv[1]) if len(argv) >= 2 else Path(__file__).with_name(f'{APP_ID}.json')
    try:
        with open(path, encoding='utf-8') as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        print(f'{path}: {e}')
        return 1
    if not isinstance(manifest, dict):
        print(f'{path}: the manifest is not a JSON object')
        return 1

    source_root = Path(argv[2]) if len(argv) == 3 else source_root_of(manifest, path)
    problems = check(manifest)
    problems += check_dependencies(manifest, source_root)
    problems += check_with_flatpak_builder(path)
    for problem in problems:
        print(f'{path}: {problem}')
    if not problems:
        print(f'{path}: ok')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
