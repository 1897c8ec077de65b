"""Tables that outgrow their first blocks keep every record.

The engine's arrays start small (heap blocks) and become mappings of their own
from 1 MiB up, grown in place or moved by the kernel.  These tests grow every
per-node and per-route array well past that point, in uneven steps, and check
the contents against what was put in, and build tables in blocks kept from
a freed manager (which must read as new).
"""
import gc
import threading
import weakref

import numpy as np
import pytest

from rtmcore import (PROTO_IP_BGP, PROTO_IP_RIP, RTM_ROUTE_FLAGS_DISCARD, RTM_ROUTE_FLAGS_LOCAL,
                     RTM_ROUTE_STATE_CREATED, RTM_VIEW_MASK_UCAST, InvalidHandle,
                     InvalidParameter, RoutingTableManager, memory_cache)

N = 120_000          # nodes, routes: several MiB each, crossing 1 MiB early


def _uneven_chunks(n, seed):
    rng = np.random.default_rng(seed)
    bounds, at = [0], 0
    while at < n:
        at = min(n, at + int(rng.choice([1, 7, 300, 4096, 20_000])))
        bounds.append(at)
    return list(zip(bounds[:-1], bounds[1:]))


def test_bulk_table_survives_growth():
    rtm = RoutingTableManager()
    bgp = rtm.register_entity(PROTO_IP_BGP)
    hop, _ = bgp.add_next_hop("192.0.2.1")
    nets = (np.arange(N, dtype=np.uint32) + (10 << 16)) << 8         # 10.0.0.0/24 ... distinct /24s
    metric = (np.arange(N) % 7).astype(np.uint32)
    for lo, hi in _uneven_chunks(N, seed=1):
        bgp.add_routes(nets[lo:hi], 24, neighbour=hop, next_hop=hop, metric=metric[lo:hi])
    assert rtm.counts(4) == (N, N)
    rtm.check_invariants()

    found = bgp.lookup(nets | 5)
    assert np.array_equal(found.prefix, nets)
    assert np.all(found.length == 24)
    assert np.all(found.next_hop == hop)

    # spot-check stored fields through the per-call path
    for i in np.random.default_rng(2).choice(N, 200, replace=False):
        d = bgp.search_exact((int(nets[i]), 24))
        assert d is not None
        info, _ = bgp.get_route_info(d.best())
        assert info.metric == int(metric[i])
        bgp.release_route_info(info)          # the info holds a reference on the destination

    out = bgp.delete_routes(nets, 24, neighbour=hop)
    assert out.shape == (N,)
    assert rtm.counts(4) == (0, 0)
    rtm.check_invariants()


def test_side_arrays_grow_with_the_route_records():
    """Route flags, Flags1 and entity-specific info live beside the route
    records and are created by the first route that sets them: they must
    follow every growth."""
    rtm = RoutingTableManager()
    rip = rtm.register_entity(PROTO_IP_RIP)
    bgp = rtm.register_entity(PROTO_IP_BGP)
    hop, _ = bgp.add_next_hop("192.0.2.1")
    first, _ = rip.add_route_to_dest("192.168.0.0/16", flags=RTM_ROUTE_FLAGS_DISCARD, flags1=3,
                                     entity_specific_info=77, return_handle=True)
    nets = (np.arange(N, dtype=np.uint32) + (11 << 16)) << 8
    for lo, hi in _uneven_chunks(N, seed=3):
        bgp.add_routes(nets[lo:hi], 24, neighbour=hop, next_hop=hop, metric=1)
    last, _ = rip.add_route_to_dest("192.169.0.0/16", flags=RTM_ROUTE_FLAGS_LOCAL, flags1=5,
                                    return_handle=True)

    info, _ = rip.get_route_info(first)
    assert (info.flags, info.flags1, info.entity_specific_info, info.state) == (
        RTM_ROUTE_FLAGS_DISCARD, 3, 77, RTM_ROUTE_STATE_CREATED)
    info, _ = rip.get_route_info(last)
    assert (info.flags, info.flags1, info.entity_specific_info) == (RTM_ROUTE_FLAGS_LOCAL, 5, 0)
    d = bgp.search_exact((int(nets[-1]), 24))
    info, _ = bgp.get_route_info(d.best())
    assert (info.flags, info.flags1, info.entity_specific_info) == (0, 0, 0)
    rtm.check_invariants()


def test_a_reused_route_slot_reads_as_new():
    """A route's generation and flags are kept beside its record: the next
    route in a freed slot starts with neither, and the old handle is refused."""
    rtm = RoutingTableManager()
    rip = rtm.register_entity(PROTO_IP_RIP)
    old, _ = rip.add_route_to_dest("10.0.0.0/8", flags=RTM_ROUTE_FLAGS_DISCARD, flags1=9,
                                   entity_specific_info=5, return_handle=True)
    rip.delete_route_to_dest(old)                  # (consumes the handle's reference)
    new, _ = rip.add_route_to_dest("10.0.0.0/8", return_handle=True)
    assert new & 0xFFFFFFFF == old & 0xFFFFFFFF    # the same slot, a new generation
    with pytest.raises(InvalidHandle):
        rip.get_route_info(old)
    info, _ = rip.get_route_info(new)
    assert (info.flags, info.flags1, info.entity_specific_info) == (0, 0, 0)
    rtm.check_invariants()


# ---------------------------------------------------------------------------
# memory kept from freed managers (rtmcore.memory_cache)
# ---------------------------------------------------------------------------
def _dirty_table(n):
    """Build and drop a manager whose arrays are full of non-zero records
    (fields, Flags1, entity info, notification bits), so that the blocks
    kept from it hold old data."""
    rtm = RoutingTableManager()
    bgp = rtm.register_entity(PROTO_IP_BGP)
    rip = rtm.register_entity(PROTO_IP_RIP)
    hop, _ = bgp.add_next_hop("192.0.2.1")
    bgp.register_for_change_notification(RTM_VIEW_MASK_UCAST)
    nets = (np.arange(n, dtype=np.uint32) + (12 << 16)) << 8
    bgp.add_routes(nets, 24, neighbour=hop, next_hop=hop, metric=0xFFFFFFF0, preference=77,
                   flags=0x3F, entity_specific_info=0xABCDEF0123456789)
    for i in range(0, n, 97):
        rip.add_route_to_dest((int(nets[i]), 24), flags1=0xFF, entity_specific_info=5)
    rtm.check_invariants()


def test_a_table_built_in_kept_memory_reads_as_new():
    before = memory_cache()
    try:
        memory_cache(1 << 30)
        _dirty_table(N)
        gc.collect()
        kept = memory_cache()
        assert kept["blocks"] >= 2 and kept["bytes"] >= 8 << 20

        rtm = RoutingTableManager()
        bgp = rtm.register_entity(PROTO_IP_BGP)
        rip = rtm.register_entity(PROTO_IP_RIP)
        hop, _ = bgp.add_next_hop("192.0.2.9")
        notify = bgp.register_for_change_notification(RTM_VIEW_MASK_UCAST)
        nets = (np.arange(N, dtype=np.uint32) + (13 << 16)) << 8
        for lo, hi in _uneven_chunks(N, seed=4):
            bgp.add_routes(nets[lo:hi], 24, neighbour=hop, next_hop=hop, metric=3)
        assert memory_cache()["bytes"] < kept["bytes"]          # the new table took blocks
        assert rtm.counts(4) == (N, N)
        rtm.check_invariants()

        found = bgp.lookup(nets | 1)
        assert np.array_equal(found.prefix, nets)
        assert np.all(found.next_hop == hop)
        for i in np.random.default_rng(5).choice(N, 300, replace=False):
            d = bgp.search_exact((int(nets[i]), 24))
            info, _ = bgp.get_route_info(d.best())
            assert (info.metric, info.preference, info.flags, info.flags1,
                    info.entity_specific_info) == (3, 0, 0, 0, 0)
            bgp.release_route_info(info)
        r, _ = rip.add_route_to_dest("192.168.0.0/16", flags1=1, return_handle=True)
        info, _ = rip.get_route_info(r)
        assert (info.flags1, info.entity_specific_info) == (1, 0)
        changed = bgp.drain_changes(notify)
        assert len(changed.dest) == N + 1          # every destination exactly once
        rtm.check_invariants()
    finally:
        memory_cache(before["limit"])


def test_memory_cache_limit():
    before = memory_cache()
    try:
        assert memory_cache(0) == {"limit": 0, "bytes": 0, "blocks": 0}
        _dirty_table(20_000)
        gc.collect()
        assert memory_cache()["bytes"] == 0               # nothing kept at limit 0
        memory_cache(1 << 30)
        _dirty_table(20_000)
        gc.collect()
        assert memory_cache()["bytes"] > 0
        assert memory_cache(0)["bytes"] == 0              # lowering the limit gives them back
        for bad in (-1, "1M", 1.5):
            with pytest.raises(InvalidParameter):
                memory_cache(bad)
    finally:
        memory_cache(before["limit"])


def test_bulk_load_without_time_to_live_starts_no_timer_thread():
    rtm = RoutingTableManager()
    bgp = rtm.register_entity(PROTO_IP_BGP)
    bgp.add_routes(np.array([10 << 24], np.uint32), 8)
    assert not any(t.name == "rtmcore-timers" for t in threading.enumerate()
                   if getattr(t, "_manager", lambda: None)() is rtm)
    gone = weakref.ref(rtm)
    del rtm, bgp
    gc.collect()
    assert gone() is None                        # nothing keeps the manager alive
