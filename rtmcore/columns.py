"""Route and prefix tables as NumPy columns.

:class:`RouteColumns` is the one tabular format rtmcore's readers
(:mod:`rtmcore.io`), generators (:mod:`rtmcore.datagen`) and bulk entry points
share: a mapping of column name -> 1-D NumPy array, all of one length.

Addresses of both families live in two ``uint64`` columns so that IPv4 and
IPv6 rows can share one table:

============  ========  ==========================================================
column        dtype     meaning
============  ========  ==========================================================
``family``    uint8     4 or 6
``addr_hi``   uint64    IPv6: bits 127..64 of the prefix address; IPv4: 0
``addr_lo``   uint64    IPv6: bits 63..0; IPv4: the 32-bit address as an integer
``length``    uint8     prefix length (0..32 or 0..128)
============  ========  ==========================================================

Readers and generators add further documented columns (``peer``,
``next_hop_hi``/``next_hop_lo``, ``as_path_len``, ``origin``, ``med``,
``local_pref``, ``origin_as``, ``timestamp``, ``announce``, ...); see the
docstring of the function that produced the table.

The bulk API of an entity takes IPv4 addresses as a ``uint32`` array and IPv6
addresses as an ``(N, 2) uint64`` array of (hi, lo); :meth:`RouteColumns.addresses`
converts.
"""
from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np

ADDRESS_COLUMNS = ("family", "addr_hi", "addr_lo", "length")


class RouteColumns(Mapping[str, np.ndarray]):
    """An immutable-shape table of equal-length NumPy columns.

    Parameters
    ----------
    columns : mapping of str to array-like
        Must contain ``family``, ``addr_hi``, ``addr_lo`` and ``length``.
    meta : dict, optional
        Free-form metadata (source file, seed, peer table, warnings, counts).
    """

    __slots__ = ("_cols", "meta")

    def __init__(self, columns: Mapping[str, np.ndarray], meta: dict | None = None):
        cols = {k: np.asarray(v) for k, v in columns.items()}
        missing = [c for c in ADDRESS_COLUMNS if c not in cols]
        if missing:
            raise ValueError(f"RouteColumns needs columns {missing}")
        n = len(cols["length"])
        for k, v in cols.items():
            if v.ndim != 1 or len(v) != n:
                raise ValueError(f"column {k!r} has shape {v.shape}, expected ({n},)")
        cols["family"] = cols["family"].astype(np.uint8, copy=False)
        cols["addr_hi"] = cols["addr_hi"].astype(np.uint64, copy=False)
        cols["addr_lo"] = cols["addr_lo"].astype(np.uint64, copy=False)
        cols["length"] = cols["length"].astype(np.uint8, copy=False)
        self._cols = cols
        self.meta = dict(meta or {})

    # Mapping protocol -------------------------------------------------------
    def __getitem__(self, key: str) -> np.ndarray:
        return self._cols[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cols)

    def __len__(self) -> int:  # number of columns (Mapping semantics)
        return len(self._cols)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self._cols["length"])

    def __repr__(self) -> str:
        fams = np.bincount(self._cols["family"], minlength=7)
        return (f"RouteColumns({self.n_rows} rows: {fams[4]} IPv4, {fams[6]} IPv6; "
                f"columns={list(self._cols)})")

    # Selection --------------------------------------------------------------
    def take(self, index) -> "RouteColumns":
        """Rows selected by a boolean mask or an integer index array."""
        return RouteColumns({k: v[index] for k, v in self._cols.items()}, self.meta)

    def family(self, family: int) -> "RouteColumns":
        """The rows of one address family (4 or 6)."""
        if family not in (4, 6):
            raise ValueError("family must be 4 or 6")
        return self.take(self._cols["family"] == family)

    def ipv4(self) -> "RouteColumns":
        return self.family(4)

    def ipv6(self) -> "RouteColumns":
        return self.family(6)

    def addresses(self) -> np.ndarray:
        """Addresses in the bulk-API format of this table's single family.

        IPv4 rows -> ``uint32`` array; IPv6 rows -> ``(N, 2) uint64`` array.
        Raises ``ValueError`` if the table mixes families (use :meth:`family`).
        """
        fam = self._cols["family"]
        if self.n_rows and not (fam == fam[0]).all():
            raise ValueError("table mixes IPv4 and IPv6 rows; select one with .family()")
        if self.n_rows and fam[0] == 6:
            return np.stack([self._cols["addr_hi"], self._cols["addr_lo"]], axis=1)
        return self._cols["addr_lo"].astype(np.uint32)

    def lengths(self) -> np.ndarray:
        return self._cols["length"]

    def to_dict(self) -> dict[str, np.ndarray]:
        return dict(self._cols)


def from_ipv4(addresses, lengths, **extra) -> RouteColumns:
    """Build a table from IPv4 ``uint32`` addresses and lengths."""
    a = np.asarray(addresses, dtype=np.uint32)
    n = len(a)
    return RouteColumns(dict(family=np.full(n, 4, np.uint8), addr_hi=np.zeros(n, np.uint64),
                             addr_lo=a.astype(np.uint64), length=np.asarray(lengths, np.uint8),
                             **extra))


def from_ipv6(addresses, lengths, **extra) -> RouteColumns:
    """Build a table from IPv6 ``(N, 2) uint64`` addresses and lengths."""
    a = np.asarray(addresses, dtype=np.uint64).reshape(-1, 2)
    n = len(a)
    return RouteColumns(dict(family=np.full(n, 6, np.uint8), addr_hi=a[:, 0].copy(),
                             addr_lo=a[:, 1].copy(), length=np.asarray(lengths, np.uint8),
                             **extra))
