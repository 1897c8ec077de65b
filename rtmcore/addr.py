"""The RTMv2 address macros (spec 3.4) as functions.

In C the IPv4 "address" is a 32-bit value kept in network byte order and
copied raw into ``AddrBits``.  Here addresses are ``ipaddress`` objects, dotted
strings or integers (the integer value of the address, i.e. what
``int(IPv4Address(...))`` gives); byte order is hidden.
"""
from __future__ import annotations

import ipaddress

from . import errors as E
from ._core import NetAddress

__all__ = [
    "RTM_IPV4_SET_ADDR_AND_LEN", "RTM_IPV4_MAKE_NET_ADDRESS", "RTM_IPV4_GET_ADDR_AND_LEN",
    "RTM_IPV4_MASK_FROM_LEN", "RTM_IPV4_LEN_FROM_MASK", "RTM_IPV4_SET_ADDR_AND_MASK",
    "RTM_IPV4_GET_ADDR_AND_MASK", "RTM_IPV6_SET_ADDR_AND_LEN", "RTM_IPV6_MAKE_NET_ADDRESS",
    "RTM_IPV6_GET_ADDR_AND_LEN", "RTM_SIZE_OF_DEST_INFO", "RTM_SIZE_OF_ROUTE_INFO",
]


def _v4(addr) -> int:
    try:
        v = int(ipaddress.IPv4Address(addr))
    except (ValueError, TypeError) as exc:
        raise E.InvalidParameter(f"{addr!r}: {exc}") from None
    return v


def _v6(addr) -> int:
    try:
        return int(ipaddress.IPv6Address(addr))
    except (ValueError, TypeError) as exc:
        raise E.InvalidParameter(f"{addr!r}: {exc}") from None


def RTM_IPV4_SET_ADDR_AND_LEN(addr, length: int) -> NetAddress:
    """AF_INET address with ``NumBits`` = length (host bits are rejected, U5)."""
    if not 0 <= length <= 32:
        raise E.InvalidParameter(f"IPv4 length {length} out of range")
    return NetAddress((_v4(addr), length), 4)


RTM_IPV4_MAKE_NET_ADDRESS = RTM_IPV4_SET_ADDR_AND_LEN


def RTM_IPV4_GET_ADDR_AND_LEN(net_address: NetAddress) -> tuple[ipaddress.IPv4Address, int]:
    """``(address, length)`` of an IPv4 ``NetAddress``."""
    if net_address.family != 4:
        raise E.InvalidParameter("not an IPv4 address")
    return net_address.address, net_address.num_bits


def RTM_IPV4_MASK_FROM_LEN(length: int) -> ipaddress.IPv4Address:
    """Mask with the top ``length`` bits set (0 -> 0.0.0.0, 24 -> 255.255.255.0)."""
    if not 0 <= length <= 32:
        raise E.InvalidParameter(f"IPv4 length {length} out of range")
    return ipaddress.IPv4Address(((1 << length) - 1) << (32 - length) if length else 0)


def RTM_IPV4_LEN_FROM_MASK(mask) -> int:
    """Length of a contiguous mask (255.255.255.0 -> 24); non-contiguous masks
    are rejected (decision U5)."""
    m = _v4(mask)
    n = 32 - ((m & -m).bit_length() - 1) if m else 0
    if m != (((1 << n) - 1) << (32 - n) if n else 0):
        raise E.InvalidParameter(f"{ipaddress.IPv4Address(m)} is not a contiguous mask")
    return n


def RTM_IPV4_SET_ADDR_AND_MASK(addr, mask) -> NetAddress:
    return RTM_IPV4_SET_ADDR_AND_LEN(addr, RTM_IPV4_LEN_FROM_MASK(mask))


def RTM_IPV4_GET_ADDR_AND_MASK(net_address: NetAddress):
    """``(address, mask)`` of an IPv4 ``NetAddress``."""
    a, n = RTM_IPV4_GET_ADDR_AND_LEN(net_address)
    return a, RTM_IPV4_MASK_FROM_LEN(n)


def RTM_IPV6_SET_ADDR_AND_LEN(addr, length: int) -> NetAddress:
    """AF_INET6 address with ``NumBits`` = length (the SDK-header IPv6 helper)."""
    if not 0 <= length <= 128:
        raise E.InvalidParameter(f"IPv6 length {length} out of range")
    return NetAddress((_v6(addr), length), 6)


RTM_IPV6_MAKE_NET_ADDRESS = RTM_IPV6_SET_ADDR_AND_LEN


def RTM_IPV6_GET_ADDR_AND_LEN(net_address: NetAddress) -> tuple[ipaddress.IPv6Address, int]:
    if net_address.family != 6:
        raise E.InvalidParameter("not an IPv6 address")
    return net_address.address, net_address.num_bits


def RTM_SIZE_OF_DEST_INFO(num_views: int) -> int:
    """In Python a ``DestInfo`` holds a list of ``num_views`` view entries; this
    returns that length (kept for ported code, spec 3.4)."""
    return num_views


def RTM_SIZE_OF_ROUTE_INFO(num_hops: int) -> int:
    """The number of next-hop slots a ``RouteInfo`` may hold (spec 3.4)."""
    return num_hops
