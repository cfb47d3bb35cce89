"""Observations read from a robomimic HDF5 file when sampled, through a cache of bounded size.

A robomimic image dataset (``agentview_image``, 84 x 84 x 3 ``uint8`` per step, hundreds of
demonstrations) can be larger than memory. :class:`HDF5RowStore` keeps only the file's path, the
demos' lengths and an LRU cache of row blocks: a minibatch's rows are sorted, grouped by block
(``chunk_rows`` consecutive rows of one demo, the HDF5 dataset's own chunk when the file is
chunked, so one compressed chunk is decompressed once), the blocks the cache lacks are read in
file order, and the least recently used block gives its place when the cache is full. The cache
is one preallocated array of fixed-size slots per key (its pages are touched only when filled),
read into directly by h5py: no allocation per block, so the process's memory does not creep
above the bound through heap fragmentation. Memory: ``cache_bytes`` plus the minibatch itself.

:class:`LazyRows` is one observation key of a store as an array-like ``(N, *shape)`` that
:class:`~sb3_inril.demos.demonstrations.Demonstrations` and the demonstration buffer accept in
place of a numpy array: ``rows[index]`` reads those rows. h5py is imported only when a store
reads; the file is (re)opened in each process that reads (an open h5py file does not survive a fork).
"""

import os
from collections import OrderedDict
from typing import Any

import numpy as np

from sb3_inril.validation import check_non_negative_int, check_positive_int

#: Cache bound when none is given: 512 MiB (about 24,000 rows of 84 x 84 x 3 uint8 images).
DEFAULT_CACHE_BYTES = 512 * 2**20
#: Rows per cached block of a contiguous (unchunked) dataset: a uniform minibatch rarely hits two
#: rows of one block, so small blocks waste the least reading.
DEFAULT_CHUNK_ROWS = 4


class HDF5RowStore:
    """
    Rows of some observation keys of a robomimic file, read per request through a bounded LRU cache.

    :param path: the HDF5 file
    :param demos: the demo groups (``data/<demo>``), in the order their rows are numbered
    :param lengths: the number of rows of each demo
    :param keys: the observation keys (``data/<demo>/obs/<key>``) the store serves
    :param cache_bytes: the most bytes of rows the cache keeps, shared by the keys in proportion to
        their row size (0: no cache)
    :param chunk_rows: rows per block of a contiguous dataset (a chunked dataset's blocks are its
        HDF5 chunks along the step axis)
    """

    def __init__(
        self,
        path: str,
        demos: list[str],
        lengths: list[int] | np.ndarray,
        keys: list[str],
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        chunk_rows: int | None = None,
    ) -> None:
        check_non_negative_int("cache_bytes", cache_bytes)
        check_positive_int("chunk_rows", chunk_rows, allow_none=True)
        self.path = path
        self.demos = list(demos)
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.demo_starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.cache_bytes = int(cache_bytes)
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.dtypes: dict[str, np.dtype] = {}
        self._blocks: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._slot_rows: dict[str, int] = {}
        self._offsets: dict[str, list[int] | None] = {}
        import h5py

        with h5py.File(path, "r") as file:
            for key in keys:
                dataset = file[f"data/{self.demos[0]}/obs/{key}"]
                self.shapes[key], self.dtypes[key] = tuple(dataset.shape[1:]), dataset.dtype
                rows = int(chunk_rows or (dataset.chunks[0] if dataset.chunks else DEFAULT_CHUNK_ROWS))
                self._blocks[key] = self._block_layout(rows)
                self._slot_rows[key] = rows
                self._offsets[key] = self._raw_offsets(file, key)
        # Per key: a slot array (allocated when first read), the slot of each cached block in LRU
        # order. The bound is shared by the keys in proportion to their row size.
        row_bytes = {key: int(np.prod(self.shapes[key], dtype=np.int64)) * self.dtypes[key].itemsize for key in keys}
        total = sum(row_bytes.values()) or 1
        self._n_slots = {
            key: int(self.cache_bytes * row_bytes[key] / total) // max(self._slot_rows[key] * row_bytes[key], 1)
            for key in keys
        }
        self._arena: dict[str, np.ndarray] = {}
        self._slots: dict[str, OrderedDict[int, tuple[int, int]]] = {key: OrderedDict() for key in keys}
        self._file: Any = None
        self._fd: int | None = None
        self._pid: int | None = None
        #: Blocks read from the file and blocks served from the cache, since the store was made.
        self.reads = 0
        self.hits = 0

    def _block_layout(self, chunk_rows: int) -> tuple[np.ndarray, np.ndarray]:
        """The first row (global) and the demo of every block; blocks never cross a demo's end."""
        starts, demo_of_block = [], []
        for index, (start, length) in enumerate(zip(self.demo_starts, self.lengths)):
            offsets = np.arange(0, length, chunk_rows)
            starts.append(start + offsets)
            demo_of_block.append(np.full(len(offsets), index))
        return np.concatenate(starts).astype(np.int64), np.concatenate(demo_of_block).astype(np.int64)

    def _raw_offsets(self, file: Any, key: str) -> list[int] | None:
        """Where each demo's rows of ``key`` lie in the file, when every one is stored contiguous and
        uncompressed (robomimic's default); None otherwise (read through h5py)."""
        offsets = []
        for demo in self.demos:
            dataset = file[f"data/{demo}/obs/{key}"]
            offset = dataset.id.get_offset() if dataset.chunks is None and dataset.compression is None else None
            if offset is None or dataset.dtype != self.dtypes[key] or dataset.shape[1:] != self.shapes[key]:
                return None
            offsets.append(int(offset))
        return offsets

    def __len__(self) -> int:
        return int(self.lengths.sum())

    def _open(self) -> Any:
        if self._file is None or self._pid != os.getpid():
            import h5py

            self._file = h5py.File(self.path, "r")
            self._fd = os.open(self.path, os.O_RDONLY)
            self._pid = os.getpid()
        return self._file

    def _block(self, key: str, block: int) -> np.ndarray:
        slots = self._slots[key]
        cached = slots.get(block)
        if cached is not None:
            slots.move_to_end(block)
            self.hits += 1
            slot, n = cached
            return self._arena[key][slot, :n]
        starts, demo_of_block = self._blocks[key]
        demo = int(demo_of_block[block])
        begin = int(starts[block] - self.demo_starts[demo])
        following = block + 1 < len(starts) and demo_of_block[block + 1] == demo
        end = int(starts[block + 1] - self.demo_starts[demo]) if following else int(self.lengths[demo])
        file = self._open()
        self.reads += 1
        if self._n_slots[key] == 0:  # no room for a block: read it for this minibatch only
            return np.asarray(file[f"data/{self.demos[demo]}/obs/{key}"][begin:end])
        if key not in self._arena:  # np.empty: its pages become memory only when a slot is filled
            self._arena[key] = np.empty((self._n_slots[key], self._slot_rows[key], *self.shapes[key]), self.dtypes[key])
        if len(slots) < self._n_slots[key]:
            slot = len(slots)
        else:
            _, (slot, _) = slots.popitem(last=False)  # the least recently used block gives its slot
        target = self._arena[key][slot, : end - begin]
        offsets = self._offsets[key]
        if offsets is not None:
            # A contiguous dataset's rows are plain bytes in the file: one pread into the slot, a
            # tenth of h5py's cost per small read (and no memory map, whose pages would count as
            # the process's memory).
            start = offsets[demo] + begin * target[0].nbytes
            if os.preadv(self._fd, [target.data], start) != target.nbytes:  # type: ignore[arg-type]  # opened with the file
                raise OSError(f"{self.path!r}: short read of {key!r} in demo {self.demos[demo]!r} rows {begin}:{end}")
        else:  # chunked or compressed: h5py decodes it
            file[f"data/{self.demos[demo]}/obs/{key}"].read_direct(target, source_sel=np.s_[begin:end])
        slots[block] = (slot, end - begin)
        return target

    def read(self, key: str, rows: np.ndarray) -> np.ndarray:
        """
        The rows ``rows`` (global row numbers, any order, repeats allowed) of one key.

        :param key: the observation key
        :param rows: 1-D integer row numbers in ``[0, len(self))``
        :return: ``(len(rows), *shape)`` in the dataset's dtype
        """
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if len(rows) and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"rows: expected row numbers in [0, {len(self)}), found {rows.min()}..{rows.max()}")
        out = np.empty((len(rows), *self.shapes[key]), dtype=self.dtypes[key])
        order = np.argsort(rows, kind="stable")  # file order: each block read once, sequentially
        sorted_rows = rows[order]
        starts, _ = self._blocks[key]
        blocks = np.searchsorted(starts, sorted_rows, side="right") - 1
        boundaries = np.flatnonzero(np.diff(blocks)) + 1
        for positions in np.split(np.arange(len(rows)), boundaries):
            if not len(positions):
                continue
            block = int(blocks[positions[0]])
            values = self._block(key, block)
            out[order[positions]] = values[sorted_rows[positions] - starts[block]]
        return out

    @property
    def cached_bytes(self) -> int:
        """Bytes of the cache's slots in use now (at most ``cache_bytes``)."""
        return sum(len(self._slots[key]) * self._arena[key][0].nbytes for key in self._arena)

    def close(self) -> None:
        """Close the file and empty the cache (a later read opens the file again)."""
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
            os.close(self._fd)  # type: ignore[arg-type]  # opened with the file
        self._file, self._fd, self._pid = None, None, None
        self._arena = {}
        self._slots = {key: OrderedDict() for key in self._slots}

    def __getstate__(self) -> dict[str, Any]:
        # Neither the open file nor the cache travels (pickling, copies, subprocesses).
        return dict(
            self.__dict__, _file=None, _fd=None, _pid=None, _arena={}, _slots={key: OrderedDict() for key in self._slots}
        )

    def __repr__(self) -> str:
        return (
            f"HDF5RowStore({self.path!r}, {len(self)} rows of {sorted(self.shapes)}, cache "
            f"{self.cached_bytes / 2**20:.0f}/{self.cache_bytes / 2**20:.0f} MiB)"
        )


class LazyRows:
    """
    One observation key of an :class:`HDF5RowStore`, as a read-only array-like ``(N, *shape)``.

    Indexing reads (``rows[index]`` for an int, a slice, or integer / boolean arrays along the
    first axis) and returns numpy arrays; ``np.asarray(rows)`` reads everything. ``take(index)``
    selects rows without reading them.

    :param store: the store
    :param key: the observation key
    :param index: global row numbers this view holds (default: every row of the store)
    """

    def __init__(self, store: HDF5RowStore, key: str, index: np.ndarray | None = None) -> None:
        self.store = store
        self.key = key
        self.index = np.arange(len(store), dtype=np.int64) if index is None else np.asarray(index, dtype=np.int64)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.index), *self.store.shapes[self.key])

    @property
    def dtype(self) -> np.dtype:
        return self.store.dtypes[self.key]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    def __len__(self) -> int:
        return len(self.index)

    def take(self, index: Any) -> "LazyRows":
        """The rows ``index`` (as for numpy's first axis) as another view, without reading them."""
        return LazyRows(self.store, self.key, self.index[index])

    def __getitem__(self, index: Any) -> np.ndarray:
        if isinstance(index, (int, np.integer)):
            return self.store.read(self.key, self.index[[int(index)]])[0]
        return self.store.read(self.key, self.index[index])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        values = self.store.read(self.key, self.index)
        return values if dtype is None else values.astype(dtype)

    def __repr__(self) -> str:
        return f"LazyRows({self.key!r}, shape={self.shape}, dtype={self.dtype}, {self.store!r})"
