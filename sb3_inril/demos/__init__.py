"""Demonstrations: their type, one reader per format, the HDF5 row store, the buffers IL and
RLPD-style replay sample from, action chunking, and the file safety of everything that writes them.

The interleaving mechanism (:mod:`sb3_inril.common`) reads demonstrations through this package; the
shipped files themselves are in :mod:`sb3_inril.data`.
"""

from sb3_inril.demos.buffer import DemonstrationBatch, DemonstrationBuffer
from sb3_inril.demos.chunking import ActionChunkWrapper, chunk_demonstrations
from sb3_inril.demos.demonstrations import (
    Demonstrations,
    DemonstrationSpec,
    as_demonstrations,
    validate_demonstrations,
)
from sb3_inril.demos.files import atomic_output, refuse_existing_outputs, to_jsonable, write_atomically
from sb3_inril.demos.hdf5_store import HDF5RowStore, LazyRows
from sb3_inril.demos.loading import (
    check_observation_layout,
    detect_format,
    load_demonstrations,
    read_robomimic_env_args,
    robomimic_obs_layout,
    save_demonstrations,
)
from sb3_inril.demos.replay import DemonstrationReplayBuffer, DemoReplayBuffer

__all__ = [
    "ActionChunkWrapper",
    "DemoReplayBuffer",
    "DemonstrationBatch",
    "DemonstrationBuffer",
    "DemonstrationReplayBuffer",
    "DemonstrationSpec",
    "Demonstrations",
    "HDF5RowStore",
    "LazyRows",
    "as_demonstrations",
    "atomic_output",
    "check_observation_layout",
    "chunk_demonstrations",
    "detect_format",
    "load_demonstrations",
    "read_robomimic_env_args",
    "refuse_existing_outputs",
    "robomimic_obs_layout",
    "save_demonstrations",
    "to_jsonable",
    "validate_demonstrations",
    "write_atomically",
]
