"""The delayed purge's timer (lesde_runtime.purge): calls run at their time once it runs, none after
it stopped, pending ones on the next start; the gateway runs it for its lifespan."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from lesde_runtime import purge
from lesde_runtime.purge import PurgeTimer


def _wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_calls_run_in_order_once_due_and_only_while_the_timer_runs() -> None:
    timer, ran = PurgeTimer(), []
    timer.schedule(0.05, lambda: ran.append("later"))
    timer.schedule(0.0, lambda: ran.append("first"))
    time.sleep(0.1)
    assert ran == [] and timer.pending() == 2  # not started: nothing runs
    timer.start()
    assert _wait_for(lambda: ran == ["first", "later"])
    timer.stop()
    timer.schedule(0.0, lambda: ran.append("after the stop"))
    time.sleep(0.1)
    assert ran == ["first", "later"] and timer.pending() == 1
    timer.start()  # a restart in the same process runs what was left
    assert _wait_for(lambda: ran[-1] == "after the stop")
    timer.stop()


def test_a_failing_call_does_not_stop_the_timer() -> None:
    timer, ran = PurgeTimer(), threading.Event()

    def store_down() -> None:
        raise ConnectionError("store down: the reaper's purge_buried does it later")

    timer.schedule(0.0, store_down)
    timer.schedule(0.01, ran.set)
    timer.start()
    assert ran.wait(5.0)
    timer.stop()


def test_the_gateway_runs_the_timer_for_its_lifespan() -> None:
    from fastapi.testclient import TestClient
    from lesde_api.main import create_app

    assert not purge.timer.running
    with TestClient(create_app()):
        assert purge.timer.running
    assert not purge.timer.running
