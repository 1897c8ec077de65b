"""Type stub of the native parsers behind :mod:`rtmcore.io` (hand-written)."""
from typing import TypedDict

import numpy as np
import numpy.typing as npt

ERR_MALFORMED: int
ERR_OCTET: int
ERR_LENGTH: int
ERR_HOSTBITS: int
ERR_FAMILY: int
ERR_ZONE: int
ERR_EMPTY: int
ERR_ASN: int

MODE_CIDR: int
MODE_PFX2AS: int
MODE_IPASN: int

def parse_prefix_lines(
    buf: bytes, n_items: int, family: int, strict: bool
) -> tuple[int, int, npt.NDArray[np.uint32] | npt.NDArray[np.uint64], npt.NDArray[np.uint8], int]:
    """``(status, index, addresses, lengths, n_masked)`` for ``n_items``
    newline-separated prefixes of one family (4 -> uint32 (N,), 6 -> uint64 (N, 2))."""

class _TextTable(TypedDict):
    family: npt.NDArray[np.uint8]
    addr_hi: npt.NDArray[np.uint64]
    addr_lo: npt.NDArray[np.uint64]
    length: npt.NDArray[np.uint8]
    origin_as: npt.NDArray[np.uint32]
    multi_origin: npt.NDArray[np.bool_]
    masked: int
    lines: int
    status: int
    err_line: int
    err_start: int
    err_end: int

def parse_text_table(buf: bytes, mode: int) -> _TextTable:
    """Parse a CIDR list, CAIDA pfx2as or pyasn ipasn text buffer."""

class _MrtResult(TypedDict):
    columns: dict[str, np.ndarray]
    states: dict[str, np.ndarray]
    peers: dict[str, np.ndarray]
    records: int
    damaged: int
    skipped: int
    updates: int
    other_messages: int
    other_mp: int
    host_bits_masked: int
    no_index_rows: int
    truncated: bool
    record_counts: dict[tuple[int, int], int]

def parse_mrt(buf: bytes) -> _MrtResult:
    """Decode an uncompressed MRT byte string; ``ValueError`` if its first
    record header is not MRT."""
