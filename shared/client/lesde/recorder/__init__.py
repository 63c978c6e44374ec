"""Record LE-SDE streams from your own training loop (:class:`Recorder`), and upload a run."""

from lesde.recorder.recorder import Recorder

__all__ = ["Recorder"]
