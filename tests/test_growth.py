"""Tables that outgrow their first blocks keep every record.

The engine's arrays start small (heap blocks) and become mappings of their own
from 1 MiB up, grown in place or moved by the kernel.  These tests grow every
per-node and per-route array well past that point, in uneven steps, and check
the contents against what was put in.
"""
import numpy as np

from rtmcore import (PROTO_IP_BGP, PROTO_IP_RIP, RTM_ROUTE_STATE_CREATED,
                     RoutingTableManager)

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
    """Flags1 and entity-specific info live beside the route records and are
    created by the first route that sets them: they must follow every growth."""
    rtm = RoutingTableManager()
    rip = rtm.register_entity(PROTO_IP_RIP)
    bgp = rtm.register_entity(PROTO_IP_BGP)
    hop, _ = bgp.add_next_hop("192.0.2.1")
    first, _ = rip.add_route_to_dest("192.168.0.0/16", flags1=3, entity_specific_info=77,
                                     return_handle=True)
    nets = (np.arange(N, dtype=np.uint32) + (11 << 16)) << 8
    for lo, hi in _uneven_chunks(N, seed=3):
        bgp.add_routes(nets[lo:hi], 24, neighbour=hop, next_hop=hop, metric=1)
    last, _ = rip.add_route_to_dest("192.169.0.0/16", flags1=5, return_handle=True)

    info, _ = rip.get_route_info(first)
    assert (info.flags1, info.entity_specific_info, info.state) == (
        3, 77, RTM_ROUTE_STATE_CREATED)
    info, _ = rip.get_route_info(last)
    assert (info.flags1, info.entity_specific_info) == (5, 0)
    d = bgp.search_exact((int(nets[-1]), 24))
    info, _ = bgp.get_route_info(d.best())
    assert (info.flags1, info.entity_specific_info) == (0, 0)
    rtm.check_invariants()
