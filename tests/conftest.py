import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Several xdist workers share the cores: each process (and the CLIs and scripts it starts) runs an op on
# one thread, rather than every process keeping an intra-op pool the size of the machine, which only
# makes the pools wait for each other (the default tier: 7:11 with them, 6:08 without, on 2 cores).
# Set before TensorFlow starts in the process; tests of the threads themselves start their own.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real corpora not found at {SHARED_DATA} (read-only copies live in ../shared/data)")
    return SHARED_DATA
