"""The thread policy: headless training takes the cores it finds free, never more."""

from __future__ import annotations

import pytest

from engine import threads


@pytest.mark.parametrize(("busy", "expected"), [(0.0, 4), (0.4, 4), (1.2, 3), (2.0, 2),
                                                 (3.9, 1), (7.0, 1)])
def test_headless_training_leaves_the_busy_cores_alone(monkeypatch, busy, expected):
    monkeypatch.setattr(threads, "usable_cores", lambda: 4)
    monkeypatch.setattr(threads, "busy_cores", lambda seconds=0.2: busy)
    monkeypatch.delenv(threads.THREADS_ENV, raising=False)
    assert threads.threads_for("headless-training") == expected
    assert threads.threads_for("inference") == 1
    assert threads.threads_for("tour-training-child") == 3
    monkeypatch.setenv(threads.THREADS_ENV, "1")  # a shared server's cap still holds
    assert threads.threads_for("headless-training") == 1


def test_busy_cores_are_read_from_two_samples_of_the_cpu_times(monkeypatch):
    samples = iter([(1_000, 10_000), (1_600, 10_800)])  # 600 of 800 ticks busy
    monkeypatch.setattr(threads, "_cpu_times", lambda: next(samples))
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 4)
    assert threads.busy_cores(seconds=0) == pytest.approx(3.0)
    monkeypatch.setattr(threads, "_cpu_times", lambda: None)  # not Linux: all free
    assert threads.busy_cores(seconds=0) == 0.0


def test_the_cpu_times_of_this_machine_are_read():
    times = threads._cpu_times()
    if times is None:
        pytest.skip("no /proc/stat here")
    busy, total = times
    assert 0 <= busy <= total
