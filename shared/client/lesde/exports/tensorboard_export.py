"""An analysis as one TensorBoard run: ``to_tensorboard(result, logdir)``.

The run (a folder of ``logdir``, one event file) holds the curves and single numbers of
:mod:`lesde.exports.content` as scalars under the same names as the MLflow export
(``I/alpha``, ``drift/beta_se``, ``eval/val_acc``, ``verdict/r_gamma``, ...; step =
iteration), every figure as an image (``figures/<name>``), and two texts: ``verdict`` (the
label, r of Gamma, the reasoning) and ``spec`` (the experiment's spec as JSON).

Events are written with the ``tensorboard`` package's own writer
(``tensorboard.summary.writer.event_file_writer.EventFileWriter``) and protos
(``tensorboard.compat.proto``), which is what ``torch.utils.tensorboard.SummaryWriter`` uses
underneath, so neither TensorFlow nor torch is needed: the optional extra
``lesde[tensorboard]``, imported when an export runs.

Curves are written at full length, not thinned as for MLflow: an event file has no request
limits, and TensorBoard samples long curves itself when it loads them (by default 1,000
points a tag; ``tensorboard --samples_per_plugin scalars=0`` shows all). Scalars are stored
as 32-bit floats (``Summary.Value.simple_value``), so values come back to float32 precision.
"""

from __future__ import annotations

import json
import struct
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from lesde.exports.content import figure_pngs, final_step, headline_numbers, scalar_curves

if TYPE_CHECKING:
    from lesde.results import AnalysisResult

DEFAULT_LOGDIR = "./runs"
INSTALL_HINT = "the TensorBoard export needs TensorBoard: pip install 'lesde[tensorboard]'"
EVENT_FILE_PREFIX = "events.out.tfevents."
# PNG colour type (IHDR byte 25) -> channels, which Summary.Image calls colorspace
PNG_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int, int]:
    """``(height, width, channels)`` of a PNG, read from its header (no image library needed)."""
    if data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("not a PNG: no PNG signature and IHDR chunk at the start")
    width, height = struct.unpack(">II", data[16:24])
    return height, width, PNG_CHANNELS.get(data[25], 4)


def verdict_markdown(result: AnalysisResult) -> str:
    """Theorem 3.1's verdict as a few lines of Markdown (TensorBoard's text tab renders it)."""
    verdict = result.verdict
    if not verdict:
        return "no verdict in this analysis"
    r, se = verdict.get("r_gamma"), verdict.get("se")
    if isinstance(r, (int, float)):
        r_text = f"r of Gamma = {r:.3f}" + (f" ± {se:.3f} (1 SE)" if isinstance(se, (int, float)) else "")
    else:
        r_text = "r of Gamma not identified"
    lines = [f"**{verdict.get('label', 'no label')}** (Theorem 3.1): {r_text}", "", str(verdict.get("why") or "")]
    return "\n".join(lines).strip()


def _run_folder(logdir: Path, name: str) -> Path:
    """``logdir/name``, or ``name-2``, ``name-3``... when that folder already holds event files:
    TensorBoard reads every event file of a folder as one run, so a second export there would
    interleave its points with the first's."""
    folder, number = logdir / name, 1
    while folder.is_dir() and any(path.name.startswith(EVENT_FILE_PREFIX) for path in folder.iterdir()):
        number += 1
        folder = logdir / f"{name}-{number}"
    return folder


def to_tensorboard(
    result: AnalysisResult, logdir: Path | str = DEFAULT_LOGDIR, *, run_name: str | None = None, figures: bool = True
) -> Path:
    """Write ``result`` as a TensorBoard run under ``logdir`` and return the run's folder.

    Parameters
    ----------
    result : AnalysisResult
        From :meth:`lesde.client.LesdeClient.result`, :func:`lesde.analyze` or
        :meth:`AnalysisResult.load`.
    logdir : path
        The folder ``tensorboard --logdir`` is given; created if absent.
    run_name : str, optional
        The run's folder in ``logdir``; default the job id. A folder that already holds an
        export gets a new one beside it (``<name>-2``, ...).
    figures : bool
        Draw every figure as an image (needs the analysis extra; without it the ``verdict``
        text says that the figures were not drawn).
    """
    try:
        from tensorboard.compat.proto.event_pb2 import Event  # lazy: the tensorboard extra
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.compat.proto.tensor_pb2 import TensorProto
        from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
        from tensorboard.plugins.text.metadata import create_summary_metadata
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as error:
        raise ImportError(f"{INSTALL_HINT} ({error})") from None

    # Everything at one step goes into one event (a Summary holds many values): ten times fewer
    # records than one per value, and the writer checksums every record byte in pure Python.
    values_at: defaultdict[int, list] = defaultdict(list)
    for curve in scalar_curves(result):
        for step, value in zip(curve.steps.tolist(), curve.values.tolist()):
            values_at[step].append(Summary.Value(tag=curve.name, simple_value=value))
    last = final_step(result)
    for name, value in headline_numbers(result).items():
        values_at[last].append(Summary.Value(tag=name, simple_value=value))
    pngs, figures_missing = figure_pngs(result) if figures else ({}, None)
    for name, data in pngs.items():
        height, width, channels = png_size(data)
        image = Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=data)
        values_at[last].append(Summary.Value(tag=f"figures/{name}", image=image))
    texts = {"verdict": verdict_markdown(result) + (f"\n\n{figures_missing}" if figures_missing else "")}
    if result.spec is not None:
        texts["spec"] = "```json\n" + json.dumps(result.spec, indent=1) + "\n```"  # fenced: shown as code, not reflowed
    for tag, text in texts.items():
        tensor = TensorProto(
            dtype="DT_STRING", string_val=[text.encode()], tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)])
        )
        values_at[last].append(Summary.Value(tag=tag, metadata=create_summary_metadata(display_name=tag, description=""), tensor=tensor))

    folder = _run_folder(Path(logdir), run_name or result.job_id or "lesde")
    wall_time = time.time()
    writer = EventFileWriter(str(folder), max_queue_size=1000)
    try:
        for step in sorted(values_at):  # steps in order: TensorBoard reads a step going back as a restart
            writer.add_event(Event(wall_time=wall_time, step=step, summary=Summary(value=values_at[step])))
    finally:
        writer.close()
    return folder
