"""Update a route in place (spec 1.17, 2.5, 2.7; the RTMv2 "update a route in place using
RtmUpdateAndUnlockRoute" sample), with the Pythonic API.

The sample's steps:

1. lock the route (``lock_route``; it returns a live view of the route, the
   equivalent of the ``RTM_ROUTE_INFO`` pointer);
2. change the fields the owner may edit in place (neighbour, flags, metric and
   preference, views, entity-specific info, next hops: decision U8);
3. commit with ``update_and_unlock_route``: the manager repositions the route,
   recomputes the best route, notifies, re-arms the timer and unlocks.

Unlike C, the client does *not* reference or release next-hop handles it puts
into or takes out of the route: the commit goes through ``add_route_to_dest``,
which keeps the route's own references.  A failed commit leaves the route
locked with its edits; ``lock_route(..., lock=False)`` abandons them.  The same
steps read best as a ``with`` block.  Next hops are locked the same way, and
their owner-writable fields change at once.

Run it with ``python examples/lock_route.py``; it exits with status 1 if
anything fails.
"""
import os
import sys

try:
    import rtmcore
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    import rtmcore

from rtmcore import (PROTO_IP_OSPF, PROTO_IP_RIP, RTM_NEXTHOP_FLAGS_REMOTE, RTM_ROUTE_CHANGE_BEST,
                     RTM_VIEW_ID_UCAST, AccessDenied, RtmError, extras)

extras.install(rtmcore.Entity, rtmcore.RoutingTableManager)  # idempotent: wires in the extras


class CheckFailed(Exception):
    pass


def expect(condition, what):
    """A check that, unlike ``assert``, also runs under ``python -O``."""
    if not condition:
        raise CheckFailed(what)


def best(entity, prefix="10.1.0.0/16"):
    return entity.search_exact(prefix).best(RTM_VIEW_ID_UCAST)


def run() -> None:
    rtm = rtmcore.RoutingTableManager()
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    ospf = rtm.register_entity(PROTO_IP_OSPF, 1)
    nh1, _ = rip.add_next_hop("192.0.2.1", interface_index=1)
    nh2, _ = rip.add_next_hop("192.0.2.2", interface_index=2)
    route, _ = rip.add_route_to_dest("10.1.0.0/16", neighbour=nh1, next_hops=nh1, metric=2,
                                     return_handle=True)
    ospf_nh, _ = ospf.add_next_hop("198.51.100.1")
    ospf_route, _ = ospf.add_route_to_dest("10.1.0.0/16", next_hops=ospf_nh, metric=10,
                                           return_handle=True)
    print(f"RIP route {route:#x} (metric 2) and OSPF route {ospf_route:#x} (metric 10) "
          "to 10.1.0.0/16; best is RIP's")
    expect(best(rip) == route, "RIP's route must be best")

    # 1. Lock the route; r is a live view of it.
    r = rip.lock_route(route, exclusive=True)
    print(f"locked: metric {r.metric}, next hops {len(r.next_hops)}")
    # 2. Edit in place: a worse metric and a second (equal-cost) next hop.
    r.metric = 16
    r.next_hops = (nh1, nh2)
    print(f"edited (not yet committed): metric {r.metric}; the table still says "
          f"{rip.routes('10.1.0.0/16')[0].metric}")
    # 3. Commit and unlock.
    flags = rip.update_and_unlock_route(route)
    print(f"update_and_unlock_route: change flags "
          f"{'BEST' if flags & RTM_ROUTE_CHANGE_BEST else '0'}; best is now "
          f"{'OSPF' if best(rip) == ospf_route else 'RIP'}'s route")
    expect(flags & RTM_ROUTE_CHANGE_BEST and best(rip) == ospf_route, "OSPF must now be best")

    # A failed commit keeps the lock: the next hop of another entity is refused.
    r = rip.lock_route(route)
    r.next_hops = (ospf_nh,)
    try:
        rip.update_and_unlock_route(route)
        raise CheckFailed("a next hop of another entity must be refused")
    except AccessDenied as exc:
        print(f"commit with OSPF's next hop: AccessDenied (status {exc.winerror}); "
              f"still locked: {r.locked}")
    expect(r.locked, "a failed commit keeps the route locked")
    rip.lock_route(route, exclusive=True, lock=False)         # abandon the edits
    print(f"abandoned: metric {r.metric}, next hops {len(r.next_hops)}")

    # The same steps as a with block: committed when the block ends normally.
    with rip.lock_route(route) as r:
        r.pref_info = (1, 0)                                  # (metric, preference)
        r.entity_specific_info = 0xC0FFEE
    print(f"with block: metric {r.metric}, change flags {r.change_flags:#x}; best is "
          f"{'RIP' if best(rip) == route else 'OSPF'}'s route again")
    expect(best(rip) == route and r.change_flags & RTM_ROUTE_CHANGE_BEST, "RIP best again")

    # A read-only pointer to the route, and an in-place next-hop change.
    p = rip.get_route_pointer(route)
    expect(p.entity_specific_info == 0xC0FFEE, "the pointer reads the committed route")
    n = rip.lock_next_hop(nh2)
    n.flags = RTM_NEXTHOP_FLAGS_REMOTE                        # applies at once
    rip.lock_next_hop(nh2, lock=False)
    p2 = rip.get_next_hop_pointer(nh2)
    print(f"next hop {p2.next_hop_address} on interface {p2.interface_index}: "
          f"flags {p2.flags:#x} (REMOTE)")
    expect(p2.flags == RTM_NEXTHOP_FLAGS_REMOTE, "the next-hop flags must be set")

    # Clean up: the route keeps its own next-hop references, so only ours go.
    rip.delete_route_to_dest(route)
    ospf.release_routes([ospf_route])
    rip.release_next_hops([nh1, nh2])
    ospf.release_next_hops([ospf_nh])
    rip.deregister_entity()
    ospf.deregister_entity()
    dests, routes = rtm.counts(4)
    print(f"table after deregistration: {dests} destinations, {routes} routes")
    expect((dests, routes) == (0, 0), "objects left behind")


def main() -> int:
    try:
        run()
    except (RtmError, CheckFailed) as exc:
        status = getattr(exc, "winerror", None)
        print(f"failed: {type(exc).__name__}: {exc}" + (f" (status {status})" if status else ""))
        return 1
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
