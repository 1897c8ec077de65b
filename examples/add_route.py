"""Add a route and update it, the RTMv2 way (spec 2.5, "add and update routes").

Written with :mod:`rtmcore.rtmv2`, the C-named layer: every call returns a
Win32 status first, and every status is checked, as a C client would.  Steps:

1. register a RIP entity with the routing table manager;
2. add a next hop (pointer-to-NULL handle mode: RTM returns a referenced handle);
3. fill a route info: neighbour, metric (the preference is left alone, as the
   C sample does: "preference set internally"), unicast view, one next hop;
4. add the route to 10.1.0.0/16 with a pointer-to-NULL route handle;
5. update the route through that handle (the fast path: no search);
6. read the route back;
7. release every handle and info structure, delete the next hop, deregister.

Run it with ``python examples/add_route.py``; it stops with exit status 1 at
the first call that fails.  ``add_route_pythonic.py`` does the same with the
Pythonic API.
"""
import os
import sys

try:
    import rtmcore  # noqa: F401
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from rtmcore.errors import STATUS_NAMES  # noqa: E402
from rtmcore.rtmv2 import (AF_INET, INFINITE, NEW_HANDLE, NO_ERROR, PROTO_IP_RIP,  # noqa: E402
                           PROTO_TYPE_UCAST, PROTOCOL_ID, RTM_NEXTHOP_CHANGE_NEW,
                           RTM_ROUTE_CHANGE_BEST, RTM_ROUTE_CHANGE_NEW, RTM_VIEW_MASK_UCAST,
                           RTM_IPV4_MAKE_NET_ADDRESS, RTM_IPV4_SET_ADDR_AND_MASK, EntityInfo,
                           NextHopInfo, RouteInfo, RoutingTableManager, RtmAddNextHop,
                           RtmAddRouteToDest, RtmDeleteNextHop, RtmDeregisterEntity,
                           RtmGetRouteInfo, RtmIsBestRoute, RtmRegisterEntity,
                           RtmReleaseRouteInfo, RtmReleaseRoutes)

# A vendor id of our own (the RTMv2 samples use a private one too).
EXAMPLE_VENDOR_ID = 0x3FF0


class CallFailed(Exception):
    pass


def check(status, call):
    """Stop at the first failing call, reporting its status as a C client would."""
    if status != NO_ERROR:
        raise CallFailed(f"{call} failed: status {status} ({STATUS_NAMES.get(status, '?')})")
    print(f"{call}: NO_ERROR")


def flag_names(flags):
    names = [n for n, v in (("NEW", RTM_ROUTE_CHANGE_NEW), ("BEST", RTM_ROUTE_CHANGE_BEST))
             if flags & v]
    return "|".join(names) or "0"


def run() -> None:
    rtm = RoutingTableManager(instance_id=0)

    # 1. Register: (RTM instance, address family, protocol id, protocol instance id).
    entity_info = EntityInfo(rtm_instance_id=0, address_family=AF_INET,
                             entity_protocol_id=PROTO_IP_RIP,
                             entity_instance_id=PROTOCOL_ID(PROTO_TYPE_UCAST, EXAMPLE_VENDOR_ID,
                                                            PROTO_IP_RIP))
    status, profile, reg = RtmRegisterEntity(rtm, entity_info, None, None, False)
    check(status, "RtmRegisterEntity")
    print(f"  profile: MaxNextHopsInRoute={profile.max_next_hops_in_route} "
          f"MaxHandlesInEnum={profile.max_handles_in_enum} "
          f"ViewsSupported={profile.views_supported:#x} NumberOfViews={profile.number_of_views}")

    # 2. A next hop: 192.0.2.1 on interface 1.  NEW_HANDLE stands for a pointer
    #    to a NULL handle: find-or-create, and hand back a referenced handle.
    nh_info = NextHopInfo(next_hop_address=RTM_IPV4_MAKE_NET_ADDRESS("192.0.2.1", 32),
                          interface_index=1)
    status, next_hop, nh_flags = RtmAddNextHop(reg, nh_info, NEW_HANDLE)
    check(status, "RtmAddNextHop")
    print(f"  next hop {next_hop:#x}, created: {bool(nh_flags & RTM_NEXTHOP_CHANGE_NEW)}")

    # 3. The route: learnt from that neighbour, metric 3, unicast view, one next
    #    hop.  The preference is not filled in ("preference set internally" in
    #    the C sample); rtmcore takes PrefInfo.Preference as given (decision
    #    U9), so it stays 0.
    route_info = RouteInfo(neighbour=next_hop, metric=3, belongs_to_views=RTM_VIEW_MASK_UCAST,
                           next_hops=[next_hop])
    dest = RTM_IPV4_SET_ADDR_AND_MASK("10.1.0.0", "255.255.0.0")

    # 4. Add it, with a pointer-to-NULL route handle.
    status, route, change_flags = RtmAddRouteToDest(reg, NEW_HANDLE, dest, route_info,
                                                    INFINITE, None, 0, None, 0)
    check(status, "RtmAddRouteToDest (add)")
    print(f"  route {route:#x} to {dest}, change flags {flag_names(change_flags)}")
    if change_flags != RTM_ROUTE_CHANGE_NEW | RTM_ROUTE_CHANGE_BEST:
        raise CallFailed("a new, only route must come back NEW and BEST")

    # 5. The neighbour advertises a new metric: update through the handle.
    route_info.metric = 5
    status, route, change_flags = RtmAddRouteToDest(reg, route, dest, route_info,
                                                    INFINITE, None, 0, None, 0)
    check(status, "RtmAddRouteToDest (update)")
    print(f"  route {route:#x} updated, change flags {flag_names(change_flags)}")
    if change_flags & RTM_ROUTE_CHANGE_NEW:
        raise CallFailed("an update must not create a route")

    # 6. Read it back.
    status, stored, dest_address = RtmGetRouteInfo(reg, route, True, True)
    check(status, "RtmGetRouteInfo")
    print(f"  {dest_address}: metric {stored.metric}, preference {stored.preference}, "
          f"views {stored.belongs_to_views:#x}, next hops {stored.num_next_hops}")
    if (str(dest_address), stored.metric) != ("10.1.0.0/16", 5):
        raise CallFailed("the route read back is not the one written")
    status, best_in_views = RtmIsBestRoute(reg, route)
    check(status, "RtmIsBestRoute")
    print(f"  best in views {best_in_views:#x}")

    # 7. Release the route info and the route handle, delete the next hop (this
    #    consumes its handle), deregister (the entity's route goes with it).
    check(RtmReleaseRouteInfo(reg, stored), "RtmReleaseRouteInfo")
    check(RtmReleaseRoutes(reg, 1, [route]), "RtmReleaseRoutes")
    check(RtmDeleteNextHop(reg, next_hop, None), "RtmDeleteNextHop")
    check(RtmDeregisterEntity(reg), "RtmDeregisterEntity")

    dests, routes = rtm.counts(4)
    print(f"table after deregistration: {dests} destinations, {routes} routes")
    if (dests, routes) != (0, 0):
        raise CallFailed("objects left behind")


def main() -> int:
    try:
        run()
    except CallFailed as exc:
        print(exc)
        return 1
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
