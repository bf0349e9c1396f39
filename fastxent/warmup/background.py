"""``FASTXENT_WARMUP=background``: a warm-up in a detached, low-priority process, once per installation."""

import hashlib
import os
import subprocess
import sys
import tempfile
import time

from .driver import PACKAGE_DIR, python_command, run, succeeded, worker_env


def stamp_path():
    """Marker of a completed warm-up of this installation, cache folder, Python and Numba."""
    key = hashlib.sha256()
    key.update(repr((PACKAGE_DIR, sys.version, os.environ.get("NUMBA_CACHE_DIR", ""))).encode())
    for folder, _, files in sorted(os.walk(PACKAGE_DIR)):
        for name in sorted(files):
            if name.endswith(".py"):
                info = os.stat(os.path.join(folder, name))
                key.update(f"{folder}/{name}:{info.st_mtime_ns}:{info.st_size};".encode())
    folder = os.path.join(tempfile.gettempdir(), f"fastxent-warmup-{os.getuid() if hasattr(os, 'getuid') else 0}")
    return os.path.join(folder, key.hexdigest()[:24] + ".done")


def start_background():
    """Start a warm-up in a detached, low-priority process (``FASTXENT_WARMUP=background``).

    Returns the :class:`subprocess.Popen`, or None when a warm-up has already
    completed here.  Nothing is compiled in the calling process; a second
    warm-up started while one runs waits for it and then finds it done.
    """
    stamp = stamp_path()
    if os.path.exists(stamp):
        return None
    global background_process
    background_process = subprocess.Popen(
        python_command("background") + [stamp],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=worker_env(),
        start_new_session=True,
    )
    return background_process


# The process started by start_background in this interpreter, if any.
background_process = None


def main(argv):
    (stamp,) = argv
    os.makedirs(os.path.dirname(stamp), exist_ok=True)
    if hasattr(os, "nice"):
        os.nice(10)
    with open(stamp + ".lock", "a") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)  # one warm-up at a time; the next finds the stamp
        except ImportError:
            pass
        if os.path.exists(stamp):
            return 0
        if not succeeded(run(out=None)):
            return 1
        with open(stamp, "w") as done:
            done.write(time.strftime("%Y-%m-%d %H:%M:%S\n"))
    return 0
