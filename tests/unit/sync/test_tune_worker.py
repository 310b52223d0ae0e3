"""The worker's process settings: C library allocation and garbage collection."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from connectors.sync import engine

CHILD = """
import gc, os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tajo_site.settings_test")
django.setup()
from connectors.sync import engine
engine.tune_worker()
print(gc.get_threshold()[0], sys.getswitchinterval())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")
def test_glibc_takes_the_fixed_mmap_threshold():
    assert engine.fix_mmap_threshold() is True


def test_tune_worker_sets_the_collector_and_switch_interval():
    # In a child process: the settings are process-wide and would outlive this test here.
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True)
    threshold, interval = result.stdout.split()
    assert int(threshold) == engine.GC_THRESHOLD
    assert float(interval) == pytest.approx(0.001)


ARENAS = """
import ctypes, os, sys, tempfile, threading
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tajo_site.settings_test")
django.setup()
from connectors.sync import engine
if sys.argv[1] == "tuned":
    engine.tune_worker()
kept = []
together = threading.Barrier(6)
def allocate():
    together.wait()  # all at once: a thread takes a free arena or, below the cap, a new one
    for _ in range(200):
        kept.append(bytes(20_000))  # above pymalloc's 512 bytes: from malloc
threads = [threading.Thread(target=allocate) for _ in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
with tempfile.NamedTemporaryFile(suffix=".xml") as out:
    stream = libc.fopen(out.name.encode(), b"w")
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fclose(ctypes.c_void_p(stream))
    print(open(out.name).read().count("<heap nr="))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")
def test_the_worker_threads_share_one_arena_besides_the_main_threads():
    def arenas(mode: str) -> int:
        result = subprocess.run(
            [sys.executable, "-c", ARENAS, mode], capture_output=True, text=True, check=True
        )
        return int(result.stdout.split()[-1])

    assert arenas("tuned") <= engine.ARENA_MAX < arenas("default")
