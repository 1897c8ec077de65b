"""Readers of real routing data into NumPy columns.

Text prefix lists, prefix-to-AS tables and MRT routing dumps (RFC 6396) are
decoded by native parsers (:mod:`rtmcore._io`) straight into the column
format of :class:`rtmcore.columns.RouteColumns`; no Python object is made per
prefix or route.

Functions
---------
parse_prefixes
    Prefix strings (a list or NumPy array) to address and length arrays.
read_prefixes
    CIDR lists, CAIDA pfx2as and pyasn ipasn files to a ``RouteColumns``.
read_mrt
    MRT files (TABLE_DUMP, TABLE_DUMP_V2, BGP4MP, BGP4MP_ET, the old BGP
    type) to a ``RouteColumns`` with one row per RIB entry or per announced /
    withdrawn prefix.
read_table
    Either of the two, chosen by the content of the file.

Files may be plain, gzip, bzip2 or xz compressed; the compression is
recognised by its magic bytes, not by the file name.
"""
from __future__ import annotations

import bz2
import ipaddress
import lzma
import os
import warnings
import zlib
from typing import Sequence, Union

import numpy as np

from . import _io
from .columns import RouteColumns
from .errors import InvalidData, InvalidParameter

__all__ = ["parse_prefixes", "read_prefixes", "read_mrt", "read_table", "PREFIX_FORMATS"]

PathLike = Union[str, "os.PathLike[str]"]

#: Text formats understood by :func:`read_prefixes`.
PREFIX_FORMATS = ("cidr", "pfx2as", "ipasn")

_MODES = {"cidr": _io.MODE_CIDR, "pfx2as": _io.MODE_PFX2AS, "ipasn": _io.MODE_IPASN}
_CHUNK = 1 << 20


# ---------------------------------------------------------------------------
# Input files
# ---------------------------------------------------------------------------
def _inflate(raw: bytes, make, name: str, magic: bytes) -> tuple[bytes, str | None, bool]:
    """Decompress every stream in ``raw``, chunk by chunk, keeping what was
    decoded before a damaged or missing end.  Returns (data, problem, cut):
    ``problem`` describes anything odd, ``cut`` says the data ends early."""
    out: list[bytes] = []
    data = memoryview(raw)
    while True:
        dec = make()
        pos = 0
        try:
            while pos < len(data) and not dec.eof:
                out.append(dec.decompress(data[pos:pos + _CHUNK]))
                pos += _CHUNK
        except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
            return b"".join(out), f"{name} data is damaged ({exc}); kept what came before", True
        if not dec.eof:
            return b"".join(out), f"{name} stream is truncated; kept what came before", True
        rest = bytes(dec.unused_data) + bytes(data[pos:])
        if not rest.strip(b"\0"):
            return b"".join(out), None, False
        if not rest.startswith(magic):
            return (b"".join(out), f"ignored {len(rest)} bytes of garbage after the {name} stream",
                    False)
        data = memoryview(rest)


class _Input:
    """A file's bytes after decompression, and how it went."""

    __slots__ = ("data", "compression", "problem", "cut", "source")

    def __init__(self, path: PathLike):
        self.source = os.fspath(path)
        with open(path, "rb") as fh:
            raw = fh.read()
        self.problem, self.cut = None, False
        for magic, name, make in ((b"\x1f\x8b", "gzip", lambda: zlib.decompressobj(31)),
                                  (b"BZh", "bzip2", bz2.BZ2Decompressor),
                                  (b"\xfd7zXZ\x00", "xz", lzma.LZMADecompressor)):
            if raw.startswith(magic):
                self.compression = name
                self.data, self.problem, self.cut = _inflate(raw, make, name, magic)
                return
        self.compression = "none"
        self.data = raw


def _load(path: PathLike) -> tuple[bytes, str, str | None]:
    """Read a file and undo its compression: (data, compression, problem)."""
    inp = _Input(path)
    return inp.data, inp.compression, inp.problem


def _warn(message: str) -> None:
    """RuntimeWarning attributed to the user's call: user -> public function
    -> _*_from_input -> _warn."""
    warnings.warn(message, RuntimeWarning, stacklevel=4)


_BOM = b"\xef\xbb\xbf"


def _looks_binary(buf: bytes) -> bool:
    """True if the data cannot be a text table (a NUL or non-ASCII byte in
    the first 12 bytes, not counting a UTF-8 byte order mark)."""
    head = buf[len(_BOM):len(_BOM) + 12] if buf.startswith(_BOM) else buf[:12]
    return any(b == 0 or b >= 0x80 for b in head)


# ---------------------------------------------------------------------------
# parse_prefixes
# ---------------------------------------------------------------------------
def _items_and_buffer(strings) -> tuple[Sequence, bytes]:
    """The items (for messages) and their newline-joined bytes."""
    if isinstance(strings, (str, bytes, bytearray)):
        raise InvalidParameter(
            "parse_prefixes takes a sequence of prefix strings, not one string; "
            "wrap it in a list")
    if isinstance(strings, np.ndarray):
        if strings.ndim != 1:
            raise InvalidParameter(f"expected a 1-D array of strings, got shape {strings.shape}")
        if strings.dtype.kind not in "SUO":
            raise InvalidParameter(
                f"expected an array of str or bytes (dtype U, S or object), got {strings.dtype}")
        items = strings.tolist()
    else:
        items = strings if isinstance(strings, (list, tuple)) else list(strings)
    try:
        return items, "\n".join(items).encode("utf-8", "surrogateescape")
    except TypeError:
        pass
    try:
        return items, b"\n".join(items)
    except TypeError:
        pass
    parts = []
    for i, it in enumerate(items):
        if isinstance(it, str):
            parts.append(it.encode("utf-8", "surrogateescape"))
        elif isinstance(it, (bytes, bytearray, memoryview)):
            parts.append(bytes(it))
        else:
            raise InvalidParameter(f"item {i} is {type(it).__name__}, not str or bytes: {it!r}")
    return items, b"\n".join(parts)


def _is_v6(item) -> bool:
    return (":" in item) if isinstance(item, str) else (b":" in bytes(item))


def _prefix_error(code: int, i: int, item, family: int, first_family: str) -> InvalidParameter:
    maxlen = 32 if family == 4 else 128
    if code == _io.ERR_FAMILY:
        other = 6 if family == 4 else 4
        return InvalidParameter(
            f"mixed address families: item {i} ({item!r}) is IPv{other} but the input is "
            f"IPv{family} ({first_family}); parse_prefixes returns one family, so select each "
            f"family's items and call it with family=4 / family=6, or load a mixed table "
            f"with rtmcore.io.read_prefixes, which returns RouteColumns with a family column")
    text = {
        _io.ERR_MALFORMED: f"is not a valid IPv{family} prefix",
        _io.ERR_OCTET: "has an IPv4 octet greater than 255",
        _io.ERR_LENGTH: f"has a prefix length outside 0..{maxlen}",
        _io.ERR_HOSTBITS: "has host bits set beyond its prefix length "
                          "(pass strict=False to clear them)",
        _io.ERR_ZONE: "has a zone id ('%...'), which a prefix cannot carry",
        _io.ERR_EMPTY: "is empty",
    }.get(code, f"could not be parsed (code {code})")
    return InvalidParameter(f"item {i} ({item!r}) {text}")


def parse_prefixes(strings, family: int | None = None, *, strict: bool = True
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Parse prefix strings into address and length arrays.

    The strings are joined into one buffer and parsed by native code, so a
    million prefixes take well under a second.

    Parameters
    ----------
    strings : sequence of str or bytes, or 1-D NumPy array (dtype U, S or object)
        Prefixes such as ``"192.0.2.0/24"``, ``"2001:db8::/32"``,
        ``"::ffff:192.0.2.1"``.  Blanks around an item are ignored.  An item
        without ``/len`` is a host prefix (/32 or /128).  IPv4 octets must be
        plain decimal without leading zeros; IPv6 text may use ``::``, either
        hex case and a dotted-quad tail.  Netmask notation (``/255.0.0.0``)
        and zone ids (``%eth0``) are not accepted.
    family : {None, 4, 6}, optional
        Address family of every item; ``None`` takes it from the first item.
    strict : bool, default True
        If True, an item with address bits set beyond its length is an
        error; if False, those bits are cleared.

    Returns
    -------
    addresses : numpy.ndarray
        IPv4: ``uint32`` array of shape ``(N,)``; IPv6: ``uint64`` array of
        shape ``(N, 2)`` holding (high, low) halves.
    lengths : numpy.ndarray
        ``uint8`` array of shape ``(N,)``.

    Raises
    ------
    InvalidParameter
        For the first bad item; the message gives its 0-based index and text.
        Causes: malformed text, an octet above 255, a length out of range,
        host bits set (``strict=True``), a zone id, an empty item, an item of
        the other family (mixed input; use ``family=`` per family, or
        :func:`read_prefixes` for mixed tables).

    Examples
    --------
    >>> addrs, lens = parse_prefixes(["10.0.0.0/8", "192.0.2.1"])
    >>> addrs.tolist(), lens.tolist()
    ([167772160, 3221225985], [8, 32])
    """
    if family not in (None, 4, 6):
        raise InvalidParameter(f"family must be None, 4 or 6, not {family!r}")
    items, buf = _items_and_buffer(strings)
    n = len(items)
    if n == 0:
        if family == 6:
            return np.empty((0, 2), np.uint64), np.empty(0, np.uint8)
        return np.empty(0, np.uint32), np.empty(0, np.uint8)
    how = "as given by family="
    if family is None:
        first = items[0]
        if not isinstance(first, (str, bytes, bytearray, memoryview)):
            raise InvalidParameter(f"item 0 is {type(first).__name__}, not str or bytes")
        family = 6 if _is_v6(first) else 4
        how = "inferred from item 0"
    if buf.count(b"\n") != n - 1:
        for i, it in enumerate(items):
            if (b"\n" if isinstance(it, (bytes, bytearray)) else "\n") in it:
                raise InvalidParameter(f"item {i} ({it!r}) contains a line break")
    status, index, addrs, lengths, _masked = _io.parse_prefix_lines(buf, n, family, strict)
    if status:
        raise _prefix_error(status, index, items[index], family, how)
    return addrs, lengths


# ---------------------------------------------------------------------------
# read_prefixes
# ---------------------------------------------------------------------------
def _detect_text_format(buf: bytes, source: str) -> str:
    if _looks_binary(buf):
        raise InvalidData(f"{source}: binary data, not a prefix list "
                          "(an MRT dump? use rtmcore.io.read_mrt)")
    for raw in buf[:1 << 16].split(b"\n")[:1000]:
        line = raw.strip()
        if not line or line[:1] in (b"#", b";"):
            continue
        fields = line.split()
        if len(fields) == 1:
            return "cidr"
        if b"/" in fields[0]:
            return "ipasn"
        if len(fields) >= 3 and fields[1].isdigit():
            return "pfx2as"
        raise InvalidData(f"{source}: cannot tell the format from the line {raw[:80]!r}; "
                          f"pass format= one of {PREFIX_FORMATS}")
    return "cidr"


_TEXT_ERRORS = {
    _io.ERR_MALFORMED: "malformed prefix",
    _io.ERR_OCTET: "IPv4 octet greater than 255",
    _io.ERR_LENGTH: "prefix length out of range",
    _io.ERR_ZONE: "zone id in address",
    _io.ERR_ASN: "malformed AS number field",
}


def _prefixes_from_input(inp: _Input, fmt: str | None) -> RouteColumns:
    buf, source = inp.data, inp.source
    if fmt is not None and fmt not in _MODES:
        raise InvalidParameter(f"format must be one of {PREFIX_FORMATS} or None, not {fmt!r}")
    if inp.problem:
        _warn(f"{source}: {inp.problem}")
    if inp.cut:
        buf = buf[:buf.rfind(b"\n") + 1]       # a cut stream ends inside a line
    if buf.startswith(_BOM):
        buf = buf[len(_BOM):]
    if fmt is None:
        fmt = _detect_text_format(buf, source)
    res = _io.parse_text_table(buf, _MODES[fmt])
    if res["status"]:
        line = buf[res["err_start"]:res["err_end"]].decode("utf-8", "replace")
        reason = _TEXT_ERRORS.get(res["status"], f"error {res['status']}")
        raise InvalidData(f"{source}, line {res['err_line']} ({fmt} format): {reason}: {line!r}")
    cols = {k: res[k] for k in ("family", "addr_hi", "addr_lo", "length", "origin_as",
                                "multi_origin")}
    meta = dict(source=source, format=fmt, compression=inp.compression,
                host_bits_masked=int(res["masked"]), lines=int(res["lines"]),
                truncated=inp.cut)
    return RouteColumns(cols, meta)


def read_prefixes(path: PathLike, *, format: str | None = None) -> RouteColumns:
    """Read a prefix list or prefix-to-AS table.

    Parameters
    ----------
    path : str or os.PathLike
        Plain, gzip, bzip2 or xz file (recognised by magic bytes).
    format : {None, 'cidr', 'pfx2as', 'ipasn'}, optional
        ``'cidr'``: one ``prefix`` per line (any further fields on the line
        are ignored).  ``'pfx2as'`` (CAIDA RouteViews prefix-to-AS):
        ``address<TAB>length<TAB>asn``, where ``asn`` may be ``a_b`` (several
        origins seen) or ``a,b`` (AS set).  ``'ipasn'`` (pyasn):
        ``prefix/len<TAB>asn``.  ``None`` detects the format from the first
        data line.  In every format, blank lines and lines starting with
        ``#`` or ``;`` are skipped and IPv4 and IPv6 may be mixed.

    Returns
    -------
    RouteColumns
        Columns ``family`` (uint8, 4 or 6), ``addr_hi``, ``addr_lo``
        (uint64), ``length`` (uint8), ``origin_as`` (uint32: the first AS of
        the AS field, 0 for ``'cidr'``) and ``multi_origin`` (bool: the AS
        field listed more than one AS).  ``meta`` holds ``source``,
        ``format``, ``compression``, ``lines``, ``truncated`` and
        ``host_bits_masked``: the number of records whose address had bits
        set beyond the length (they are cleared, as real tables contain a
        few such records).

    Raises
    ------
    InvalidData
        A line cannot be parsed (the message gives the line number and
        text), the format cannot be detected, or the file is binary.
    InvalidParameter
        Unknown ``format``.

    Warns
    -----
    RuntimeWarning
        The compressed stream is truncated or damaged; the lines before the
        damage are returned.
    """
    return _prefixes_from_input(_Input(path), format)


# ---------------------------------------------------------------------------
# read_mrt
# ---------------------------------------------------------------------------
def _ip_text(afi: int, ip: np.ndarray) -> str | None:
    if afi == 4:
        return str(ipaddress.IPv4Address(ip[:4].tobytes()))
    if afi == 6:
        return str(ipaddress.IPv6Address(ip.tobytes()))
    return None


def _mrt_from_input(inp: _Input) -> RouteColumns:
    buf, source = inp.data, inp.source
    try:
        res = _io.parse_mrt(buf)
    except ValueError:
        head = buf[:12].hex(" ")
        raise InvalidData(
            f"{source}: not an MRT file (the first 12 bytes, {head}, are not a record "
            "header of a known MRT type and subtype)") from None
    if res["records"] == 0 and res["damaged"] > 0:
        raise InvalidData(f"{source}: not an MRT file (no record could be decoded; "
                          f"{res['damaged']} damaged)")
    p = res["peers"]
    peers = []
    for k in range(len(p["asn"])):
        afi = int(p["afi"][k])
        d = {"asn": int(p["asn"][k]), "ip": _ip_text(afi, p["ip"][k]),
             "bgp_id": (str(ipaddress.IPv4Address(int(p["bgp_id"][k])))
                        if p["has_bgp_id"][k] else None)}
        if afi == 0:   # stand-in for an entry of a missing PEER_INDEX_TABLE
            d["index"] = int(p["ip"][k][0]) << 8 | int(p["ip"][k][1])
        peers.append(d)
    st = dict(res["states"])
    st["peer_as"] = p["asn"][st["peer"]] if len(st["peer"]) else np.empty(0, np.uint32)
    truncated = bool(res["truncated"]) or inp.cut
    meta = dict(
        source=source, format="mrt", compression=inp.compression, peers=peers,
        state_changes=len(st["peer"]), state_change_table=st,
        truncated=truncated, damaged_records=int(res["damaged"]),
        records=int(res["records"]), record_counts=res["record_counts"],
        skipped_records=int(res["skipped"]), bgp_updates=int(res["updates"]),
        other_bgp_messages=int(res["other_messages"]),
        other_afi_safi=int(res["other_mp"]),
        host_bits_masked=int(res["host_bits_masked"]),
        missing_peer_index_rows=int(res["no_index_rows"]),
    )
    notes = [inp.problem] if inp.problem else []
    if res["truncated"]:
        notes.append("the MRT data ends inside a record")
    if res["damaged"]:
        notes.append(f"skipped {res['damaged']} damaged MRT record(s)")
    if notes:
        _warn(f"{source}: {'; '.join(notes)}; returned the {len(res['columns']['length'])} "
              "rows of the complete records")
    return RouteColumns(res["columns"], meta)


def read_mrt(path: PathLike) -> RouteColumns:
    """Read an MRT routing dump (RFC 6396) into columns.

    Decoded records: TABLE_DUMP (IPv4 and IPv6, including the old Zebra
    layout with several entries per record), TABLE_DUMP_V2
    PEER_INDEX_TABLE and RIB_IPV4_UNICAST / RIB_IPV6_UNICAST with their
    RFC 8050 ADDPATH forms, BGP4MP and BGP4MP_ET MESSAGE, MESSAGE_AS4, the
    LOCAL and ADDPATH message forms, STATE_CHANGE and STATE_CHANGE_AS4, and
    the deprecated BGP type (5) of early RIPE RIS files.  BGP UPDATEs give
    IPv4 NLRI and withdrawals, and MP_REACH_NLRI / MP_UNREACH_NLRI routes of
    IPv4 and IPv6 unicast; other address families (multicast, VPN, ...)
    are counted in ``meta["other_afi_safi"]`` and skipped.  Other record
    types are skipped and counted.

    Parameters
    ----------
    path : str or os.PathLike
        Plain, gzip, bzip2 or xz file (recognised by magic bytes).

    Returns
    -------
    RouteColumns
        One row per (prefix, peer) RIB entry, or per prefix announced or
        withdrawn by an UPDATE, in file order.  Columns:

        ================= ======= ================================================
        column            dtype   meaning
        ================= ======= ================================================
        ``family``        uint8   4 or 6
        ``addr_hi``       uint64  IPv6 bits 127..64; 0 for IPv4
        ``addr_lo``       uint64  IPv6 bits 63..0; the IPv4 address
        ``length``        uint8   prefix length
        ``peer``          uint32  index into ``meta["peers"]``
        ``peer_as``       uint32  AS of the peer
        ``next_hop_hi``   uint64  IPv6 next hop bits 127..64 (0 for IPv4)
        ``next_hop_lo``   uint64  IPv6 next hop bits 63..0, or the IPv4 next
                                  hop; 0 if absent.  IPv4 routes use NEXT_HOP,
                                  IPv6 routes the first (global) MP_REACH_NLRI
                                  next hop.
        ``as_path_len``   uint16  AS_PATH length: each AS of an AS_SEQUENCE
                                  counts 1, an AS_SET 1, confederation
                                  segments 0
        ``origin``        uint8   ORIGIN: 0 IGP, 1 EGP, 2 INCOMPLETE, 255 absent
        ``med``           int64   MULTI_EXIT_DISC, -1 if absent
        ``local_pref``    int64   LOCAL_PREF, -1 if absent
        ``origin_as``     uint32  last AS of the AS_PATH (of an AS_SET at the
                                  end: its last member; in a 2-byte-AS message
                                  with an AS4_PATH: the AS4_PATH's last AS);
                                  0 if the path is empty
        ``timestamp``     float64 record time in seconds since 1970, with the
                                  microseconds of BGP4MP_ET records
        ``announce``      bool    True for RIB entries and announcements, False
                                  for withdrawals (whose attribute columns are
                                  all "absent")
        ================= ======= ================================================

        ``meta`` keys:

        * ``peers``: list of ``{"asn": int, "ip": str, "bgp_id": str | None}``
          (``bgp_id`` only from a PEER_INDEX_TABLE; RIB entries of a file
          without one get stand-ins ``{"asn": 0, "ip": None, "bgp_id": None,
          "index": i}``; shortened Zebra records get peer ``0.0.0.0``).
        * ``state_changes`` (count) and ``state_change_table``: dict of arrays
          ``timestamp``, ``peer``, ``peer_as``, ``old_state``, ``new_state``
          (BGP FSM states 1 Idle .. 6 Established).
        * ``truncated``: the file (or its compressed stream) ends early.
        * ``damaged_records``: records skipped because their lengths are
          inconsistent; after a damaged record header the reader resumes at
          the next place where two consecutive plausible headers follow.
        * ``records``, ``record_counts`` ({(type, subtype): n}),
          ``skipped_records``, ``bgp_updates``, ``other_bgp_messages``,
          ``other_afi_safi``, ``host_bits_masked`` (NLRI with bits set beyond
          the length, cleared), ``missing_peer_index_rows``, ``source``,
          ``format`` (``"mrt"``), ``compression``.

    Raises
    ------
    InvalidData
        The data is not MRT: the first record header is not of a known
        type and subtype, or no record at all could be decoded.

    Warns
    -----
    RuntimeWarning
        The file is truncated (every complete record is returned) or records
        were damaged.

    Notes
    -----
    Every length read from the file is checked against the bytes that are
    left before it is used, so damaged input cannot make the reader read
    outside the data.
    """
    return _mrt_from_input(_Input(path))


def read_table(path: PathLike, *, format: str | None = None) -> RouteColumns:
    """Read an MRT dump or a prefix table, whichever the file holds.

    Parameters
    ----------
    path : str or os.PathLike
        Plain, gzip, bzip2 or xz file.
    format : {None, 'cidr', 'pfx2as', 'ipasn'}, optional
        Passed to :func:`read_prefixes` for text files.

    Returns
    -------
    RouteColumns
        As from :func:`read_mrt` if the data starts with a binary record
        header (a NUL or non-ASCII byte in the first 12 bytes), otherwise
        as from :func:`read_prefixes`.
    """
    inp = _Input(path)
    if _looks_binary(inp.data):
        return _mrt_from_input(inp)
    return _prefixes_from_input(inp, format)
