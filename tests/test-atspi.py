#!/usr/bin/env python3
# test-atspi.py
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Drives the real Gaze window the way a screen reader user does, through
# AT-SPI: it finds the controls by their accessible names and roles, attaches
# a photo with the Open dialog (a first one comes from the command line, as
# "Open With Gaze" in Files passes it), types a question, presses Send, and
# reads the answer of the loopback server back through the Text interface,
# with the question in the conversation. Then it stops the server and asks
# again: the error must come as an alert with a name. With photos attached,
# with an answer and with the error, every button on screen must have a
# name a person can hear.
#
# It needs a display, a D-Bus session bus and the accessibility bus, and it
# makes them itself: it starts a private Xvfb (which picks a free display
# with -displayfd) and a private session bus, as dbus-run-session does, and
# runs again inside them. There GTK asks the session bus for org.a11y.Bus,
# and D-Bus activation starts at-spi-bus-launcher (from at-spi2-core), which
# starts the registry. The keys it types go to that private display only, so
# running it by hand from a desktop session is safe. It exits 77 (skipped)
# only when no display can be started (no Xvfb or dbus-daemon) or pyatspi
# is missing, and it gives up after DEADLINE seconds (four times as long
# under sanitizers), ending every process it started.
#
# Environment: GAZE_BINARY (the uninstalled gaze), GAZE_FAKE_AZURE (the
# loopback server), GSETTINGS_SCHEMA_DIR (the build tree's compiled schema).

import importlib.util
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
STARTED = time.monotonic()


def built_with_sanitizers(path):
    try:
        with open(path or "", "rb") as f:
            data = f.read()
    except OSError:
        return False
    return b"__asan_init" in data or b"__ubsan_handle" in data


# AddressSanitizer slows GTK down several times over, and every AT-SPI
# question waits for the application: under sanitizers, waits are longer.
SLOWDOWN = 4 if built_with_sanitizers(os.environ.get("GAZE_BINARY")) else 1
DEADLINE = 60 * SLOWDOWN
KEY = "gz-test-3f9a61c0e7b24d58"
DEPLOYMENT = "gpt4v"
QUESTION = "What colour is the sky in these photos?"
REEXEC_MARK = "GAZE_ATSPI_SESSION"

# GTK 4.8 names an unnamed widget after its type ("GtkImage", "AdwGizmo"):
# for a listener that is no name at all.
TYPE_NAME = re.compile(r"^(Gtk|Adw|Gaze|Gdk)[A-Z][A-Za-z]*$")


def garbled_name(name):
    """Whether @name is GTK 4.8's garbling of a button's label: the label
    with its mnemonic underscore and then its text ("_Retry Retry"), or the
    text twice ("Retry Retry") when an accessible label is set as well."""
    for i, c in enumerate(name):
        if c == " ":
            first, second = name[:i], name[i + 1:]
            if first.replace("_", "") == second:
                return True
    return False


class Failure(Exception):
    pass


def log(message):
    print(f"# [{time.monotonic() - STARTED:5.1f} s] {message}", flush=True)


def skip(message):
    print(f"SKIP: {message}", flush=True)
    sys.exit(SKIP)


def python_with_pyatspi():
    """This interpreter if it has pyatspi, else the system's: pyatspi comes
    as a distribution package (python3-pyatspi), which a virtual
    environment or pyenv interpreter that meson found first does not see."""
    if importlib.util.find_spec("pyatspi") is not None:
        return sys.executable
    for candidate in ("/usr/bin/python3",):
        if os.path.realpath(candidate) == os.path.realpath(sys.executable):
            continue
        if os.access(candidate, os.X_OK) and subprocess.run(
                [candidate, "-c", "import pyatspi"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            return candidate
    return None


def read_line_from(fd, timeout):
    """The first line a child writes to @fd, or "" if none comes in time."""
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    data = b""
    end = time.monotonic() + timeout
    while b"\n" not in data:
        left = end - time.monotonic()
        if left <= 0 or not sel.select(left):
            break
        chunk = os.read(fd, 256)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").split("\n")[0].strip()


def run_in_private_session(python):
    """Runs this script again with a private Xvfb, D-Bus session bus and
    runtime folder, and returns its exit status.

    The X server picks a free display itself (-displayfd), which xvfb-run -a
    cannot do safely while other tests start theirs in parallel: two of them
    may pick the same number and the loser runs on the winner's display. A
    private display also keeps the keys this test types away from a
    developer's desktop. Everything started here, the services that D-Bus
    activates included, shares one process group, which ends with the test
    even when the test hangs."""
    xvfb = shutil.which("Xvfb")
    dbus_daemon = shutil.which("dbus-daemon")
    if xvfb is None:
        skip("no display can be started: Xvfb (package xvfb) is not installed")
    if dbus_daemon is None:
        skip("no D-Bus session can be started: dbus-daemon (package dbus) is not installed")

    group = None
    procs = []

    def spawn(argv, **kwargs):
        nonlocal group
        # A group of their own in this session: the first child leads it.
        leader = group or 0
        kwargs["preexec_fn"] = lambda: os.setpgid(0, leader)
        proc = subprocess.Popen(argv, **kwargs)
        procs.append(proc)
        if group is None:
            group = proc.pid
        return proc

    with tempfile.TemporaryDirectory(prefix="gaze-atspi-session-") as runtime_dir:
        try:
            read_fd, write_fd = os.pipe()
            spawn([xvfb, "-displayfd", str(write_fd), "-screen", "0", "1024x768x24",
                   "-nolisten", "tcp", "-noreset"],
                  pass_fds=(write_fd,), stdout=subprocess.DEVNULL)
            os.close(write_fd)
            number = read_line_from(read_fd, 15)
            os.close(read_fd)
            if not number.isdigit():
                print("FAIL: Xvfb did not start", flush=True)
                return 1

            env = dict(os.environ, DISPLAY=f":{number}", XDG_RUNTIME_DIR=runtime_dir,
                       **{REEXEC_MARK: "1"})
            for name in ("WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "AT_SPI_BUS_ADDRESS",
                         "XAUTHORITY"):
                env.pop(name, None)

            read_fd, write_fd = os.pipe()
            spawn([dbus_daemon, "--session", "--nofork", f"--print-address={write_fd}"],
                  pass_fds=(write_fd,), env=env, stdout=subprocess.DEVNULL)
            os.close(write_fd)
            address = read_line_from(read_fd, 15)
            os.close(read_fd)
            if not address:
                print("FAIL: the D-Bus session bus did not start", flush=True)
                return 1
            env["DBUS_SESSION_BUS_ADDRESS"] = address

            test = spawn([python, os.path.abspath(__file__)], env=env)
            try:
                return test.wait(timeout=DEADLINE + 15)
            except subprocess.TimeoutExpired:
                print(f"FAIL: the test did not end within {DEADLINE + 15} s", flush=True)
                return 1
        finally:
            if group is not None:
                stop_group(group, procs)


def stop_group(group, procs):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        end = time.monotonic() + 5
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        # The services that D-Bus started are not our children: ask the
        # group itself whether anyone is left.
        while time.monotonic() < end:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


class Children:
    """The processes this test starts; all of them end when it does."""

    def __init__(self):
        self.procs = []

    def start(self, argv, **kwargs):
        proc = subprocess.Popen(argv, **kwargs)
        self.procs.append(proc)
        return proc

    def stop(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def read_endpoint(proc, timeout):
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout):
        raise Failure("gaze-fake-azure printed no endpoint")
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("http://127.0.0.1:"):
        raise Failure(f"gaze-fake-azure printed {line!r}, not an endpoint")
    return line


def write_settings(config_home, endpoint):
    # The keyfile backend reads $XDG_CONFIG_HOME/glib-2.0/settings/keyfile;
    # its groups are schema paths without the outer slashes.
    settings_dir = os.path.join(config_home, "glib-2.0", "settings")
    os.makedirs(settings_dir)
    with open(os.path.join(settings_dir, "keyfile"), "w", encoding="utf-8") as f:
        f.write("[io/github/gazeapp/Gaze]\n"
                f"endpoint='{endpoint}'\n"
                f"deployment='{DEPLOYMENT}'\n"
                f"api-key='{KEY}'\n")


def write_photo(path, width, height, rgba, file_type):
    import gi
    gi.require_version("GdkPixbuf", "2.0")
    from gi.repository import GdkPixbuf

    pixbuf = GdkPixbuf.Pixbuf.new(GdkPixbuf.Colorspace.RGB, False, 8, width, height)
    pixbuf.fill(rgba)
    pixbuf.savev(path, file_type, [], [])


def wait_for(what, predicate, timeout=15, interval=0.2):
    end = time.monotonic() + timeout * SLOWDOWN
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > end:
            raise Failure(f"timed out waiting for {what}")
        time.sleep(interval)


def read_text(text):
    # GTK 4.8 answers an end offset of -1 with nothing: ask for the length.
    return text.getText(0, text.characterCount)


class Tree:
    """Walks an application's accessible tree without trusting a cache: GTK
    4.8 does not tell AT-SPI about every change, so each question goes to
    the application."""

    def __init__(self, pyatspi):
        self.pyatspi = pyatspi

    def walk(self, root, from_end=False):
        """The nodes under @root in reading order, or from the last one."""
        stack = [root]
        while stack:
            node = stack.pop()
            if node is None:
                continue
            yield node
            try:
                count = node.childCount
            except Exception:
                continue
            order = range(count) if from_end else reversed(range(count))
            for i in order:
                # While an answer streams in, its widgets are replaced: a
                # child counted a moment ago may be gone when asked for.
                try:
                    stack.append(node.getChildAtIndex(i))
                except Exception:
                    continue

    def matches(self, node, role=None, name=None, showing=False, state=None):
        try:
            if role is not None and node.getRole() != role:
                return False
            if name is not None and not (name(node.name) if callable(name) else node.name == name):
                return False
            if state is not None and not self.has_state(node, state):
                return False
            return not showing or self.is_shown(node)
        except Exception:
            return False

    def find(self, root, role=None, name=None, showing=False, state=None, from_end=False):
        """The first node under @root that matches, in reading order (or
        from the end). Every node costs a few calls to the application, so
        the walk stops there."""
        for node in self.walk(root, from_end):
            if self.matches(node, role, name, showing, state):
                return node
        return None

    def has_state(self, node, state):
        return node.getState().contains(state)

    def is_shown(self, node):
        """Whether @node is on screen. GTK 4.8 gives only toplevels the
        SHOWING state, and a widget in a hidden stack page stays VISIBLE;
        only its size says that it is not drawn."""
        if not self.has_state(node, self.pyatspi.STATE_VISIBLE):
            return False
        # Window coordinates: GTK warns that it cannot give screen ones.
        extents = node.queryComponent().getExtents(self.pyatspi.WINDOW_COORDS)
        return extents.width > 0 and extents.height > 0

    def dump(self, root):
        """The tree under @root, one node a line, for the log of a failure."""
        lines = []

        def visit(node, depth):
            try:
                line = f"{'  ' * depth}[{node.getRoleName()}] {node.name!r}"
                if node.description:
                    line += f" ({node.description!r})"
                try:
                    text = read_text(node.queryText())
                    if text and text != node.name:
                        line += f" text={text!r}"
                except NotImplementedError:
                    pass
                lines.append(line)
                for i in range(node.childCount):
                    visit(node.getChildAtIndex(i), depth + 1)
            except Exception as e:
                lines.append(f"{'  ' * depth}(unreadable: {e})")

        visit(root, 0)
        return "\n".join(lines)

    def text_of(self, node):
        """The text a screen reader reads for @node and what it holds."""
        parts = []
        for child in self.walk(node):
            try:
                text = child.queryText()
            except NotImplementedError:
                continue
            parts.append(read_text(text))
        return "\n".join(parts)


def find_app(pyatspi, pid):
    desktop = pyatspi.Registry.getDesktop(0)
    for i in range(desktop.childCount):
        app = desktop.getChildAtIndex(i)
        try:
            if app is not None and app.get_process_id() == pid and app.childCount > 0:
                return app
        except Exception:
            continue
    return None


def click(node):
    action = node.queryAction()
    for i in range(action.nActions):
        if action.getName(i) in ("click", "press", "activate"):
            action.doAction(i)
            return
    raise Failure(f"{node.name!r} has no click action")


def button_words(name):
    return name.replace("_", "").split()


def attach_with_open_dialog(pyatspi, tree, app, window, path):
    """Attaches @path through the Open button and GTK's file chooser, as a
    keyboard user does: "/" opens the location entry, the path goes in, and
    the dialog's Attach button takes it."""
    open_button = tree.find(window, pyatspi.ROLE_PUSH_BUTTON, "Open", showing=True)
    if open_button is None:
        raise Failure("no button named “Open” in the header bar")
    click(open_button)

    def dialog():
        for i in range(app.childCount):
            child = app.getChildAtIndex(i)
            if child is not None and child.name == "Attach Photos":
                return child
        return None

    chooser = wait_for("the “Attach Photos” dialog", dialog)

    # GTK 4.8 tells AT-SPI about the chooser's insides only once something
    # in it has the focus; typing "/" gives the location entry the focus.
    def location_entry():
        pyatspi.Registry.generateKeyboardEvent(0, "/", pyatspi.KEY_STRING)
        time.sleep(0.3)
        return tree.find(chooser, pyatspi.ROLE_TEXT, state=pyatspi.STATE_FOCUSED)

    entry = wait_for("the file chooser's location entry", location_entry, timeout=10, interval=0.2)
    if not entry.queryEditableText().setTextContents(path):
        raise Failure("the file chooser's location entry refused the path")

    # The dialog's buttons come after the whole file chooser.
    attach = tree.find(chooser, pyatspi.ROLE_PUSH_BUTTON,
                       lambda name: "Attach" in button_words(name or ""), from_end=True)
    if attach is None:
        raise Failure("the file chooser has no Attach button")
    click(attach)


def photo_tile(pyatspi, tree, window, file_name):
    """The attached photo whose accessible name gives its file name and its
    size once it is ready, such as “photo.jpg, 640 × 480 pixels”."""
    pattern = re.compile(re.escape(file_name) + r", \d+ × \d+ pixels")
    attached = tree.find(window, name="Attached photos")
    if attached is None:
        return None
    return tree.find(attached, name=lambda name: bool(name and pattern.search(name)))


def unnamed_buttons(pyatspi, tree, window):
    roles = (pyatspi.ROLE_PUSH_BUTTON, pyatspi.ROLE_TOGGLE_BUTTON, pyatspi.ROLE_CHECK_BOX,
             pyatspi.ROLE_RADIO_BUTTON)
    problems = []
    for node in tree.walk(window):
        try:
            if node.getRole() not in roles or not tree.is_shown(node):
                continue
            name = (node.name or "").strip()
            hint = node.description or "no tooltip"
        except Exception:
            continue
        if not name or TYPE_NAME.match(name):
            problem = (f"a {node.getRoleName()} has no accessible name ({name or 'empty'}; "
                       f"its description is “{hint}”)")
        elif garbled_name(name):
            problem = (f"the {node.getRoleName()} “{name}” has its label twice in its name, "
                       f"mnemonic underscore included")
        else:
            continue
        if problem not in problems:
            problems.append(problem)
    return problems


def run(children, tmp):
    try:
        import pyatspi
    except (ImportError, ValueError) as e:
        skip(f"pyatspi is not available ({e}); install python3-pyatspi")

    gaze = os.environ.get("GAZE_BINARY")
    fake_azure = os.environ.get("GAZE_FAKE_AZURE")
    schema_dir = os.environ.get("GSETTINGS_SCHEMA_DIR")
    for name, value in (("GAZE_BINARY", gaze), ("GAZE_FAKE_AZURE", fake_azure),
                        ("GSETTINGS_SCHEMA_DIR", schema_dir)):
        if not value:
            raise Failure(f"{name} is not set; run this test with meson test")
    # The app runs in a temporary folder.
    gaze, fake_azure, schema_dir = (os.path.abspath(p) for p in (gaze, fake_azure, schema_dir))

    server = children.start([fake_azure], stdout=subprocess.PIPE)
    endpoint = read_endpoint(server, 10)
    log(f"fake Azure at {endpoint}")

    config_home = os.path.join(tmp, "config")
    write_settings(config_home, endpoint)
    first = os.path.join(tmp, "photo.jpg")
    second = os.path.join(tmp, "second.png")
    write_photo(first, 640, 480, 0x3366CCFF, "jpeg")
    write_photo(second, 400, 300, 0xCC6633FF, "png")

    env = dict(os.environ)
    for name in ("NO_AT_BRIDGE", "GTK_USE_PORTAL", "AZURE_OPENAI_API_KEY", "LANGUAGE"):
        env.pop(name, None)
    env.update({
        "GTK_A11Y": "atspi",
        "GDK_BACKEND": "x11",
        "GSK_RENDERER": "cairo",
        "LIBGL_ALWAYS_SOFTWARE": "1",
        "GSETTINGS_BACKEND": "keyfile",
        "GSETTINGS_SCHEMA_DIR": schema_dir,
        "XDG_CONFIG_HOME": config_home,
        "XDG_DATA_HOME": os.path.join(tmp, "data"),
        "XDG_CACHE_HOME": os.path.join(tmp, "cache"),
        "LC_ALL": "C.UTF-8",
        "G_DEBUG": "gc-friendly,fatal-warnings",
    })
    app_proc = children.start([gaze, first], env=env, cwd=tmp)

    tree = Tree(pyatspi)

    def app_on_bus():
        if app_proc.poll() is not None:
            raise Failure(f"gaze exited with status {app_proc.returncode}")
        return find_app(pyatspi, app_proc.pid)

    try:
        app = wait_for("Gaze on the accessibility bus", app_on_bus, timeout=20)
    except Failure as e:
        raise Failure(f"{e}: is at-spi2-core installed, and was GTK_A11Y or NO_AT_BRIDGE set?")
    # Every question goes to the application: see Tree.
    app.setCacheMask(pyatspi.cache.NONE)

    window = wait_for("the main window",
                      lambda: tree.find(app, pyatspi.ROLE_FRAME, "Gaze"))
    try:
        drive(pyatspi, tree, app, window, server, second)
    except Failure:
        print("# The window's accessible tree:", flush=True)
        print(tree.dump(window), flush=True)
        raise


def drive(pyatspi, tree, app, window, server, second):
    log("the window is up")

    tile = wait_for("photo.jpg from the command line, ready",
                    lambda: photo_tile(pyatspi, tree, window, "photo.jpg"))
    log(f"attached from the command line: “{tile.name}”")

    attach_with_open_dialog(pyatspi, tree, app, window, second)
    tile = wait_for("second.png from the Open dialog, ready",
                    lambda: photo_tile(pyatspi, tree, window, "second.png"))
    log(f"attached with the Open dialog: “{tile.name}”")

    # The buttons are checked with photos attached and again with an answer.
    problems = unnamed_buttons(pyatspi, tree, window)

    question = tree.find(window, pyatspi.ROLE_TEXT, "Question", showing=True)
    if question is None:
        raise Failure("no text area named “Question”")
    question.queryEditableText().setTextContents(QUESTION)
    typed = read_text(question.queryText())
    if typed != QUESTION:
        raise Failure(f"the question reads {typed!r} after typing")

    send = tree.find(window, pyatspi.ROLE_PUSH_BUTTON, "Send", showing=True)
    if send is None:
        raise Failure("no button named “Send”")
    wait_for("Send to become sensitive",
             lambda: tree.has_state(send, pyatspi.STATE_SENSITIVE), timeout=5)
    click(send)
    log("sent")

    expected = "I see 2 images"

    seen = {"text": None}

    def answered():
        answer = tree.find(window, name="Answer", showing=True)
        if answer is None:
            return None
        text = seen["text"] = tree.text_of(answer)
        # The server streams its answer word by word and ends it with the
        # question it received, in quotes.
        return text if QUESTION in text and text.rstrip().endswith("”") else None

    try:
        answer = wait_for("the answer", answered, timeout=20)
    except Failure as e:
        raise Failure(f"{e}; the last answer read was {seen['text']!r}")
    log(f"answer: “{answer.strip()}”")
    if expected not in answer:
        raise Failure(f"the answer does not say “{expected}”: {answer!r}")
    if tree.find(window, pyatspi.ROLE_LABEL, QUESTION, showing=True) is None:
        raise Failure("the question asked is not in the conversation")

    for problem in unnamed_buttons(pyatspi, tree, window):
        if problem not in problems:
            problems.append(problem)

    # Without the server, the next question fails: the error must reach a
    # screen reader as an alert, and its buttons need names too.
    server.terminate()
    server.wait(timeout=5)
    question.queryEditableText().setTextContents("And now?")
    wait_for("Send to become sensitive again",
             lambda: tree.has_state(send, pyatspi.STATE_SENSITIVE), timeout=5)
    click(send)
    alert = wait_for("an alert saying what went wrong",
                     lambda: tree.find(window, pyatspi.ROLE_ALERT, showing=True), timeout=20)
    log(f"alert: “{alert.name}”: “{' / '.join(tree.text_of(alert).split(chr(10)))}”")
    if not alert.name or TYPE_NAME.match(alert.name):
        problems.append("the error's alert has no accessible name: a screen reader cannot say "
                        "what went wrong")
    for problem in unnamed_buttons(pyatspi, tree, window):
        if problem not in problems:
            problems.append(problem)

    for problem in problems:
        print(f"not ok: {problem}", flush=True)
    if problems:
        raise Failure(f"{len(problems)} control(s) a screen reader cannot name")

    log("done")


def on_signal(signum, frame):
    raise Failure(f"stopped by signal {signum}")


def on_alarm(signum, frame):
    raise Failure(f"did not finish within {DEADLINE} s")


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    if not os.environ.get(REEXEC_MARK):
        python = python_with_pyatspi()
        if python is None:
            skip("pyatspi is not installed (package python3-pyatspi)")
        try:
            return run_in_private_session(python)
        except Failure as e:
            print(f"FAIL: {e}", flush=True)
            return 1

    children = Children()
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(DEADLINE)
    try:
        with tempfile.TemporaryDirectory(prefix="gaze-atspi-") as tmp:
            try:
                run(children, tmp)
            finally:
                signal.alarm(0)
                children.stop()
    except Failure as e:
        print(f"FAIL: {e}", flush=True)
        return 1
    print("PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
