"""NetAddress (RTM_NET_ADDRESS, spec 1.3 / 3.2) and the address macros (spec 3.4).

Every accepted input form (str v4/v6, ipaddress networks and addresses,
NetAddress, (int, length), bytes), the strictness rules of decision U5, the
RTM_NET_ADDRESS fields, and the RTM_IPV4_* / RTM_IPV6_* / RTM_SIZE_OF_* helpers
of rtmcore.addr.
"""
import ipaddress
import pickle

import pytest

import rtmcore
from rtmcore import (AF_INET, AF_INET6, NetAddress, RTM_IPV4_GET_ADDR_AND_LEN,
                     RTM_IPV4_GET_ADDR_AND_MASK, RTM_IPV4_LEN_FROM_MASK,
                     RTM_IPV4_MAKE_NET_ADDRESS, RTM_IPV4_MASK_FROM_LEN,
                     RTM_IPV4_SET_ADDR_AND_LEN, RTM_IPV4_SET_ADDR_AND_MASK,
                     RTM_IPV6_GET_ADDR_AND_LEN, RTM_IPV6_MAKE_NET_ADDRESS,
                     RTM_IPV6_SET_ADDR_AND_LEN, RTM_SIZE_OF_DEST_INFO, RTM_SIZE_OF_ROUTE_INFO)
from rtmcore.errors import ERROR_INVALID_PARAMETER, InvalidParameter


def _fields(n: NetAddress):
    return n.family, n.address_family, n.num_bits, n.addr_bits


# ---------------------------------------------------------------------------
# Accepted forms -> the same RTM_NET_ADDRESS
# ---------------------------------------------------------------------------
V4_10_8 = (4, AF_INET, 8, bytes([10]) + bytes(15))
V6_DB8_32 = (6, AF_INET6, 32, bytes.fromhex("20010db8") + bytes(12))


@pytest.mark.parametrize("form", [
    "10.0.0.0/8",
    b"10.0.0.0/8",
    ipaddress.IPv4Network("10.0.0.0/8"),
    ipaddress.ip_network("10.0.0.0/8"),
    (0x0A000000, 8),
    (ipaddress.IPv4Address("10.0.0.0"), 8),
    ("10.0.0.0", 8),
    NetAddress("10.0.0.0/8"),
], ids=["str", "bytes", "IPv4Network", "ip_network", "int-len", "IPv4Address-len", "str-len",
        "NetAddress"])
def test_ipv4_prefix_forms(form):
    n = NetAddress(form)
    assert _fields(n) == V4_10_8
    assert str(n) == "10.0.0.0/8"
    assert n == NetAddress("10.0.0.0/8")
    assert n.network == ipaddress.IPv4Network("10.0.0.0/8")
    assert n.address == ipaddress.IPv4Address("10.0.0.0")
    assert n.value == 0x0A000000


@pytest.mark.parametrize("form", [
    "2001:db8::/32",
    "2001:0DB8:0000::/32",
    b"2001:db8::/32",
    ipaddress.IPv6Network("2001:db8::/32"),
    (0x20010DB8 << 96, 32),
    (ipaddress.IPv6Address("2001:db8::"), 32),
    ("2001:db8::", 32),
    NetAddress("2001:db8::/32"),
], ids=["str", "str-upper-zeros", "bytes", "IPv6Network", "int-len",
        "IPv6Address-len", "str-len", "NetAddress"])
def test_ipv6_prefix_forms(form):
    n = NetAddress(form)
    assert _fields(n) == V6_DB8_32
    assert str(n) == "2001:db8::/32"
    assert n.network == ipaddress.IPv6Network("2001:db8::/32")
    assert n.value == 0x20010DB8 << 96


@pytest.mark.parametrize("form, expected", [
    ("10.1.2.3", "10.1.2.3/32"),
    (b"10.1.2.3", "10.1.2.3/32"),
    (ipaddress.IPv4Address("10.1.2.3"), "10.1.2.3/32"),
    ("2001:db8::1", "2001:db8::1/128"),
    (ipaddress.IPv6Address("2001:db8::1"), "2001:db8::1/128"),
])
def test_bare_address_is_host_prefix(form, expected):
    n = NetAddress(form)
    assert str(n) == expected
    assert n.num_bits == (32 if n.family == 4 else 128)


def test_default_routes_and_full_lengths():
    assert _fields(NetAddress("0.0.0.0/0")) == (4, AF_INET, 0, bytes(16))
    assert _fields(NetAddress("::/0")) == (6, AF_INET6, 0, bytes(16))
    assert _fields(NetAddress("255.255.255.255/32")) == (4, AF_INET, 32, b"\xff" * 4 + bytes(12))
    full = NetAddress("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128")
    assert _fields(full) == (6, AF_INET6, 128, b"\xff" * 16)
    assert full.value == (1 << 128) - 1


def test_ipv6_with_embedded_ipv4_tail():
    n = NetAddress("::ffff:1.2.3.4/128")
    assert n.addr_bits == bytes(10) + b"\xff\xff" + bytes([1, 2, 3, 4])
    assert n.address == ipaddress.IPv6Address("::ffff:1.2.3.4")


def test_addr_bits_are_msb_first_16_bytes():
    # spec 1.3: AddrBits[16], most significant first (network byte order)
    n = NetAddress("192.168.1.0/24")
    assert n.addr_bits == bytes([192, 168, 1, 0]) + bytes(12)
    assert len(n.addr_bits) == rtmcore.RTM_MAX_ADDRESS_SIZE == 16
    m = NetAddress("2001:db8:1:2:3:4:5:0/112")
    assert m.addr_bits == bytes.fromhex("20010db8000100020003000400050000")


def test_int_length_form_family_selection():
    # below 2**32 an int defaults to IPv4; family=6 forces IPv6
    assert str(NetAddress((1, 32))) == "0.0.0.1/32"
    assert str(NetAddress((1, 128), 6)) == "::1/128"
    assert str(NetAddress((1, 32), 4)) == "0.0.0.1/32"
    assert NetAddress((1 << 32, 96)).family == 6


def test_family_argument_must_match():
    assert NetAddress("10.0.0.0/8", 4).family == 4
    assert NetAddress("2001:db8::/32", 6).family == 6
    for form, fam in [("10.0.0.0/8", 6), ("2001:db8::/32", 4),
                      (ipaddress.ip_network("10.0.0.0/8"), 6),
                      (ipaddress.ip_address("2001:db8::1"), 4),
                      (NetAddress("10.0.0.0/8"), 6)]:
        with pytest.raises(InvalidParameter) as ei:
            NetAddress(form, fam)
        assert ei.value.winerror == ERROR_INVALID_PARAMETER


def test_parse_prefix_function():
    assert rtmcore.parse_prefix("10.0.0.0/8") == NetAddress("10.0.0.0/8")
    assert rtmcore.parse_prefix("10.1.0.0/8", strict=False) == NetAddress("10.0.0.0/8")
    with pytest.raises(InvalidParameter):
        rtmcore.parse_prefix("10.1.0.0/8")


# ---------------------------------------------------------------------------
# Strictness (decision U5)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("form", [
    "10.1.2.3/8", b"10.1.2.3/8", (0x0A010203, 8), ("10.1.2.3", 8),
    (ipaddress.IPv4Address("10.1.2.3"), 8), "2001:db8::1/32", (1, 0), ((1 << 127) | 1, 1),
])
def test_host_bits_rejected_by_default(form):
    with pytest.raises(InvalidParameter) as ei:
        NetAddress(form)
    assert ei.value.winerror == ERROR_INVALID_PARAMETER
    assert isinstance(ei.value, ValueError)


@pytest.mark.parametrize("form, expected", [
    ("10.1.2.3/8", "10.0.0.0/8"),
    (b"10.1.2.3/8", "10.0.0.0/8"),
    ((0x0A010203, 8), "10.0.0.0/8"),
    (("10.1.2.3", 24), "10.1.2.0/24"),
    ("2001:db8::1/32", "2001:db8::/32"),
    ("255.255.255.255/0", "0.0.0.0/0"),
])
def test_strict_false_masks_host_bits(form, expected):
    assert str(NetAddress(form, strict=False)) == expected


@pytest.mark.parametrize("form", [
    "10.0.0.0/33", "2001:db8::/129", (0, 33), (0, -1), ((1 << 32), 129), "10.0.0.0/999",
])
def test_length_out_of_range_rejected(form):
    with pytest.raises(InvalidParameter):
        NetAddress(form)
    with pytest.raises(InvalidParameter):
        NetAddress(form, strict=False)


@pytest.mark.parametrize("form", [
    "", "abc", "1.2.3", "1.2.3.4.5", "256.1.1.1", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8",
    "1::2::3", ":1::", "12345::", "2001:db8::g/32", "1.2.3.4/x", b"junk",
    (-1, 8), (1 << 128, 0),
])
def test_malformed_rejected(form):
    with pytest.raises(InvalidParameter) as ei:
        NetAddress(form)
    assert ei.value.winerror == ERROR_INVALID_PARAMETER


@pytest.mark.parametrize("obj", [3.5, None, [10, 8], (1, 2, 3), {"a": 1}, object(),
                                 (3.5, 8)])
def test_unsupported_types_rejected(obj):
    with pytest.raises(InvalidParameter):
        NetAddress(obj)


# ---------------------------------------------------------------------------
# Value semantics
# ---------------------------------------------------------------------------
def test_equality_hash_and_order():
    a = NetAddress("10.0.0.0/8")
    assert a == NetAddress((0x0A000000, 8))
    assert hash(a) == hash(NetAddress(b"10.0.0.0/8"))
    assert a != NetAddress("10.0.0.0/16")          # same bits, other length
    assert a != NetAddress("::a00:0/104")          # other family
    assert (a == "10.0.0.0/8") is False
    assert len({a, NetAddress("10.0.0.0/8"), NetAddress("10.0.0.0/16")}) == 2
    ordered = sorted([NetAddress("10.0.0.0/16"), NetAddress("10.0.0.0/8"),
                      NetAddress("9.0.0.0/8"), NetAddress("10.0.1.0/24")])
    # ascending address, shorter prefix first for equal bits (U20 order)
    assert [str(x) for x in ordered] == ["9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16",
                                         "10.0.1.0/24"]


def test_pickle_roundtrip_and_repr():
    for s in ("10.0.0.0/8", "2001:db8::/32", "0.0.0.0/0"):
        n = NetAddress(s)
        assert pickle.loads(pickle.dumps(n)) == n
        assert repr(n) == f"NetAddress('{s}')"


def test_key_and_properties():
    n = NetAddress("10.0.0.0/8")
    assert n.key() == (4, 0x0A000000 << 32, 0, 8)
    assert n.num_bits == n.plen == 8
    m = NetAddress("2001:db8::1/128")
    assert m.key() == (6, 0x20010DB800000000, 1, 128)
    assert m.address == ipaddress.IPv6Address("2001:db8::1")


def test_net_address_is_immutable():
    n = NetAddress("10.0.0.0/8")
    with pytest.raises(AttributeError):
        n.plen = 16
    assert str(n) == "10.0.0.0/8"


# ---------------------------------------------------------------------------
# Macros (spec 3.4)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("addr", ["10.1.0.0", ipaddress.IPv4Address("10.1.0.0"), 0x0A010000])
def test_ipv4_set_addr_and_len(addr):
    n = RTM_IPV4_SET_ADDR_AND_LEN(addr, 16)
    assert n.address_family == AF_INET
    assert n.num_bits == 16
    assert n.addr_bits[:4] == bytes([10, 1, 0, 0])
    assert RTM_IPV4_MAKE_NET_ADDRESS(addr, 16) == n


def test_ipv4_set_addr_and_len_extremes():
    assert str(RTM_IPV4_SET_ADDR_AND_LEN("0.0.0.0", 0)) == "0.0.0.0/0"
    assert str(RTM_IPV4_SET_ADDR_AND_LEN("192.0.2.1", 32)) == "192.0.2.1/32"


@pytest.mark.parametrize("addr, length", [("10.1.2.3", 24), ("10.0.0.0", 33), ("10.0.0.0", -1),
                                          ("2001:db8::", 32), ("1.2.3", 8), (-1, 8),
                                          (1 << 32, 8)])
def test_ipv4_set_addr_and_len_rejects(addr, length):
    with pytest.raises(InvalidParameter):
        RTM_IPV4_SET_ADDR_AND_LEN(addr, length)


def test_ipv4_get_addr_and_len():
    a, n = RTM_IPV4_GET_ADDR_AND_LEN(NetAddress("172.16.0.0/12"))
    assert a == ipaddress.IPv4Address("172.16.0.0") and n == 12
    a, n = RTM_IPV4_GET_ADDR_AND_LEN(RTM_IPV4_SET_ADDR_AND_LEN("198.51.100.7", 32))
    assert (str(a), n) == ("198.51.100.7", 32)
    with pytest.raises(InvalidParameter):
        RTM_IPV4_GET_ADDR_AND_LEN(NetAddress("2001:db8::/32"))


@pytest.mark.parametrize("length, mask", [
    (0, "0.0.0.0"), (1, "128.0.0.0"), (8, "255.0.0.0"), (12, "255.240.0.0"),
    (24, "255.255.255.0"), (31, "255.255.255.254"), (32, "255.255.255.255"),
])
def test_mask_from_len_and_back(length, mask):
    assert RTM_IPV4_MASK_FROM_LEN(length) == ipaddress.IPv4Address(mask)
    assert RTM_IPV4_LEN_FROM_MASK(mask) == length
    assert RTM_IPV4_LEN_FROM_MASK(ipaddress.IPv4Address(mask)) == length
    assert RTM_IPV4_LEN_FROM_MASK(int(ipaddress.IPv4Address(mask))) == length


def test_mask_from_len_all_lengths_match_ipaddress():
    for n in range(33):
        assert RTM_IPV4_MASK_FROM_LEN(n) == ipaddress.IPv4Network(f"0.0.0.0/{n}").netmask
        assert RTM_IPV4_LEN_FROM_MASK(RTM_IPV4_MASK_FROM_LEN(n)) == n


@pytest.mark.parametrize("length", [-1, 33, 64])
def test_mask_from_len_rejects_bad_length(length):
    with pytest.raises(InvalidParameter):
        RTM_IPV4_MASK_FROM_LEN(length)


@pytest.mark.parametrize("mask", ["255.0.255.0", "0.0.0.255", "255.255.255.253", "128.0.0.1",
                                  "1.2.3.4.5", -1, 1 << 32])
def test_len_from_mask_rejects_noncontiguous_and_bad(mask):
    # U5: non-contiguous masks are rejected
    with pytest.raises(InvalidParameter):
        RTM_IPV4_LEN_FROM_MASK(mask)


def test_set_and_get_addr_and_mask():
    n = RTM_IPV4_SET_ADDR_AND_MASK("10.1.0.0", "255.255.0.0")
    assert n == NetAddress("10.1.0.0/16")
    assert RTM_IPV4_GET_ADDR_AND_MASK(n) == (ipaddress.IPv4Address("10.1.0.0"),
                                             ipaddress.IPv4Address("255.255.0.0"))
    assert RTM_IPV4_GET_ADDR_AND_MASK(NetAddress("0.0.0.0/0")) == (
        ipaddress.IPv4Address("0.0.0.0"), ipaddress.IPv4Address("0.0.0.0"))
    assert RTM_IPV4_SET_ADDR_AND_MASK("192.0.2.1", "255.255.255.255") == NetAddress("192.0.2.1")
    with pytest.raises(InvalidParameter):
        RTM_IPV4_SET_ADDR_AND_MASK("10.1.0.0", "255.0.255.0")
    with pytest.raises(InvalidParameter):
        RTM_IPV4_SET_ADDR_AND_MASK("10.1.0.0", "255.0.0.0")    # host bits beyond /8


def test_ipv6_macros():
    n = RTM_IPV6_SET_ADDR_AND_LEN("2001:db8::", 32)
    assert n.address_family == AF_INET6 and n.num_bits == 32
    assert n == NetAddress("2001:db8::/32")
    assert RTM_IPV6_MAKE_NET_ADDRESS(ipaddress.IPv6Address("2001:db8::"), 32) == n
    assert RTM_IPV6_SET_ADDR_AND_LEN(0x20010DB8 << 96, 32) == n
    assert RTM_IPV6_GET_ADDR_AND_LEN(n) == (ipaddress.IPv6Address("2001:db8::"), 32)
    assert RTM_IPV6_SET_ADDR_AND_LEN("::", 0) == NetAddress("::/0")
    for addr, length in [("2001:db8::", 129), ("2001:db8::", -1), ("2001:db8::1", 64),
                         ("10.0.0.0", 8)]:
        with pytest.raises(InvalidParameter):
            RTM_IPV6_SET_ADDR_AND_LEN(addr, length)
    with pytest.raises(InvalidParameter):
        RTM_IPV6_GET_ADDR_AND_LEN(NetAddress("10.0.0.0/8"))
    assert rtmcore.IPV6_ADDRESS_LEN_IN_BYTES == 16


def test_size_macros():
    assert RTM_SIZE_OF_DEST_INFO(2) == 2
    assert RTM_SIZE_OF_DEST_INFO(0) == 0
    assert RTM_SIZE_OF_ROUTE_INFO(16) == 16


# ---------------------------------------------------------------------------
# The one-pass IPv4 text path and the general parser agree
# ---------------------------------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

_OCTET = st.one_of(st.integers(0, 255).map(str), st.text("0123456789", min_size=0, max_size=4))
_LENGTH = st.one_of(st.none(), st.integers(0, 40).map(str), st.text("0123456789", max_size=3))
_TAIL = st.sampled_from(["", ".", "/", ":", "x", "..", "-", "/1", ".0"])


def _outcome(text):
    try:
        a = NetAddress(text)
    except rtmcore.RtmError as e:
        return type(e), e.winerror
    return _fields(a)


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(_OCTET, min_size=1, max_size=5), length=_LENGTH, tail=_TAIL)
def test_ipv4_text_one_pass_agrees_with_general_parser(parts, length, tail):
    # Text with a leading blank always takes the general parser (which trims
    # it); the same text without it takes the one-pass path when it can.
    text = ".".join(parts) + ("" if length is None else "/" + length) + tail
    assert _outcome(text) == _outcome(" " + text)
    if _outcome(text)[0] == 4:                  # accepted: the same network as ipaddress's
        assert _outcome(text) == _fields(NetAddress(ipaddress.ip_network(text)))
