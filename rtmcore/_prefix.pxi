# Single-prefix text parsing at C level (included by _core.pyx).
#
# Keys are 128-bit, left-aligned, as two uint64 words (hi, lo): IPv4 a.b.c.d
# is hi = a.b.c.d << 32, lo = 0; IPv6 is hi = bits 127..64, lo = bits 63..0.
# Left alignment lets one trie and one set of bit helpers serve both families.
#
# parse_prefix_c returns 0 on success, or a negative PARSE_* code; it reads at
# most n bytes from s and never writes outside *out.

cdef enum:
    PARSE_OK = 0
    PARSE_SYNTAX = -1        # not an address / malformed
    PARSE_LENGTH = -2        # prefix length out of range for the family
    PARSE_HOSTBITS = -3      # bits set beyond the prefix length (strict mode)

cdef struct ParsedPrefix:
    uint64_t hi
    uint64_t lo
    int family               # 4 or 6
    int plen


cdef inline int _hexval(char c) noexcept nogil:
    if c >= 48 and c <= 57:
        return c - 48
    if c >= 97 and c <= 102:
        return c - 87
    if c >= 65 and c <= 70:
        return c - 55
    return -1


cdef int _parse_v4(const char* s, Py_ssize_t n, uint32_t* out) noexcept nogil:
    """Dotted quad, exactly four decimal parts 0..255 (no leading '+', at most 3 digits)."""
    cdef uint32_t acc = 0, part
    cdef Py_ssize_t i = 0, digits
    cdef int k
    for k in range(4):
        if k:
            if i >= n or s[i] != 46:   # '.'
                return PARSE_SYNTAX
            i += 1
        part = 0
        digits = 0
        if i + 1 < n and s[i] == 48 and s[i + 1] >= 48 and s[i + 1] <= 57:
            return PARSE_SYNTAX         # leading zero (octal?): refused, as ipaddress does
        while i < n and s[i] >= 48 and s[i] <= 57:
            part = part * 10 + <uint32_t>(s[i] - 48)
            digits += 1
            i += 1
            if digits > 3:
                return PARSE_SYNTAX
        if digits == 0 or part > 255:
            return PARSE_SYNTAX
        acc = (acc << 8) | part
    if i != n:
        return PARSE_SYNTAX
    out[0] = acc
    return PARSE_OK


cdef int _parse_v6(const char* s, Py_ssize_t n, uint64_t* hi, uint64_t* lo) noexcept nogil:
    """RFC 4291 text form: hex groups, one '::', optional dotted-quad tail."""
    cdef uint16_t groups[8]
    cdef int ng = 0, gap = -1, k, digits, v
    cdef Py_ssize_t i = 0, j
    cdef uint32_t g, v4
    if n >= 2 and s[0] == 58 and s[1] == 58:
        gap = 0
        i = 2
        if i == n:
            hi[0] = 0
            lo[0] = 0
            return PARSE_OK
    elif n >= 1 and s[0] == 58:
        return PARSE_SYNTAX
    while i < n:
        if ng >= 8:
            return PARSE_SYNTAX
        # A dotted-quad tail takes the last two groups.
        j = i
        while j < n and s[j] != 58 and s[j] != 46:
            j += 1
        if j < n and s[j] == 46:
            if ng > 6 or _parse_v4(s + i, n - i, &v4) != PARSE_OK:
                return PARSE_SYNTAX
            groups[ng] = <uint16_t>(v4 >> 16)
            groups[ng + 1] = <uint16_t>(v4 & 0xFFFF)
            ng += 2
            i = n
            break
        g = 0
        digits = 0
        while i < n and s[i] != 58:
            v = _hexval(s[i])
            if v < 0 or digits == 4:
                return PARSE_SYNTAX
            g = (g << 4) | <uint32_t>v
            digits += 1
            i += 1
        if digits == 0:
            return PARSE_SYNTAX
        groups[ng] = <uint16_t>g
        ng += 1
        if i < n:                       # at ':'
            i += 1
            if i < n and s[i] == 58:    # '::'
                if gap >= 0:
                    return PARSE_SYNTAX
                gap = ng
                i += 1
            elif i == n:                # trailing single ':'
                return PARSE_SYNTAX
    if gap < 0:
        if ng != 8:
            return PARSE_SYNTAX
    elif ng > 7:
        return PARSE_SYNTAX
    cdef uint16_t full[8]
    for k in range(8):
        full[k] = 0
    if gap < 0:
        for k in range(8):
            full[k] = groups[k]
    else:
        for k in range(gap):
            full[k] = groups[k]
        for k in range(ng - gap):
            full[8 - (ng - gap) + k] = groups[gap + k]
    hi[0] = (<uint64_t>full[0] << 48) | (<uint64_t>full[1] << 32) | (<uint64_t>full[2] << 16) | full[3]
    lo[0] = (<uint64_t>full[4] << 48) | (<uint64_t>full[5] << 32) | (<uint64_t>full[6] << 16) | full[7]
    return PARSE_OK


cdef inline bint _v4_prefix_fast(const char* s, Py_ssize_t n, ParsedPrefix* out) noexcept nogil:
    """One pass over the usual text, "a.b.c.d/len" or "a.b.c.d" with no host
    bits: True with *out filled.  False on anything else (whitespace, IPv6,
    a leading zero, a bad part or length, host bits): parse_prefix_c then
    takes its general path, which also says what is wrong."""
    cdef Py_ssize_t i = 0
    cdef uint32_t acc = 0, part = 0, plen = 32, c
    cdef uint64_t mhi, mlo
    cdef int digits = 0, dots = 0
    while i < n:
        c = <uint8_t>s[i]
        if c - 48 <= 9:
            if digits == 3 or (digits == 1 and part == 0):
                return 0
            part = part * 10 + (c - 48)
            digits += 1
        elif c == 46 and digits and part <= 255 and dots < 3:
            acc = (acc << 8) | part
            part = 0
            digits = 0
            dots += 1
        elif c == 47:
            break
        else:
            return 0
        i += 1
    if dots != 3 or digits == 0 or part > 255:
        return 0
    acc = (acc << 8) | part
    if i < n:                           # a length after '/': one or two digits, <= 32
        i += 1
        if i == n or n - i > 2:
            return 0
        plen = <uint8_t>s[i]
        plen -= 48
        if plen > 9:
            return 0
        if n - i == 2:
            c = <uint8_t>s[i + 1]
            c -= 48
            if c > 9 or plen == 0:
                return 0
            plen = plen * 10 + c
            if plen > 32:
                return 0
    key_mask(plen, &mhi, &mlo)
    if ((<uint64_t>acc) << 32) & ~mhi:
        return 0                        # host bits
    out.hi = (<uint64_t>acc) << 32
    out.lo = 0
    out.plen = plen
    out.family = 4
    return 1


cdef int parse_prefix_c(const char* s, Py_ssize_t n, int strict, ParsedPrefix* out) noexcept nogil:
    """Parse "addr[/len]" (v4 or v6; no '/len' = host prefix) into *out."""
    cdef Py_ssize_t slash = -1, i
    cdef int is6 = 0, plen = -1, rc, digits = 0
    cdef uint32_t v4
    cdef uint64_t hi = 0, lo = 0, mhi, mlo
    if _v4_prefix_fast(s, n, out):
        return PARSE_OK
    # trim ASCII whitespace
    while n > 0 and (s[0] == 32 or s[0] == 9):
        s += 1
        n -= 1
    while n > 0 and (s[n - 1] == 32 or s[n - 1] == 9 or s[n - 1] == 10 or s[n - 1] == 13):
        n -= 1
    for i in range(n):
        if s[i] == 47:
            slash = i
            break
        if s[i] == 58:
            is6 = 1
    if slash >= 0:
        plen = 0
        i = slash + 1
        if i == n:
            return PARSE_SYNTAX
        while i < n:
            if s[i] < 48 or s[i] > 57 or digits == 3:
                return PARSE_SYNTAX
            plen = plen * 10 + (s[i] - 48)
            digits += 1
            i += 1
        n = slash
    if is6:
        rc = _parse_v6(s, n, &hi, &lo)
        if rc:
            return rc
        if plen < 0:
            plen = 128
        if plen > 128:
            return PARSE_LENGTH
        out.family = 6
    else:
        rc = _parse_v4(s, n, &v4)
        if rc:
            return rc
        if plen < 0:
            plen = 32
        if plen > 32:
            return PARSE_LENGTH
        hi = (<uint64_t>v4) << 32
        out.family = 4
    key_mask(plen, &mhi, &mlo)
    if (hi & ~mhi) or (lo & ~mlo):
        if strict:
            return PARSE_HOSTBITS
        hi &= mhi
        lo &= mlo
    out.hi = hi
    out.lo = lo
    out.plen = plen
    return PARSE_OK
