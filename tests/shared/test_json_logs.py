"""Structured logs (lesde_runtime.logs): the JSON line, the fields a job binds, the settings that
choose level and format; and a job's stored lines (lesde_runtime.job_logs) on a real local store."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading

import pytest
from lesde_contract import object_keys
from lesde_runtime import job_logs, tombstones
from lesde_runtime.job_logs import JobLogHandler, read_job_logs, segment_name
from lesde_runtime.logs import ContextFilter, JsonFormatter, TextFormatter, bound, bound_fields, configure_logging
from lesde_runtime.settings import LogFormat, LogLevel, ObservabilitySettings

JOB = "abcdef0123456789"


def _stream_logger(formatter: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    """A private logger writing through ``formatter`` (with the context filter) into a string."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    handler.addFilter(ContextFilter())
    logger = logging.getLogger(f"test.json_logs.{id(out)}")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger, out


def _lines(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_json_line_has_time_level_logger_message_service_and_extras():
    logger, out = _stream_logger(JsonFormatter("trainer"))
    logger.warning("chunk %d of %s", 3, "abc", extra={"attempt": 2, "device": object()})
    (line,) = _lines(out)
    assert line["level"] == "WARNING" and line["logger"] == logger.name and line["service"] == "trainer"
    assert line["message"] == "chunk 3 of abc"
    assert line["attempt"] == 2 and line["device"].startswith("<object")  # a value JSON cannot hold is its str()
    assert line["time"].endswith("Z") and line["time"][10] == "T" and len(line["time"]) == len("2026-01-02T03:04:05.678Z")
    assert not {"job_id", "kind", "task_id", "args", "msg"} & set(line)  # nothing bound, no record internals


def test_an_exception_is_one_line_with_its_traceback():
    logger, out = _stream_logger(JsonFormatter("analyzer"))
    try:
        raise ValueError("bad spec: dim must be >= 1")
    except ValueError:
        logger.exception("simulation failed")
    assert len(out.getvalue().splitlines()) == 1
    (line,) = _lines(out)
    assert line["level"] == "ERROR" and line["message"] == "simulation failed"
    assert "Traceback" in line["exception"] and "ValueError: bad spec: dim must be >= 1" in line["exception"]


def test_bound_fields_are_on_every_line_inside_the_block_only():
    logger, out = _stream_logger(JsonFormatter("trainer"))
    logger.info("before")
    with bound(job_id=JOB, kind="experiment", task_id="t-1", task=None):  # None is not bound
        logger.info("inside")
        with bound(task_id="t-2"):
            logger.info("nested")
            assert bound_fields() == {"job_id": JOB, "kind": "experiment", "task_id": "t-2"}
        logger.info("inside again", extra={"kind": "sweep"})  # the caller's own field wins
    logger.info("after")
    before, inside, nested, again, after = _lines(out)
    assert "job_id" not in before and "job_id" not in after and bound_fields() == {}
    assert (inside["job_id"], inside["kind"], inside["task_id"]) == (JOB, "experiment", "t-1")
    assert nested["task_id"] == "t-2" and nested["job_id"] == JOB
    assert again["kind"] == "sweep" and again["task_id"] == "t-1" and "task" not in inside


def test_fields_bound_in_one_thread_are_not_on_another_threads_lines():
    logger, out = _stream_logger(JsonFormatter("trainer"))
    with bound(job_id=JOB, kind="experiment"):
        other = threading.Thread(target=lambda: logger.info("heartbeat"))  # a thread does not copy the context
        other.start()
        other.join()
        logger.info("job")
    heartbeat, job = sorted(_lines(out), key=lambda line: line["message"])
    assert "job_id" not in heartbeat and job["job_id"] == JOB


def test_a_text_line_shows_the_bound_fields():
    logger, out = _stream_logger(TextFormatter())
    logger.info("plain")
    with bound(job_id=JOB, kind="simulation", task_id="t-9"):
        logger.info("in a job")
    plain, in_job = out.getvalue().splitlines()
    assert plain.endswith(f"INFO {logger.name}: plain")
    assert in_job.endswith(f"INFO {logger.name} [job_id={JOB} kind=simulation task_id=t-9]: in a job")


def test_settings_choose_level_and_format_and_a_bad_value_names_the_field(monkeypatch):
    monkeypatch.setenv("LESDE_LOG_LEVEL", "warning")
    monkeypatch.setenv("LESDE_LOG_FORMAT", "json")
    settings = ObservabilitySettings()
    assert settings.log_level is LogLevel.WARNING and settings.log_format is LogFormat.json
    monkeypatch.setenv("LESDE_LOG_LEVEL", "LOUD")
    with pytest.raises(ValueError, match="log_level") as error:
        ObservabilitySettings()
    assert "'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'" in str(error.value)
    monkeypatch.delenv("LESDE_LOG_LEVEL")
    monkeypatch.delenv("LESDE_LOG_FORMAT")
    assert ObservabilitySettings().log_format is LogFormat.text and ObservabilitySettings().log_level is LogLevel.INFO


@pytest.fixture
def root_logging():
    """Restore the root logger and uvicorn's after a test that configures logging."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    uvicorn = logging.getLogger("uvicorn.access")
    saved_uvicorn = uvicorn.handlers[:], uvicorn.propagate
    yield root
    root.handlers[:], root.level = saved[0], saved[1]
    uvicorn.handlers[:], uvicorn.propagate = saved_uvicorn


def test_configure_logging_installs_one_handler_at_the_level_and_routes_uvicorn_in_json(root_logging, monkeypatch, capsys):
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = [logging.StreamHandler(io.StringIO())]
    access.propagate = False
    first = configure_logging("api", ObservabilitySettings(log_format="json", log_level="DEBUG"))
    second = configure_logging("api", ObservabilitySettings(log_format="json", log_level="WARNING"))
    ours = [handler for handler in root_logging.handlers if handler in (first, second)]
    assert ours == [second] and root_logging.level == logging.WARNING
    assert access.handlers == [] and access.propagate  # uvicorn's access lines become our JSON lines
    assert second.stream is sys.stderr
    with bound(job_id=JOB, kind="experiment"):
        logging.getLogger("lesde.test").warning("a job's line")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["message"] == "a job's line" and line["service"] == "api" and line["job_id"] == JOB


# --------------------------------------------------------------------------- a job's stored lines


def _job_log(store, *, kind="experiment", job_id=JOB, worker="trainer@host", when=None, flush_seconds=3600.0):
    from datetime import UTC, datetime

    segment = segment_name(worker, when or datetime.now(UTC))
    return JobLogHandler(store, kind, job_id, service="trainer", segment=segment, flush_seconds=flush_seconds)


@pytest.fixture
def attach(root_logging):
    """``attach(handler)``: on the root logger at INFO for the test, closed and removed after."""
    attached = []
    root_logging.setLevel(logging.INFO)

    def add(handler):
        root_logging.addHandler(handler)
        attached.append(handler)
        return handler

    yield add
    for handler in attached:
        root_logging.removeHandler(handler)
        handler.close()


def test_a_run_keeps_only_its_jobs_lines_and_they_read_back_in_order(local_store, attach):
    handler = attach(_job_log(local_store))
    log = logging.getLogger("lesde.test.job")
    log.info("not in a job")
    with bound(job_id="ffffffff00000000", kind="experiment"):
        log.info("another job's line")
    with bound(job_id=JOB, kind="experiment", task_id="t-1"):
        log.info("first")
        log.debug("below the level")
        log.warning("second")
    handler.close()
    (key,) = local_store.list_keys(object_keys.job_logs_prefix("experiment", JOB))
    assert key.startswith(f"experiments/{JOB}/logs/") and key.endswith("-trainer@host.jsonl")
    lines, count = read_job_logs(local_store, "experiment", JOB, limit=10)
    assert count == 2 and [line["message"] for line in lines] == ["first", "second"]
    assert {(line["job_id"], line["kind"], line["task_id"]) for line in lines} == {(JOB, "experiment", "t-1")}
    assert read_job_logs(local_store, "experiment", JOB, limit=1)[0][0]["message"] == "second"


def test_lines_are_stored_while_the_task_runs(local_store, attach):
    attach(_job_log(local_store, flush_seconds=0.05))
    with bound(job_id=JOB, kind="experiment"):
        logging.getLogger("lesde.test.job").info("early")
        for _ in range(400):  # generous: the flusher thread writes within 0.05 s on an idle machine
            if read_job_logs(local_store, "experiment", JOB, limit=5)[1]:
                break
            threading.Event().wait(0.05)
    assert [line["message"] for line in read_job_logs(local_store, "experiment", JOB, limit=5)[0]] == ["early"]


def test_a_run_keeps_its_last_lines_and_says_how_many_it_dropped(local_store, attach, monkeypatch):
    monkeypatch.setattr(job_logs, "MAX_LINES", 5)
    handler = attach(_job_log(local_store))
    with bound(job_id=JOB, kind="experiment"):
        for number in range(12):
            logging.getLogger("lesde.test.job").info("line %d", number)
        logging.getLogger("lesde.test.job").info("x" * (job_logs.MAX_LINE_CHARS * 2))
    handler.close()
    lines, count = read_job_logs(local_store, "experiment", JOB, limit=100)
    assert count == 6
    assert "8 earlier lines of this run were dropped" in lines[0]["message"]
    assert [line["message"] for line in lines[1:5]] == [f"line {n}" for n in range(8, 12)]
    assert lines[5]["message"].endswith("... (cut)") and len(json.dumps(lines[5])) < job_logs.MAX_LINE_CHARS


def test_a_job_keeps_its_newest_runs(local_store, attach, monkeypatch):
    from datetime import UTC, datetime, timedelta

    monkeypatch.setattr(job_logs, "MAX_RUNS", 2)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for run in range(3):
        handler = attach(_job_log(local_store, when=start + timedelta(minutes=run)))
        with bound(job_id=JOB, kind="experiment"):
            logging.getLogger("lesde.test.job").info("run %d", run)
        handler.close()
        logging.getLogger().removeHandler(handler)
    lines, count = read_job_logs(local_store, "experiment", JOB, limit=10)
    assert [line["message"] for line in lines] == ["run 1", "run 2"] and count == 2


def test_a_deleted_job_gets_no_more_lines(local_store, attach):
    handler = attach(_job_log(local_store))
    tombstones.bury(local_store, "experiment", JOB)
    with bound(job_id=JOB, kind="experiment"):
        logging.getLogger("lesde.test.job").info("too late")
    handler.close()
    assert local_store.list_keys(object_keys.job_logs_prefix("experiment", JOB)) == []


def test_a_store_that_fails_does_not_fail_the_job(local_store, attach, monkeypatch, caplog):
    handler = attach(_job_log(local_store))

    def refuse(*_args, **_kwargs):
        raise OSError("store down")

    monkeypatch.setattr(local_store, "put_bytes", refuse)
    with bound(job_id=JOB, kind="experiment"):
        logging.getLogger("lesde.test.job").info("kept for the next flush")
    handler.flush()  # logs a warning, raises nothing
    assert "its log lines were not stored: store down" in caplog.text
    monkeypatch.undo()
    handler.close()
    assert read_job_logs(local_store, "experiment", JOB, limit=5)[0][0]["message"] == "kept for the next flush"


def test_segment_names_sort_in_time_and_are_one_safe_key_segment():
    from datetime import UTC, datetime

    early = segment_name("trainer@gpu/host 1", datetime(2026, 1, 1, 9, tzinfo=UTC))
    late = segment_name("analyzer@a", datetime(2026, 1, 1, 10, tzinfo=UTC))
    assert early < late and early == "20260101T090000.000000Z-trainer@gpu_host_1"
