# cython: language_level=3
"""Native parsers behind :mod:`rtmcore.io` (prefix text and MRT routing dumps).

Formats handled
===============
Prefix text (``parse_prefix_lines``, ``parse_text_table``)
    One record per ``\\n``-terminated line.  An address is dotted-quad IPv4
    (exactly four decimal octets, no leading zeros, each <= 255) or IPv6 text
    in full RFC 4291 syntax: 1-4 hex digits per group (either case), one
    ``::`` run, an optional dotted-quad tail in the last 32 bits.  Zone ids
    (``%eth0``) are refused.  A prefix is ``addr[/len]``; without ``/len`` it
    is a host prefix.  Table modes: ``MODE_CIDR`` (prefix, anything after the
    first blank ignored), ``MODE_PFX2AS`` (``addr len asn``, CAIDA) and
    ``MODE_IPASN`` (``prefix asn``, pyasn); an ``asn`` field is ``a``,
    ``a_b_c`` (multi-origin) or ``a,b`` (AS set): the first AS is kept.

MRT (``parse_mrt``; RFC 6396, RFC 8050 add-path, RFC 6793 AS4)
    * type 5 BGP (deprecated; early RIPE RIS): UPDATE (1), STATE_CHANGE (3).
    * type 12 TABLE_DUMP, AFI_IPv4 (1) / AFI_IPv6 (2), including the old
      Zebra variant that packs several entries into one record whose length
      field leaves out the leading 4-byte view + sequence.
    * type 13 TABLE_DUMP_V2: PEER_INDEX_TABLE (1), RIB_IPV4_UNICAST (2),
      RIB_IPV6_UNICAST (4) and their ADDPATH forms (8, 10).
    * types 16 BGP4MP / 17 BGP4MP_ET: STATE_CHANGE (0), STATE_CHANGE_AS4 (5),
      MESSAGE (1), MESSAGE_AS4 (4), MESSAGE_LOCAL (6), MESSAGE_AS4_LOCAL (7)
      and the four ADDPATH message forms (8-11); the shortened Zebra records
      (no interface / AFI / addresses) are accepted with an unknown peer.
    * BGP UPDATE contents: withdrawn routes and NLRI (IPv4), MP_REACH_NLRI /
      MP_UNREACH_NLRI for AFI 1/2 SAFI 1 (full form, and the abbreviated
      next-hop-only form used in RIB dumps), ORIGIN, AS_PATH (2- or 4-byte
      ASNs by record type), NEXT_HOP, MED, LOCAL_PREF, AS4_PATH (merged
      into a 2-byte AS_PATH as RFC 6793 section 4.2.3 says).
    Every other record type or subtype is skipped by its length and counted.

Framing and damage
==================
A record whose contents do not add up (a length running past its parent, a
prefix longer than 32 / 128, a peer index beyond the PEER_INDEX_TABLE) is
*damaged*: its rows are dropped and it is counted.  If the header after it
is not of an RFC 6396 type, the framing itself is lost; the reader
then scans forward, byte by byte, for a header of a (type, subtype) this
reader defines and of a type already seen in the file, dated within 30 days
of the last good record, whose length fits and whose successor is such a
header too (or the end of the data), and counts the skipped stretch as one
damaged record.  A record that would run past the end of the data makes the
file *truncated*.  The first header must be a defined (type, subtype), or
the data is not MRT.

Buffer-safety invariants
========================
* All input is one immutable ``bytes`` object, held by the calling Python
  frame for the whole parse; the parsers only read it through ``const``
  pointers.
* Every reader works on a half-open range ``[p, end)`` whose ``end`` never
  exceeds the buffer end.  Before any field is read, the code checks
  ``end - p >= size`` in ``Py_ssize_t`` arithmetic (no unsigned wrap), and a
  length taken from the data is compared with the bytes left *before* it is
  used to advance a pointer or bound a sub-range.  Sub-ranges (a record, a
  BGP message, an attribute, an NLRI block) are always clipped to their
  parent, so an inner length can never reach past an outer one.
* A prefix length is checked against the family maximum (32 / 128) before its
  ``ceil(len / 8)`` bytes are copied into a 16-byte scratch buffer.
* Output columns are ``malloc``'d C arrays that grow by doubling; a failed
  allocation aborts the parse with ``MemoryError``.  When a record turns out
  to be damaged, the rows, state changes and peers it added are rolled back,
  so a damaged record contributes nothing.  At the end each column is
  shrunk to its length and handed to NumPy without a copy (``_Block``).
* All loops run without the GIL and create no Python objects; Python objects
  are built once, after the loop, from the C arrays.
"""
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memchr, memcpy, memset

import numpy as np

# --------------------------------------------------------------------------
# Status codes shared with rtmcore.io
# --------------------------------------------------------------------------
cdef enum:
    P_OK = 0
    P_MALFORMED = 1
    P_OCTET = 2
    P_LENGTH = 3
    P_HOSTBITS = 4
    P_FAMILY = 5
    P_ZONE = 6
    P_EMPTY = 7
    P_ASN = 8

ERR_MALFORMED = P_MALFORMED
ERR_OCTET = P_OCTET
ERR_LENGTH = P_LENGTH
ERR_HOSTBITS = P_HOSTBITS
ERR_FAMILY = P_FAMILY
ERR_ZONE = P_ZONE
ERR_EMPTY = P_EMPTY
ERR_ASN = P_ASN

cdef enum:
    M_CIDR = 0
    M_PFX2AS = 1
    M_IPASN = 2

MODE_CIDR = M_CIDR
MODE_PFX2AS = M_PFX2AS
MODE_IPASN = M_IPASN

cdef enum:
    ST_OK = 0
    ST_DAMAGED = 1
    ST_NOMEM = 2
    ST_TRUNC = 3
    ST_SKIP = 4

# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------
cdef inline uint16_t rd16(const uint8_t* p) noexcept nogil:
    return <uint16_t>((<uint16_t>p[0] << 8) | p[1])


cdef inline uint32_t rd32(const uint8_t* p) noexcept nogil:
    return ((<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16)
            | (<uint32_t>p[2] << 8) | <uint32_t>p[3])


cdef inline uint64_t rd64(const uint8_t* p) noexcept nogil:
    return (<uint64_t>rd32(p) << 32) | <uint64_t>rd32(p + 4)


cdef inline bint is_blank(uint8_t c) noexcept nogil:
    return c == 32 or c == 9 or c == 13 or c == 11 or c == 12


cdef inline int hexval(uint8_t c) noexcept nogil:
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return -1


cdef inline bint host_bits(int fam, int plen, uint64_t* hi, uint64_t* lo,
                           bint clear) noexcept nogil:
    """True if bits beyond ``plen`` are set; clear them when ``clear``."""
    cdef uint64_t mh, ml
    cdef uint64_t ones = 0xFFFFFFFFFFFFFFFFULL
    if fam == 4:
        mh = 0
        ml = 0 if plen == 0 else ((0xFFFFFFFFULL << (32 - plen)) & 0xFFFFFFFFULL)
    elif plen == 0:
        mh = 0
        ml = 0
    elif plen < 64:
        mh = ones << (64 - plen)
        ml = 0
    elif plen == 64:
        mh = ones
        ml = 0
    elif plen < 128:
        mh = ones
        ml = ones << (128 - plen)
    else:
        mh = ones
        ml = ones
    if (hi[0] & ~mh) == 0 and (lo[0] & ~ml) == 0:
        return False
    if clear:
        hi[0] &= mh
        lo[0] &= ml
    return True


# --------------------------------------------------------------------------
# Address text
# --------------------------------------------------------------------------
cdef int parse_ipv4(const uint8_t* s, Py_ssize_t n, uint32_t* out) noexcept nogil:
    cdef Py_ssize_t i = 0, start
    cdef uint32_t v = 0, octet
    cdef int k
    for k in range(4):
        if k > 0:
            if i >= n or s[i] != 46:        # '.'
                return P_MALFORMED
            i += 1
        start = i
        octet = 0
        while i < n and 48 <= s[i] <= 57 and i - start < 4:
            octet = octet * 10 + (s[i] - 48)
            i += 1
        if i == start or i - start > 3:
            return P_MALFORMED
        if i - start > 1 and s[start] == 48:   # leading zero: ambiguous (octal)
            return P_MALFORMED
        if octet > 255:
            return P_OCTET
        v = (v << 8) | octet
    if i != n:
        return P_MALFORMED
    out[0] = v
    return P_OK


cdef int parse_ipv6(const uint8_t* s, Py_ssize_t n, uint64_t* hi, uint64_t* lo) noexcept nogil:
    cdef uint16_t parts[8]
    cdef int nparts = 0, dc = -1, nd, d, r, k, shift
    cdef Py_ssize_t i = 0, last_colon = -1
    cdef uint32_t v, v4
    cdef bint has_dot = False
    cdef uint8_t c
    for i in range(n):
        c = s[i]
        if c == 58:
            last_colon = i
        elif c == 46:
            has_dot = True
        elif c == 37:                       # '%' zone id
            return P_ZONE
    i = 0
    if n < 2 or last_colon < 0:
        return P_MALFORMED
    if s[0] == 58:
        if s[1] != 58:
            return P_MALFORMED
        dc = 0
        i = 2
    while i < n:
        if has_dot and i == last_colon + 1:
            if nparts > 6:
                return P_MALFORMED
            r = parse_ipv4(s + i, n - i, &v4)
            if r != P_OK:
                return r
            parts[nparts] = <uint16_t>(v4 >> 16)
            parts[nparts + 1] = <uint16_t>(v4 & 0xFFFF)
            nparts += 2
            i = n
            break
        v = 0
        nd = 0
        while i < n and nd < 5:
            d = hexval(s[i])
            if d < 0:
                break
            v = v * 16 + <uint32_t>d
            nd += 1
            i += 1
        if nd == 0 or nd > 4 or nparts >= 8:
            return P_MALFORMED
        parts[nparts] = <uint16_t>v
        nparts += 1
        if i == n:
            break
        if s[i] != 58:
            return P_MALFORMED
        i += 1
        if i == n:                          # trailing single ':'
            return P_MALFORMED
        if s[i] == 58:
            if dc >= 0:
                return P_MALFORMED          # second '::'
            dc = nparts
            i += 1
    if dc >= 0:
        if nparts > 7:
            return P_MALFORMED
        shift = 8 - nparts
        k = nparts - 1
        while k >= dc:
            parts[k + shift] = parts[k]
            k -= 1
        for k in range(dc, dc + shift):
            parts[k] = 0
    elif nparts != 8:
        return P_MALFORMED
    hi[0] = ((<uint64_t>parts[0] << 48) | (<uint64_t>parts[1] << 32)
             | (<uint64_t>parts[2] << 16) | <uint64_t>parts[3])
    lo[0] = ((<uint64_t>parts[4] << 48) | (<uint64_t>parts[5] << 32)
             | (<uint64_t>parts[6] << 16) | <uint64_t>parts[7])
    return P_OK


cdef int parse_addr(const uint8_t* s, Py_ssize_t n, int* fam, uint64_t* hi,
                    uint64_t* lo) noexcept nogil:
    cdef uint32_t v4 = 0
    cdef int r
    if memchr(s, 58, <size_t>n) != NULL:
        fam[0] = 6
        return parse_ipv6(s, n, hi, lo)
    fam[0] = 4
    r = parse_ipv4(s, n, &v4)
    hi[0] = 0
    lo[0] = v4
    return r


cdef int parse_len(const uint8_t* s, Py_ssize_t n, int* out) noexcept nogil:
    cdef Py_ssize_t k
    cdef int v = 0
    if n <= 0:
        return P_MALFORMED
    for k in range(n):
        if s[k] < 48 or s[k] > 57:
            return P_MALFORMED
        if v < 100000:
            v = v * 10 + (s[k] - 48)
    out[0] = v
    return P_OK


cdef int parse_prefix(const uint8_t* s, Py_ssize_t n, int* fam, uint64_t* hi,
                      uint64_t* lo, int* plen) noexcept nogil:
    """``addr[/len]`` -> family, address, length (host bits not checked)."""
    cdef const uint8_t* slash = <const uint8_t*>memchr(s, 47, <size_t>n)
    cdef Py_ssize_t alen = n if slash == NULL else slash - s
    cdef int r = parse_addr(s, alen, fam, hi, lo)
    if r != P_OK:
        return r
    if slash == NULL:
        plen[0] = 32 if fam[0] == 4 else 128
        return P_OK
    r = parse_len(slash + 1, n - alen - 1, plen)
    if r != P_OK:
        return r
    if plen[0] > (32 if fam[0] == 4 else 128):
        return P_LENGTH
    return P_OK


cdef int parse_asn_field(const uint8_t* s, Py_ssize_t n, uint32_t* asn,
                         bint* multi) noexcept nogil:
    """``a``, ``a_b_c`` or ``a,b`` (and mixtures): first AS and a multi flag."""
    cdef Py_ssize_t k = 0
    cdef uint64_t v = 0
    cdef bint first = True, need_digit = True
    multi[0] = False
    if n <= 0:
        return P_ASN
    while k < n:
        if 48 <= s[k] <= 57:
            v = v * 10 + (s[k] - 48)
            if v > 0xFFFFFFFFULL:
                return P_ASN
            need_digit = False
        elif (s[k] == 95 or s[k] == 44) and not need_digit:   # '_' ','
            if first:
                asn[0] = <uint32_t>v
                first = False
            multi[0] = True
            v = 0
            need_digit = True
        else:
            return P_ASN
        k += 1
    if need_digit:
        return P_ASN
    if first:
        asn[0] = <uint32_t>v
    return P_OK


cdef inline Py_ssize_t line_end(const uint8_t* p, Py_ssize_t pos, Py_ssize_t n) noexcept nogil:
    cdef const uint8_t* q = <const uint8_t*>memchr(p + pos, 10, <size_t>(n - pos))
    return n if q == NULL else q - p


def parse_prefix_lines(bytes buf not None, Py_ssize_t n_items, int family, bint strict):
    """Parse ``n_items`` newline-separated prefixes of one ``family``.

    Returns ``(status, index, addresses, lengths, n_masked)``; ``status`` is
    0 or one of the ``ERR_*`` codes, and ``index`` the failing item.
    IPv4 addresses come back as ``uint32``, IPv6 as ``(n, 2) uint64``.
    """
    cdef const uint8_t* p = <const uint8_t*><const char*>buf
    cdef Py_ssize_t n = len(buf), pos = 0, i, s, e
    cdef int fam = 0, plen = 0, r = P_OK
    cdef uint64_t hi = 0, lo = 0
    cdef Py_ssize_t masked = 0, err_index = -1
    cdef uint32_t* a4 = NULL
    cdef uint64_t* a6 = NULL
    cdef uint8_t* ln = NULL
    cdef uint32_t[::1] mv4
    cdef uint64_t[:, ::1] mv6
    cdef uint8_t[::1] mvl
    if family not in (4, 6):
        raise ValueError("family must be 4 or 6")
    lengths = np.empty(n_items, np.uint8)
    if family == 4:
        addrs = np.empty(n_items, np.uint32)
    else:
        addrs = np.empty((n_items, 2), np.uint64)
    if n_items == 0:
        return 0, -1, addrs, lengths, 0
    mvl = lengths
    ln = &mvl[0]
    if family == 4:
        mv4 = addrs
        a4 = &mv4[0]
    else:
        mv6 = addrs
        a6 = &mv6[0, 0]
    with nogil:
        for i in range(n_items):
            if pos > n:
                r = P_EMPTY
                err_index = i
                break
            e = line_end(p, pos, n)
            s = pos
            pos = e + 1
            while s < e and is_blank(p[s]):
                s += 1
            while e > s and is_blank(p[e - 1]):
                e -= 1
            if s == e:
                r = P_EMPTY
            else:
                r = parse_prefix(p + s, e - s, &fam, &hi, &lo, &plen)
                if r == P_OK and fam != family:
                    r = P_FAMILY
                if r == P_OK and host_bits(fam, plen, &hi, &lo, not strict):
                    if strict:
                        r = P_HOSTBITS
                    else:
                        masked += 1
            if r != P_OK:
                err_index = i
                break
            ln[i] = <uint8_t>plen
            if family == 4:
                a4[i] = <uint32_t>lo
            else:
                a6[2 * i] = hi
                a6[2 * i + 1] = lo
    return r, err_index, addrs, lengths, masked


cdef inline Py_ssize_t next_token(const uint8_t* p, Py_ssize_t s, Py_ssize_t e,
                                  Py_ssize_t* tok_end) noexcept nogil:
    """Skip blanks from ``s``; return the token start and set its end."""
    cdef Py_ssize_t t
    while s < e and is_blank(p[s]):
        s += 1
    t = s
    while t < e and not is_blank(p[t]):
        t += 1
    tok_end[0] = t
    return s


def parse_text_table(bytes buf not None, int mode):
    """Parse a prefix table (``MODE_CIDR``, ``MODE_PFX2AS`` or ``MODE_IPASN``).

    Blank lines and lines starting with ``#`` or ``;`` are skipped; host bits
    are cleared and counted.  Returns a dict of the columns (``family``,
    ``addr_hi``, ``addr_lo``, ``length``, ``origin_as``, ``multi_origin``),
    ``masked``, ``lines`` and, on error, ``status`` with ``err_line``
    (1-based) and ``err_start`` / ``err_end`` (byte range of the line).
    """
    cdef const uint8_t* p = <const uint8_t*><const char*>buf
    cdef Py_ssize_t n = len(buf), pos = 0, s, e, t1s, t1e, t2s, t2e, t3s, t3e, k
    cdef Py_ssize_t cap = 1, count = 0, masked = 0, line_no = 0
    cdef Py_ssize_t err_line = 0, err_s = 0, err_e = 0
    cdef int fam = 0, plen = 0, r = P_OK
    cdef uint64_t hi = 0, lo = 0
    cdef uint32_t asn = 0
    cdef bint multi = False
    cdef int md = mode
    cdef uint8_t[::1] mv_fam, mv_len, mv_multi
    cdef uint64_t[::1] mv_hi, mv_lo
    cdef uint32_t[::1] mv_as
    cdef uint8_t* mfam
    cdef uint8_t* mlen
    cdef uint8_t* mmulti
    cdef uint64_t* mhi
    cdef uint64_t* mlo
    cdef uint32_t* mas
    if md != M_CIDR and md != M_PFX2AS and md != M_IPASN:
        raise ValueError("unknown mode")
    cap = buf.count(b"\n") + 1
    family = np.empty(cap, np.uint8)
    addr_hi = np.empty(cap, np.uint64)
    addr_lo = np.empty(cap, np.uint64)
    length = np.empty(cap, np.uint8)
    origin_as = np.zeros(cap, np.uint32)
    multi_origin = np.zeros(cap, np.uint8)
    mv_fam = family
    mv_hi = addr_hi
    mv_lo = addr_lo
    mv_len = length
    mv_as = origin_as
    mv_multi = multi_origin
    mfam = &mv_fam[0]          # cap >= 1, so index 0 exists
    mhi = &mv_hi[0]
    mlo = &mv_lo[0]
    mlen = &mv_len[0]
    mas = &mv_as[0]
    mmulti = &mv_multi[0]
    with nogil:
        while pos <= n:
            e = line_end(p, pos, n)
            s = pos
            pos = e + 1
            line_no += 1
            while s < e and is_blank(p[s]):
                s += 1
            while e > s and is_blank(p[e - 1]):
                e -= 1
            if s == e or p[s] == 35 or p[s] == 59:     # blank, '#', ';'
                continue
            t1s = next_token(p, s, e, &t1e)
            asn = 0
            multi = False
            if md == M_CIDR:
                r = parse_prefix(p + t1s, t1e - t1s, &fam, &hi, &lo, &plen)
            elif md == M_IPASN:
                t2s = next_token(p, t1e, e, &t2e)
                r = parse_prefix(p + t1s, t1e - t1s, &fam, &hi, &lo, &plen)
                if r == P_OK:
                    r = parse_asn_field(p + t2s, t2e - t2s, &asn, &multi)
            else:
                t2s = next_token(p, t1e, e, &t2e)
                t3s = next_token(p, t2e, e, &t3e)
                if memchr(p + t1s, 47, <size_t>(t1e - t1s)) != NULL:
                    r = P_MALFORMED
                else:
                    r = parse_addr(p + t1s, t1e - t1s, &fam, &hi, &lo)
                if r == P_OK:
                    r = parse_len(p + t2s, t2e - t2s, &plen)
                if r == P_OK and plen > (32 if fam == 4 else 128):
                    r = P_LENGTH
                if r == P_OK:
                    r = parse_asn_field(p + t3s, t3e - t3s, &asn, &multi)
            if r != P_OK:
                err_line = line_no
                err_s = s
                err_e = e
                break
            if host_bits(fam, plen, &hi, &lo, True):
                masked += 1
            k = count
            mfam[k] = <uint8_t>fam
            mhi[k] = hi
            mlo[k] = lo
            mlen[k] = <uint8_t>plen
            mas[k] = asn
            mmulti[k] = multi
            count += 1
    return dict(
        family=family[:count], addr_hi=addr_hi[:count], addr_lo=addr_lo[:count],
        length=length[:count], origin_as=origin_as[:count],
        multi_origin=multi_origin[:count].view(np.bool_),
        masked=masked, lines=line_no, status=r, err_line=err_line,
        err_start=err_s, err_end=err_e,
    )


# --------------------------------------------------------------------------
# MRT: growable output
# --------------------------------------------------------------------------
cdef struct Rows:
    Py_ssize_t n
    Py_ssize_t cap
    uint8_t* family
    uint64_t* addr_hi
    uint64_t* addr_lo
    uint8_t* length
    uint32_t* peer
    uint32_t* peer_as
    uint64_t* nh_hi
    uint64_t* nh_lo
    uint16_t* path_len
    uint8_t* origin
    int64_t* med
    int64_t* lpref
    uint32_t* origin_as
    double* ts
    uint8_t* announce


cdef struct States:
    Py_ssize_t n
    Py_ssize_t cap
    double* ts
    uint32_t* peer
    uint16_t* old_state
    uint16_t* new_state


cdef struct Peer:
    uint32_t asn
    uint32_t bgp_id
    uint8_t afi            # 4, 6; 0 = placeholder for a missing PEER_INDEX_TABLE
    uint8_t has_bgp_id
    uint8_t ip[16]


cdef struct Peers:
    Peer* items
    Py_ssize_t n
    Py_ssize_t cap
    int32_t* slots         # open addressing, -1 = empty
    Py_ssize_t nslots      # power of two, > 2 * n
    uint32_t* local        # TABLE_DUMP_V2 peer index -> position in items
    Py_ssize_t nlocal
    bint have_index
    # one-entry lookup cache
    int32_t last
    uint8_t last_afi
    uint32_t last_asn
    uint8_t last_ip[16]


cdef struct RowAttrs:      # what a row takes from its path attributes
    uint32_t peer
    uint32_t peer_as
    uint64_t nh4_hi        # next hop used for IPv4 prefixes
    uint64_t nh4_lo
    uint64_t nh6_hi        # next hop used for IPv6 prefixes
    uint64_t nh6_lo
    uint16_t path_len
    uint8_t origin
    int64_t med
    int64_t lpref
    uint32_t origin_as
    double ts
    uint8_t announce


cdef struct Attrs:
    uint8_t origin
    int64_t med
    int64_t lpref
    uint32_t path_len
    uint32_t origin_as
    bint has_path
    bint has_as4
    uint32_t as4_len
    uint32_t as4_origin
    bint has_nh
    uint32_t nh4
    bint has_mp_nh
    uint64_t mp_hi
    uint64_t mp_lo
    const uint8_t* reach
    Py_ssize_t reach_len
    int reach_fam
    const uint8_t* unreach
    Py_ssize_t unreach_len
    int unreach_fam
    int other_mp           # MP_(UN)REACH blocks of other AFI/SAFI seen


cdef struct Ctx:
    const uint8_t* buf
    Py_ssize_t size
    Rows rows
    States st
    Peers peers
    double ts
    int64_t good
    int64_t damaged
    int64_t skipped
    int64_t updates
    int64_t other_msgs
    int64_t other_mp
    int64_t masked
    int64_t no_index_rows
    bint truncated
    uint32_t last_ts
    uint64_t types_seen
    int64_t counts[64][16]


cdef inline int grow(void** p, size_t size) noexcept nogil:
    cdef void* q = realloc(p[0], size)
    if q == NULL:
        return -1
    p[0] = q
    return 0


cdef int rows_grow(Rows* r) noexcept nogil:
    cdef Py_ssize_t c = r.cap * 2 if r.cap else 4096
    if (grow(<void**>&r.family, c) or grow(<void**>&r.addr_hi, c * 8)
            or grow(<void**>&r.addr_lo, c * 8) or grow(<void**>&r.length, c)
            or grow(<void**>&r.peer, c * 4) or grow(<void**>&r.peer_as, c * 4)
            or grow(<void**>&r.nh_hi, c * 8) or grow(<void**>&r.nh_lo, c * 8)
            or grow(<void**>&r.path_len, c * 2) or grow(<void**>&r.origin, c)
            or grow(<void**>&r.med, c * 8) or grow(<void**>&r.lpref, c * 8)
            or grow(<void**>&r.origin_as, c * 4) or grow(<void**>&r.ts, c * 8)
            or grow(<void**>&r.announce, c)):
        return -1
    r.cap = c
    return 0


cdef void rows_free(Rows* r) noexcept nogil:
    free(r.family); free(r.addr_hi); free(r.addr_lo); free(r.length)
    free(r.peer); free(r.peer_as); free(r.nh_hi); free(r.nh_lo)
    free(r.path_len); free(r.origin); free(r.med); free(r.lpref)
    free(r.origin_as); free(r.ts); free(r.announce)


cdef inline int emit(Ctx* c, uint8_t fam, uint64_t hi, uint64_t lo, uint8_t plen,
                     const RowAttrs* a) noexcept nogil:
    cdef Rows* r = &c.rows
    cdef Py_ssize_t i = r.n
    if i == r.cap and rows_grow(r) != 0:
        return ST_NOMEM
    r.family[i] = fam
    r.addr_hi[i] = hi
    r.addr_lo[i] = lo
    r.length[i] = plen
    r.peer[i] = a.peer
    r.peer_as[i] = a.peer_as
    if fam == 4:
        r.nh_hi[i] = a.nh4_hi
        r.nh_lo[i] = a.nh4_lo
    else:
        r.nh_hi[i] = a.nh6_hi
        r.nh_lo[i] = a.nh6_lo
    r.path_len[i] = a.path_len
    r.origin[i] = a.origin
    r.med[i] = a.med
    r.lpref[i] = a.lpref
    r.origin_as[i] = a.origin_as
    r.ts[i] = a.ts
    r.announce[i] = a.announce
    r.n = i + 1
    return ST_OK


cdef int add_state(Ctx* c, uint32_t peer, uint16_t old_state, uint16_t new_state) noexcept nogil:
    cdef States* s = &c.st
    cdef Py_ssize_t k
    if s.n == s.cap:
        k = s.cap * 2 if s.cap else 64
        if (grow(<void**>&s.ts, k * 8) or grow(<void**>&s.peer, k * 4)
                or grow(<void**>&s.old_state, k * 2) or grow(<void**>&s.new_state, k * 2)):
            return ST_NOMEM
        s.cap = k
    s.ts[s.n] = c.ts
    s.peer[s.n] = peer
    s.old_state[s.n] = old_state
    s.new_state[s.n] = new_state
    s.n += 1
    return ST_OK


# --------------------------------------------------------------------------
# MRT: peer registry (key: family, address, AS)
# --------------------------------------------------------------------------
cdef inline uint64_t peer_hash(uint8_t afi, const uint8_t* ip, uint32_t asn) noexcept nogil:
    cdef uint64_t h = 1469598103934665603ULL ^ afi
    cdef int k
    for k in range(16):
        h = (h ^ ip[k]) * 1099511628211ULL
    h = (h ^ asn) * 1099511628211ULL
    return h ^ (h >> 29)


cdef inline bint peer_eq(const Peer* q, uint8_t afi, const uint8_t* ip, uint32_t asn) noexcept nogil:
    cdef int k
    if q.afi != afi or q.asn != asn:
        return False
    for k in range(16):
        if q.ip[k] != ip[k]:
            return False
    return True


cdef int peers_rehash(Peers* t, Py_ssize_t nslots) noexcept nogil:
    cdef int32_t* s = <int32_t*>malloc(nslots * sizeof(int32_t))
    cdef Py_ssize_t i, h
    if s == NULL:
        return -1
    for i in range(nslots):
        s[i] = -1
    for i in range(t.n):
        h = <Py_ssize_t>(peer_hash(t.items[i].afi, t.items[i].ip, t.items[i].asn)
                         & <uint64_t>(nslots - 1))
        while s[h] >= 0:
            h = (h + 1) & (nslots - 1)
        s[h] = <int32_t>i
    free(t.slots)
    t.slots = s
    t.nslots = nslots
    t.last = -1
    return 0


cdef int64_t peer_id(Peers* t, uint8_t afi, const uint8_t* ip, uint32_t asn,
                     bint has_bgp_id, uint32_t bgp_id) noexcept nogil:
    """Index of the peer (afi, 16-byte ip, asn), added if new; -1 = no memory."""
    cdef Py_ssize_t h, k
    cdef int32_t j
    cdef Peer* q
    if (t.last >= 0 and t.last_afi == afi and t.last_asn == asn and not has_bgp_id
            and peer_eq(&t.items[t.last], afi, ip, asn)):
        return t.last
    if t.nslots == 0 or 2 * (t.n + 1) > t.nslots:
        if peers_rehash(t, t.nslots * 2 if t.nslots else 64) != 0:
            return -1
    h = <Py_ssize_t>(peer_hash(afi, ip, asn) & <uint64_t>(t.nslots - 1))
    while True:
        j = t.slots[h]
        if j < 0:
            break
        if peer_eq(&t.items[j], afi, ip, asn):
            q = &t.items[j]
            if has_bgp_id and not q.has_bgp_id:
                q.has_bgp_id = 1
                q.bgp_id = bgp_id
            t.last = j
            t.last_afi = afi
            t.last_asn = asn
            return j
        h = (h + 1) & (t.nslots - 1)
    if t.n == t.cap:
        k = t.cap * 2 if t.cap else 64
        if grow(<void**>&t.items, k * sizeof(Peer)) != 0:
            return -1
        t.cap = k
    q = &t.items[t.n]
    q.afi = afi
    q.asn = asn
    q.has_bgp_id = has_bgp_id
    q.bgp_id = bgp_id
    memcpy(q.ip, ip, 16)
    j = <int32_t>t.n
    t.slots[h] = j
    t.n += 1
    t.last = j
    t.last_afi = afi
    t.last_asn = asn
    return j


cdef inline int64_t peer_from_wire(Ctx* c, int afi_size, const uint8_t* ip, uint32_t asn) noexcept nogil:
    cdef uint8_t key[16]
    memset(key, 0, 16)
    memcpy(key, ip, afi_size)
    return peer_id(&c.peers, 4 if afi_size == 4 else 6, key, asn, False, 0)


# --------------------------------------------------------------------------
# MRT: BGP pieces
# --------------------------------------------------------------------------
cdef int parse_aspath(const uint8_t* v, Py_ssize_t n, int as_size, uint32_t* plen,
                      uint32_t* last) noexcept nogil:
    """Path length (RFC 4271 9.1.2.2: a set counts 1, confederation segments 0)
    and the last AS of the last non-empty segment."""
    cdef Py_ssize_t i = 0, sz
    cdef uint32_t length = 0, o = 0
    cdef uint8_t st, cnt
    cdef const uint8_t* a
    while i < n:
        if n - i < 2:
            return ST_DAMAGED
        st = v[i]
        cnt = v[i + 1]
        i += 2
        sz = <Py_ssize_t>cnt * as_size
        if n - i < sz:
            return ST_DAMAGED
        if st == 2:
            length += cnt
        elif st == 1:
            if cnt:
                length += 1
        elif st != 3 and st != 4:
            return ST_DAMAGED
        if cnt:
            a = v + i + sz - as_size
            o = rd32(a) if as_size == 4 else rd16(a)
        i += sz
    plen[0] = length
    last[0] = o
    return ST_OK


cdef inline void mp_next_hop(Attrs* a, const uint8_t* nh, int nhl) noexcept nogil:
    if nhl == 4:
        a.mp_hi = 0
        a.mp_lo = rd32(nh)
    elif nhl == 16 or nhl == 32:
        a.mp_hi = rd64(nh)
        a.mp_lo = rd64(nh + 8)
    elif nhl == 12:                     # route distinguisher + IPv4
        a.mp_hi = 0
        a.mp_lo = rd32(nh + 8)
    elif nhl == 24 or nhl == 48:        # route distinguisher + IPv6
        a.mp_hi = rd64(nh + 8)
        a.mp_lo = rd64(nh + 16)
    else:
        return
    a.has_mp_nh = True


cdef int parse_attrs(const uint8_t* p, const uint8_t* end, int as_size, bint rib,
                     Attrs* a) noexcept nogil:
    cdef uint8_t flags, typ, safi, nhl
    cdef Py_ssize_t alen
    cdef uint16_t afi
    cdef const uint8_t* v
    memset(a, 0, sizeof(Attrs))
    a.origin = 255
    a.med = -1
    a.lpref = -1
    while p < end:
        if end - p < 3:
            return ST_DAMAGED
        flags = p[0]
        typ = p[1]
        if flags & 0x10:
            if end - p < 4:
                return ST_DAMAGED
            alen = rd16(p + 2)
            p += 4
        else:
            alen = p[2]
            p += 3
        if end - p < alen:
            return ST_DAMAGED
        v = p
        p += alen
        if typ == 1:
            if alen == 1:
                a.origin = v[0] if v[0] <= 2 else 255
        elif typ == 2:
            if parse_aspath(v, alen, as_size, &a.path_len, &a.origin_as) != ST_OK:
                return ST_DAMAGED
            a.has_path = True
        elif typ == 3:
            if alen == 4:
                a.nh4 = rd32(v)
                a.has_nh = True
        elif typ == 4:
            if alen == 4:
                a.med = rd32(v)
        elif typ == 5:
            if alen == 4:
                a.lpref = rd32(v)
        elif typ == 14:
            if rib and alen >= 1 and v[0] + 1 == alen:    # RFC 6396 4.3.4 short form
                mp_next_hop(a, v + 1, v[0])
                continue
            if alen < 5:
                return ST_DAMAGED
            afi = rd16(v)
            safi = v[2]
            nhl = v[3]
            if 5 + <Py_ssize_t>nhl > alen:
                return ST_DAMAGED
            mp_next_hop(a, v + 4, nhl)
            if rib:
                continue
            if safi == 1 and (afi == 1 or afi == 2):
                a.reach = v + 5 + nhl
                a.reach_len = alen - 5 - nhl
                a.reach_fam = 4 if afi == 1 else 6
            else:
                a.other_mp += 1
        elif typ == 15:
            if alen < 3:
                return ST_DAMAGED
            afi = rd16(v)
            safi = v[2]
            if safi == 1 and (afi == 1 or afi == 2):
                a.unreach = v + 3
                a.unreach_len = alen - 3
                a.unreach_fam = 4 if afi == 1 else 6
            else:
                a.other_mp += 1
        elif typ == 17:
            # a malformed AS4_PATH is discarded (RFC 6793 section 6)
            if parse_aspath(v, alen, 4, &a.as4_len, &a.as4_origin) == ST_OK:
                a.has_as4 = True
    return ST_OK


cdef void row_attrs(const Attrs* a, RowAttrs* ra, int as_size) noexcept nogil:
    cdef uint32_t origin_as = a.origin_as
    if as_size == 2 and a.has_as4 and a.as4_len > 0 and a.as4_len <= a.path_len:
        # RFC 6793 4.2.3: leading part of AS_PATH + AS4_PATH; same length,
        # origin from the AS4_PATH
        origin_as = a.as4_origin
    ra.path_len = <uint16_t>(a.path_len if a.path_len < 65535 else 65535)
    ra.origin_as = origin_as
    ra.origin = a.origin
    ra.med = a.med
    ra.lpref = a.lpref
    ra.announce = 1
    if a.has_nh:
        ra.nh4_hi = 0
        ra.nh4_lo = a.nh4
    elif a.has_mp_nh:
        ra.nh4_hi = a.mp_hi
        ra.nh4_lo = a.mp_lo
    else:
        ra.nh4_hi = 0
        ra.nh4_lo = 0
    if a.has_mp_nh:
        ra.nh6_hi = a.mp_hi
        ra.nh6_lo = a.mp_lo
    else:
        ra.nh6_hi = 0
        ra.nh6_lo = 0


cdef void withdraw_attrs(RowAttrs* ra) noexcept nogil:
    ra.path_len = 0
    ra.origin_as = 0
    ra.origin = 255
    ra.med = -1
    ra.lpref = -1
    ra.announce = 0
    ra.nh4_hi = 0
    ra.nh4_lo = 0
    ra.nh6_hi = 0
    ra.nh6_lo = 0


cdef inline int read_prefix(Ctx* c, const uint8_t* p, int nb, int fam, int plen,
                            uint64_t* hi, uint64_t* lo) noexcept nogil:
    cdef uint8_t tmp[16]
    memset(tmp, 0, 16)
    memcpy(tmp, p, nb)
    if fam == 4:
        hi[0] = 0
        lo[0] = rd32(tmp)
    else:
        hi[0] = rd64(tmp)
        lo[0] = rd64(tmp + 8)
    if host_bits(fam, plen, hi, lo, True):
        c.masked += 1
    return 0


cdef int parse_nlri(Ctx* c, const uint8_t* p, const uint8_t* end, int fam, bint addpath,
                    const RowAttrs* ra) noexcept nogil:
    cdef int plen, nb
    cdef int maxlen = 32 if fam == 4 else 128
    cdef uint64_t hi, lo
    while p < end:
        if addpath:
            if end - p < 4:
                return ST_DAMAGED
            p += 4
        if end - p < 1:
            return ST_DAMAGED
        plen = p[0]
        p += 1
        if plen > maxlen:
            return ST_DAMAGED
        nb = (plen + 7) >> 3
        if end - p < nb:
            return ST_DAMAGED
        read_prefix(c, p, nb, fam, plen, &hi, &lo)
        p += nb
        if emit(c, <uint8_t>fam, hi, lo, <uint8_t>plen, ra) != ST_OK:
            return ST_NOMEM
    return ST_OK


cdef int parse_update(Ctx* c, const uint8_t* p, const uint8_t* end, int as_size,
                      bint addpath, uint32_t peer, uint32_t peer_as) noexcept nogil:
    """Body of a BGP UPDATE (after the 19-byte message header)."""
    cdef Attrs a
    cdef RowAttrs ra
    cdef Py_ssize_t wlen, alen
    cdef const uint8_t* w
    cdef const uint8_t* nlri
    cdef int r
    if end - p < 2:
        return ST_DAMAGED
    wlen = rd16(p)
    p += 2
    if end - p < wlen:
        return ST_DAMAGED
    w = p
    p += wlen
    if end - p < 2:
        return ST_DAMAGED
    alen = rd16(p)
    p += 2
    if end - p < alen:
        return ST_DAMAGED
    r = parse_attrs(p, p + alen, as_size, False, &a)
    if r != ST_OK:
        return r
    nlri = p + alen
    c.updates += 1
    c.other_mp += a.other_mp
    ra.peer = peer
    ra.peer_as = peer_as
    ra.ts = c.ts
    withdraw_attrs(&ra)
    r = parse_nlri(c, w, w + wlen, 4, addpath, &ra)
    if r == ST_OK and a.unreach != NULL:
        r = parse_nlri(c, a.unreach, a.unreach + a.unreach_len, a.unreach_fam, addpath, &ra)
    if r == ST_OK and (nlri < end or a.reach != NULL):
        row_attrs(&a, &ra, as_size)
        r = parse_nlri(c, nlri, end, 4, addpath, &ra)
        if r == ST_OK and a.reach != NULL:
            r = parse_nlri(c, a.reach, a.reach + a.reach_len, a.reach_fam, addpath, &ra)
    return r


cdef int parse_bgp_message(Ctx* c, const uint8_t* q, const uint8_t* end, int as_size,
                           bint addpath, uint32_t peer, uint32_t peer_as) noexcept nogil:
    cdef Py_ssize_t mlen
    if end - q < 19:
        return ST_DAMAGED
    mlen = rd16(q + 16)
    if mlen < 19 or mlen > end - q:
        return ST_DAMAGED
    if q[18] == 2:
        return parse_update(c, q + 19, q + mlen, as_size, addpath, peer, peer_as)
    c.other_msgs += 1
    return ST_OK


cdef inline bint is_marker(const uint8_t* q) noexcept nogil:
    cdef int k
    for k in range(16):
        if q[k] != 0xFF:
            return False
    return True


# --------------------------------------------------------------------------
# MRT: record types
# --------------------------------------------------------------------------
cdef int parse_bgp4mp(Ctx* c, uint16_t sub, const uint8_t* p, const uint8_t* end) noexcept nogil:
    cdef int as_size, a
    cdef bint is_state = sub == 0 or sub == 5
    cdef bint addpath = sub >= 8
    cdef uint32_t peer_as
    cdef uint16_t afi
    cdef const uint8_t* q
    cdef int64_t peer
    cdef uint8_t zero[16]
    if sub == 0 or sub == 1 or sub == 6 or sub == 8 or sub == 10:
        as_size = 2
    elif sub == 4 or sub == 5 or sub == 7 or sub == 9 or sub == 11:
        as_size = 4
    else:
        return ST_SKIP
    if end - p < 2 * as_size:
        return ST_DAMAGED
    peer_as = rd32(p) if as_size == 4 else rd16(p)
    memset(zero, 0, 16)
    if is_state and end - p == 2 * as_size + 4:
        # shortened Zebra STATE_CHANGE: peer AS, local AS, old, new
        q = p + 2 * as_size
        peer = peer_id(&c.peers, 4, zero, peer_as, False, 0)
        if peer < 0:
            return ST_NOMEM
        return add_state(c, <uint32_t>peer, rd16(q), rd16(q + 2))
    if end - p < 2 * as_size + 4:
        return ST_DAMAGED
    afi = rd16(p + 2 * as_size + 2)
    if afi == 1:
        a = 4
    elif afi == 2:
        a = 16
    else:
        # shortened Zebra message: peer AS, local AS, BGP message
        q = p + 2 * as_size
        if not is_state and end - q >= 19 and is_marker(q):
            peer = peer_id(&c.peers, 4, zero, peer_as, False, 0)
            if peer < 0:
                return ST_NOMEM
            return parse_bgp_message(c, q, end, as_size, addpath, <uint32_t>peer, peer_as)
        return ST_DAMAGED
    q = p + 2 * as_size + 4
    if end - q < 2 * a:
        return ST_DAMAGED
    peer = peer_from_wire(c, a, q, peer_as)
    if peer < 0:
        return ST_NOMEM
    q += 2 * a
    if is_state:
        if end - q < 4:
            return ST_DAMAGED
        return add_state(c, <uint32_t>peer, rd16(q), rd16(q + 2))
    return parse_bgp_message(c, q, end, as_size, addpath, <uint32_t>peer, peer_as)


cdef int parse_bgp_v1(Ctx* c, uint16_t sub, const uint8_t* p, const uint8_t* end) noexcept nogil:
    """Deprecated MRT type 5 (BGP): the UPDATE body follows 12 bytes of
    peer AS, peer IP, local AS, local IP (no BGP marker or header)."""
    cdef int64_t peer
    cdef uint32_t peer_as
    if sub != 1 and sub != 3:
        return ST_SKIP
    if end - p < (12 if sub == 1 else 10):
        return ST_DAMAGED
    peer_as = rd16(p)
    peer = peer_from_wire(c, 4, p + 2, peer_as)
    if peer < 0:
        return ST_NOMEM
    if sub == 3:
        return add_state(c, <uint32_t>peer, rd16(p + 6), rd16(p + 8))
    return parse_update(c, p + 12, end, 2, False, <uint32_t>peer, peer_as)


cdef bint td1_tiles(const uint8_t* p, const uint8_t* end, int a) noexcept nogil:
    """Do TABLE_DUMP entries without view/sequence fill [p, end) exactly?"""
    cdef Py_ssize_t fixed = 10 + 2 * a
    while p < end:
        if end - p < fixed:
            return False
        p += fixed + rd16(p + fixed - 2)
    return p == end


cdef int td1_entries(Ctx* c, const uint8_t* p, const uint8_t* end, int a,
                     bint with_view) noexcept nogil:
    cdef Py_ssize_t fixed = 10 + 2 * a, alen
    cdef int fam = 4 if a == 4 else 6
    cdef int plen, r
    cdef uint64_t hi, lo
    cdef uint32_t peer_as
    cdef int64_t peer
    cdef Attrs at
    cdef RowAttrs ra
    while p < end:
        if with_view:
            if end - p < 4:
                return ST_DAMAGED
            p += 4
        if end - p < fixed:
            return ST_DAMAGED
        plen = p[a]
        if plen > 8 * a:
            return ST_DAMAGED
        read_prefix(c, p, (plen + 7) >> 3, fam, plen, &hi, &lo)
        peer_as = rd16(p + 6 + 2 * a)
        alen = rd16(p + 8 + 2 * a)
        if end - p - fixed < alen:
            return ST_DAMAGED
        peer = peer_from_wire(c, a, p + 6 + a, peer_as)
        if peer < 0:
            return ST_NOMEM
        r = parse_attrs(p + fixed, p + fixed + alen, 2, True, &at)
        if r != ST_OK:
            return r
        row_attrs(&at, &ra, 2)
        ra.peer = <uint32_t>peer
        ra.peer_as = peer_as
        ra.ts = c.ts
        if emit(c, <uint8_t>fam, hi, lo, <uint8_t>plen, &ra) != ST_OK:
            return ST_NOMEM
        p += fixed + alen
    return ST_OK


cdef int parse_td1(Ctx* c, uint16_t sub, const uint8_t* body, Py_ssize_t blen,
                   Py_ssize_t avail, Py_ssize_t* consumed) noexcept nogil:
    cdef int a
    cdef Py_ssize_t fixed
    consumed[0] = blen
    if sub == 1:
        a = 4
    elif sub == 2:
        a = 16
    else:
        return ST_SKIP
    fixed = 10 + 2 * a
    # RFC 6396 layout: view, sequence, one entry
    if blen >= 4 + fixed and 4 + fixed + rd16(body + 4 + fixed - 2) == blen:
        return td1_entries(c, body, body + blen, a, True)
    # old Zebra layout: view, sequence, entries; the length leaves out the 4
    if 4 + blen > avail:
        return ST_TRUNC         # cannot tell a cut batch from a damaged entry
    if blen >= fixed and td1_tiles(body + 4, body + 4 + blen, a):
        consumed[0] = 4 + blen
        return td1_entries(c, body + 4, body + 4 + blen, a, False)
    return ST_DAMAGED


cdef int parse_peer_index(Ctx* c, const uint8_t* p, const uint8_t* end) noexcept nogil:
    cdef Py_ssize_t vlen, cnt, i, ipl, asl
    cdef uint32_t* local
    cdef uint8_t t
    cdef uint8_t key[16]
    cdef uint32_t bgp_id, asn
    cdef int64_t pid
    if end - p < 6:
        return ST_DAMAGED
    vlen = rd16(p + 4)
    p += 6
    if end - p < vlen + 2:
        return ST_DAMAGED
    p += vlen
    cnt = rd16(p)
    p += 2
    local = <uint32_t*>malloc((cnt + 1) * sizeof(uint32_t))
    if local == NULL:
        return ST_NOMEM
    for i in range(cnt):
        if end - p < 5:
            free(local)
            return ST_DAMAGED
        t = p[0]
        bgp_id = rd32(p + 1)
        p += 5
        ipl = 16 if t & 1 else 4
        asl = 4 if t & 2 else 2
        if end - p < ipl + asl:
            free(local)
            return ST_DAMAGED
        memset(key, 0, 16)
        memcpy(key, p, ipl)
        asn = rd32(p + ipl) if asl == 4 else rd16(p + ipl)
        p += ipl + asl
        pid = peer_id(&c.peers, 6 if ipl == 16 else 4, key, asn, True, bgp_id)
        if pid < 0:
            free(local)
            return ST_NOMEM
        local[i] = <uint32_t>pid
    free(c.peers.local)
    c.peers.local = local
    c.peers.nlocal = cnt
    c.peers.have_index = True
    return ST_OK


cdef int parse_td2_rib(Ctx* c, const uint8_t* p, const uint8_t* end, int fam,
                       bint addpath) noexcept nogil:
    cdef int plen, nb, r
    cdef Py_ssize_t cnt, e, alen
    cdef uint16_t idx
    cdef uint64_t hi, lo
    cdef int64_t pid
    cdef uint8_t key[16]
    cdef Attrs a
    cdef RowAttrs ra
    if end - p < 5:
        return ST_DAMAGED
    plen = p[4]
    p += 5
    if plen > (32 if fam == 4 else 128):
        return ST_DAMAGED
    nb = (plen + 7) >> 3
    if end - p < nb + 2:
        return ST_DAMAGED
    read_prefix(c, p, nb, fam, plen, &hi, &lo)
    p += nb
    cnt = rd16(p)
    p += 2
    for e in range(cnt):
        if end - p < (12 if addpath else 8):
            return ST_DAMAGED
        idx = rd16(p)
        p += 10 if addpath else 6
        alen = rd16(p)
        p += 2
        if end - p < alen:
            return ST_DAMAGED
        r = parse_attrs(p, p + alen, 4, True, &a)
        if r != ST_OK:
            return r
        p += alen
        if c.peers.have_index:
            if idx >= c.peers.nlocal:
                return ST_DAMAGED
            pid = c.peers.local[idx]
        else:
            # RIB records without a PEER_INDEX_TABLE: one placeholder per index
            memset(key, 0, 16)
            key[0] = <uint8_t>(idx >> 8)
            key[1] = <uint8_t>(idx & 0xFF)
            pid = peer_id(&c.peers, 0, key, 0, False, 0)
            if pid < 0:
                return ST_NOMEM
            c.no_index_rows += 1
        row_attrs(&a, &ra, 4)
        ra.peer = <uint32_t>pid
        ra.peer_as = c.peers.items[pid].asn
        ra.ts = c.ts
        if emit(c, <uint8_t>fam, hi, lo, <uint8_t>plen, &ra) != ST_OK:
            return ST_NOMEM
    return ST_OK


cdef int parse_td2(Ctx* c, uint16_t sub, const uint8_t* p, const uint8_t* end) noexcept nogil:
    if sub == 1:
        return parse_peer_index(c, p, end)
    if sub == 2:
        return parse_td2_rib(c, p, end, 4, False)
    if sub == 4:
        return parse_td2_rib(c, p, end, 6, False)
    if sub == 8:
        return parse_td2_rib(c, p, end, 4, True)
    if sub == 10:
        return parse_td2_rib(c, p, end, 6, True)
    return ST_SKIP


# --------------------------------------------------------------------------
# MRT: framing, damage and resynchronisation
# --------------------------------------------------------------------------
cdef inline bint plausible(uint16_t t, uint16_t s) noexcept nogil:
    """Could a header with this (type, subtype) start a record mid-stream?
    Any RFC 6396 type (current or deprecated) with a small subtype; records
    of subtypes this reader does not define are skipped by their length."""
    return (t <= 13 or t == 16 or t == 17 or t == 32 or t == 33 or t == 48
            or t == 49) and s < 64


cdef inline bint decoded_subtype(uint16_t t, uint16_t s) noexcept nogil:
    """Is (type, subtype) one this reader defines (decoded or known-skipped)?"""
    if t == 5:
        return s <= 7
    if t == 12:
        return s == 1 or s == 2
    if t == 13:
        return 1 <= s <= 12
    if t == 16 or t == 17:
        return s <= 11
    return t == 11 or t == 32 or t == 33 or t == 48 or t == 49


cdef inline bint is_et(uint16_t t) noexcept nogil:
    return t == 17 or t == 33 or t == 49


cdef bint strict_header(Ctx* c, Py_ssize_t o, bint need_fit, bint need_seen) noexcept nogil:
    """A header at ``o`` that a resynchronisation may trust: a defined
    (type, subtype), a time within 30 days of the last good record, and
    optionally a type already seen in this file and a length that fits."""
    cdef const uint8_t* h = c.buf + o
    cdef uint16_t t, s
    cdef uint32_t ts, ln
    cdef int64_t dt
    if c.size - o < 12:
        return False
    ts = rd32(h)
    t = rd16(h + 4)
    s = rd16(h + 6)
    ln = rd32(h + 8)
    if t >= 64 or not decoded_subtype(t, s):
        return False
    if need_seen and not (c.types_seen >> t) & 1:
        return False
    if is_et(t) and ln < 4:
        return False
    dt = <int64_t>ts - <int64_t>c.last_ts
    if dt > 30 * 86400 or dt < -30 * 86400:
        return False
    if need_fit and <Py_ssize_t>ln > c.size - o - 12:
        return False
    return True


cdef Py_ssize_t resync(Ctx* c, Py_ssize_t o) noexcept nogil:
    """Next offset >= o where two consecutive trusted headers start (or one
    that ends the buffer); the buffer size if there is none."""
    cdef Py_ssize_t nxt
    while o + 12 <= c.size:
        if strict_header(c, o, True, True):
            nxt = o + 12 + <Py_ssize_t>rd32(c.buf + o + 8)
            if c.size - nxt < 12 or strict_header(c, nxt, False, True):
                return o
        o += 1
    return c.size


cdef inline int rollback(Ctx* c, Py_ssize_t rows_n, Py_ssize_t st_n, Py_ssize_t peers_n) noexcept nogil:
    """Forget what a damaged record added. Returns ST_NOMEM if the peer hash
    could not be rebuilt."""
    c.rows.n = rows_n
    c.st.n = st_n
    if c.peers.n != peers_n:
        c.peers.n = peers_n
        c.peers.last = -1
        if peers_rehash(&c.peers, c.peers.nslots) != 0:
            return ST_NOMEM
    return ST_OK


cdef int parse_all(Ctx* c) noexcept nogil:
    """Walk the records. Returns ST_OK, ST_NOMEM, or -1 (not MRT)."""
    cdef Py_ssize_t off = 0, n = c.size, body, blen, consumed, nxt
    cdef Py_ssize_t rows_n, st_n, peers_n
    cdef uint32_t ts, ln
    cdef uint16_t t, s
    cdef int r
    cdef const uint8_t* h
    while off < n:
        if n - off < 12:
            c.truncated = True
            break
        h = c.buf + off
        ts = rd32(h)
        t = rd16(h + 4)
        s = rd16(h + 6)
        ln = rd32(h + 8)
        if c.good == 0 and c.damaged == 0 and not decoded_subtype(t, s):
            return -1
        if not plausible(t, s):
            c.damaged += 1
            off = resync(c, off + 1)
            continue
        body = off + 12
        if <Py_ssize_t>ln > n - body:
            if c.good > 0 and not strict_header(c, off, False, False):
                c.damaged += 1          # a damaged header, not a cut file
                off = resync(c, off + 1)
                continue
            c.truncated = True
            break
        blen = ln
        c.ts = ts
        if is_et(t):
            if blen < 4:
                c.damaged += 1
                off = body + blen
                continue
            c.ts = ts + rd32(c.buf + body) * 1e-6
            body += 4
            blen -= 4
        rows_n = c.rows.n
        st_n = c.st.n
        peers_n = c.peers.n
        consumed = blen
        if t == 13:
            r = parse_td2(c, s, c.buf + body, c.buf + body + blen)
        elif t == 16 or t == 17:
            r = parse_bgp4mp(c, s, c.buf + body, c.buf + body + blen)
        elif t == 12:
            r = parse_td1(c, s, c.buf + body, blen, n - body, &consumed)
        elif t == 5:
            r = parse_bgp_v1(c, s, c.buf + body, c.buf + body + blen)
        else:
            r = ST_SKIP
        if r == ST_NOMEM:
            return ST_NOMEM
        if r == ST_TRUNC:
            if rollback(c, rows_n, st_n, peers_n) != ST_OK:
                return ST_NOMEM
            c.truncated = True
            break
        nxt = body + consumed
        if r == ST_DAMAGED:
            if rollback(c, rows_n, st_n, peers_n) != ST_OK:
                return ST_NOMEM
            c.damaged += 1
            if c.last_ts == 0:
                c.last_ts = ts
            if n - nxt < 12 or plausible(rd16(c.buf + nxt + 4), rd16(c.buf + nxt + 6)):
                off = nxt
            else:
                off = resync(c, off + 1)
            continue
        if r == ST_SKIP:
            c.skipped += 1
        c.good += 1
        c.last_ts = ts
        if t < 64:
            c.types_seen |= (<uint64_t>1) << t
            if s < 16:
                c.counts[t][s] += 1
        off = nxt
    return ST_OK


cdef class _Block:
    """Owner of one ``malloc``'d output column, lent to NumPy through the
    buffer protocol (so the columns reach Python without a copy); the
    memory is freed when the last array using it goes away."""
    cdef void* ptr
    cdef Py_ssize_t nbytes
    cdef Py_ssize_t shape[1]
    cdef Py_ssize_t strides[1]

    def __dealloc__(self):
        free(self.ptr)

    def __getbuffer__(self, Py_buffer* view, int flags):
        self.shape[0] = self.nbytes
        self.strides[0] = 1
        view.buf = self.ptr
        view.obj = self
        view.len = self.nbytes
        view.readonly = 0
        view.itemsize = 1
        view.format = b"B"
        view.ndim = 1
        view.shape = self.shape
        view.strides = self.strides
        view.suboffsets = NULL
        view.internal = NULL

    def __releasebuffer__(self, Py_buffer* view):
        pass


cdef object take(void** pp, Py_ssize_t n, object dtype):
    """Hand the C array ``*pp`` (n items) over to a NumPy array; ``*pp``
    becomes NULL."""
    cdef Py_ssize_t nbytes = n * np.dtype(dtype).itemsize
    cdef void* q
    cdef _Block blk
    if n == 0 or pp[0] == NULL:
        return np.empty(n, dtype)
    q = realloc(pp[0], <size_t>nbytes)       # give back the unused capacity
    if q != NULL:
        pp[0] = q
    blk = _Block.__new__(_Block)
    blk.ptr = pp[0]
    blk.nbytes = nbytes
    pp[0] = NULL
    return np.frombuffer(blk, dtype=dtype, count=n)


def parse_mrt(bytes buf not None):
    """Decode an uncompressed MRT byte string.

    Returns a dict: ``columns`` (dict of NumPy arrays), ``peers`` (arrays
    ``afi``, ``ip`` (n, 16) uint8, ``asn``, ``bgp_id``, ``has_bgp_id``),
    ``states`` (``timestamp``, ``peer``, ``old_state``, ``new_state``), the
    counters ``records``, ``damaged``, ``skipped``, ``updates``,
    ``other_messages``, ``other_mp``, ``host_bits_masked``,
    ``no_index_rows``, ``truncated`` and ``record_counts`` ({(type,
    subtype): n}).  Raises ``ValueError`` if the first header is not MRT.
    """
    cdef Ctx* c = <Ctx*>malloc(sizeof(Ctx))
    cdef int r
    cdef Py_ssize_t i, j
    cdef Rows* R
    cdef States* S
    if c == NULL:
        raise MemoryError()
    memset(c, 0, sizeof(Ctx))
    c.buf = <const uint8_t*><const char*>buf
    c.size = len(buf)
    c.peers.last = -1
    try:
        with nogil:
            r = parse_all(c)
        if r == ST_NOMEM:
            raise MemoryError("out of memory while decoding MRT")
        if r == -1:
            raise ValueError("first record header is not MRT")
        R = &c.rows
        cols = dict(
            family=take(<void**>&R.family, R.n, np.uint8),
            addr_hi=take(<void**>&R.addr_hi, R.n, np.uint64),
            addr_lo=take(<void**>&R.addr_lo, R.n, np.uint64),
            length=take(<void**>&R.length, R.n, np.uint8),
            peer=take(<void**>&R.peer, R.n, np.uint32),
            peer_as=take(<void**>&R.peer_as, R.n, np.uint32),
            next_hop_hi=take(<void**>&R.nh_hi, R.n, np.uint64),
            next_hop_lo=take(<void**>&R.nh_lo, R.n, np.uint64),
            as_path_len=take(<void**>&R.path_len, R.n, np.uint16),
            origin=take(<void**>&R.origin, R.n, np.uint8),
            med=take(<void**>&R.med, R.n, np.int64),
            local_pref=take(<void**>&R.lpref, R.n, np.int64),
            origin_as=take(<void**>&R.origin_as, R.n, np.uint32),
            timestamp=take(<void**>&R.ts, R.n, np.float64),
            announce=take(<void**>&R.announce, R.n, np.uint8).view(np.bool_),
        )
        S = &c.st
        states = dict(
            timestamp=take(<void**>&S.ts, S.n, np.float64),
            peer=take(<void**>&S.peer, S.n, np.uint32),
            old_state=take(<void**>&S.old_state, S.n, np.uint16),
            new_state=take(<void**>&S.new_state, S.n, np.uint16),
        )
        np_ = c.peers.n
        afi = np.empty(np_, np.uint8)
        ip = np.zeros((np_, 16), np.uint8)
        asn = np.empty(np_, np.uint32)
        bgp_id = np.empty(np_, np.uint32)
        has_id = np.empty(np_, np.bool_)
        for i in range(np_):
            afi[i] = c.peers.items[i].afi
            asn[i] = c.peers.items[i].asn
            bgp_id[i] = c.peers.items[i].bgp_id
            has_id[i] = c.peers.items[i].has_bgp_id != 0
            for j in range(16):
                ip[i, j] = c.peers.items[i].ip[j]
        counts = {}
        for i in range(64):
            for j in range(16):
                if c.counts[i][j]:
                    counts[(i, j)] = c.counts[i][j]
        return dict(
            columns=cols, states=states,
            peers=dict(afi=afi, ip=ip, asn=asn, bgp_id=bgp_id, has_bgp_id=has_id),
            records=c.good, damaged=c.damaged, skipped=c.skipped, updates=c.updates,
            other_messages=c.other_msgs, other_mp=c.other_mp,
            host_bits_masked=c.masked, no_index_rows=c.no_index_rows,
            truncated=bool(c.truncated), record_counts=counts,
        )
    finally:
        rows_free(&c.rows)
        free(c.st.ts); free(c.st.peer); free(c.st.old_state); free(c.st.new_state)
        free(c.peers.items); free(c.peers.slots); free(c.peers.local)
        free(c)
