"""Import TensorFlow without its C++ start-up chatter on the terminal.

TensorFlow 2.21's native logging (oneDNN notices, CPU feature guards, "failed call to cuInit" on
machines without a GPU) ignores ``TF_CPP_MIN_LOG_LEVEL``. The CLI imports TensorFlow and discovers
its devices with file descriptor 2 pointed at a temporary file; if that fails, the captured text is
shown, so nothing useful is ever hidden. Library users are unaffected.
"""

from __future__ import annotations

import os
import sys
import tempfile


def import_tensorflow_quietly() -> None:
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow as tf

            # device discovery logs now, not mid-command; the physical listing leaves the runtime unstarted, so
            # a command can still set its threads (nmt.steps.set_threads)
            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
