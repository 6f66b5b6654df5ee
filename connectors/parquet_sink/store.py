"""The warehouse's files, written exactly once through pyarrow's filesystem layer.

Every flush writes all of its files (one per entity and date) under ``_tmp/`` first, and
only then renames them into place one by one. The first rename is the flush's commit point:

* before it, nothing of the flush is visible, and recovery deletes its temporary files, so
  the offsets are read and written again;
* after it, every file of the flush exists either in place or, complete, under ``_tmp/``;
  recovery renames the rest (rolls the flush forward) before computing where to resume.

Resuming after the highest end offset on disk is then right for every partition: the files
in place after recovery are exactly the committed flushes, whole.
"""

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import fs

from connectors.parquet_sink.layout import TEMP_DIR, SinkFile, parse_relative, resume_offsets


def filesystem(out: str) -> tuple[fs.FileSystem, str]:
    """The filesystem and root path of ``out``: a local directory, or a URI such as
    ``s3://bucket/prefix`` or ``gs://bucket/prefix`` (credentials as pyarrow finds them)."""
    if "://" not in out:
        out = Path(out).expanduser().resolve().as_uri()
    filesystem_, root = fs.FileSystem.from_uri(out)
    return filesystem_, root.rstrip("/")


class Store:
    """The files of one warehouse."""

    def __init__(self, out: str) -> None:
        self.fs, self.root = filesystem(out)
        self._made: set[str] = set()
        # The root exists from the start: `ledger sql` tells a warehouse not yet written to
        # (empty views) from a path that names none (an error).
        self._make_parent(f"{self.root}/")

    def _list(self, base: str) -> list[SinkFile]:
        selector = fs.FileSelector(base, recursive=True, allow_not_found=True)
        found = []
        for info in self.fs.get_file_info(selector):
            if info.type == fs.FileType.File:
                file = parse_relative(info.path.removeprefix(base + "/"))
                if file is not None:
                    found.append(file)
        return found

    def files(self) -> list[SinkFile]:
        """Every file in place (not the temporary ones)."""
        return self._list(self.root)

    def _final(self, file: SinkFile) -> str:
        return f"{self.root}/{file.relative}"

    def _temp(self, file: SinkFile) -> str:
        return f"{self.root}/{TEMP_DIR}/{file.relative}"

    def recover(self) -> dict[tuple[str, int], int]:
        """Finish or undo the flush a crash interrupted; return where each partition resumes."""
        in_place = self._list(self.root)
        committed = {file.flush for file in in_place}
        for file in self._list(f"{self.root}/{TEMP_DIR}"):
            if file.flush in committed:
                self._move(file)
                in_place.append(file)
            else:
                self.fs.delete_file(self._temp(file))
        return resume_offsets(in_place)

    def write(self, files: Sequence[tuple[SinkFile, pa.Table]]) -> None:
        """Write one flush's files: all of them under ``_tmp/``, then each into place."""
        for file, table in files:
            path = self._temp(file)
            self._make_parent(path)
            pq.write_table(table, path, filesystem=self.fs, compression="zstd")
        for file, _table in files:
            self._move(file)

    def _move(self, file: SinkFile) -> None:
        final = self._final(file)
        self._make_parent(final)
        self.fs.move(self._temp(file), final)

    def _make_parent(self, path: str) -> None:
        parent = path.rpartition("/")[0]
        if parent not in self._made:
            self.fs.create_dir(parent, recursive=True)
            self._made.add(parent)
