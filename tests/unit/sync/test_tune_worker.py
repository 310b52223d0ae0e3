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
