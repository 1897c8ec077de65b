"""Enumerate destinations, routes and next hops the RTMv2 way (spec 1.12, 2.8).

The RTMv2 sample procedures "enumerate all destinations" and "enumerate all
routes", written with :mod:`rtmcore.rtmv2`, the C-named layer: every call
returns a Win32 status first, and every status is checked, as a C client
would.  Every enumeration follows the same pattern:

1. create it (``RtmCreateDestEnum`` / ``RtmCreateRouteEnum`` /
   ``RtmCreateNextHopEnum``) with its criteria;
2. ask for batches of at most ``MaxHandlesInEnum`` items; process the count
   that comes back *whatever the status*, and loop only while the status is
   ``NO_ERROR``: the last batch may come back non-empty together with
   ``ERROR_NO_MORE_ITEMS``;
3. release every batch (``RtmReleaseDests`` / ``RtmReleaseRoutes`` /
   ``RtmReleaseNextHops``): each handle in it carries a reference;
4. end the enumeration with ``RtmDeleteEnumHandle``.

The table (the one of ``enumerate.py``): a RIP and an OSPF entity with
overlapping unicast routes (OSPF's preference is the better one) and a
multicast-only route.  The manager is created with a small
``max_handles_in_enum`` so that the loops run through several batches.

Run it with ``python examples/enumerate_rtmv2.py``; it stops with exit status
1 at the first call that fails.  ``enumerate.py`` does the same with the
Pythonic API.
"""
import os
import sys

try:
    import rtmcore  # noqa: F401
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from rtmcore.errors import STATUS_NAMES  # noqa: E402
from rtmcore.rtmv2 import (AF_INET, ERROR_NO_MORE_ITEMS, INFINITE, NEW_HANDLE,  # noqa: E402
                           NO_ERROR, PROTO_IP_OSPF, PROTO_IP_RIP, RTM_BEST_PROTOCOL,
                           RTM_ENUM_ALL_ROUTES, RTM_ENUM_OWN_ROUTES, RTM_ENUM_RANGE,
                           RTM_ENUM_START, RTM_IPV4_MAKE_NET_ADDRESS, RTM_MATCH_NONE,
                           RTM_VIEW_ID_MCAST, RTM_VIEW_ID_UCAST, RTM_VIEW_MASK_MCAST,
                           RTM_VIEW_MASK_UCAST, EntityInfo, NextHopInfo, RouteInfo,
                           RoutingTableManager, RtmAddNextHop, RtmAddRouteToDest,
                           RtmCreateDestEnum, RtmCreateNextHopEnum, RtmCreateRouteEnum,
                           RtmDeleteEnumHandle, RtmDeregisterEntity, RtmGetEnumDests,
                           RtmGetEnumNextHops, RtmGetEnumRoutes, RtmGetNextHopInfo,
                           RtmGetRouteInfo, RtmRegisterEntity, RtmReleaseDests,
                           RtmReleaseNextHopInfo, RtmReleaseNextHops, RtmReleaseRouteInfo,
                           RtmReleaseRoutes)

UCAST_MCAST = RTM_VIEW_MASK_UCAST | RTM_VIEW_MASK_MCAST

# (prefix, length, metric, views) of each protocol's routes; preferences as Windows uses them
RIP_PREFERENCE, OSPF_PREFERENCE = 120, 110
RIP_ROUTES = [("10.0.0.0", 8, 3, RTM_VIEW_MASK_UCAST), ("10.1.0.0", 16, 2, RTM_VIEW_MASK_UCAST),
              ("172.16.0.0", 12, 4, UCAST_MCAST), ("192.168.0.0", 16, 1, RTM_VIEW_MASK_UCAST),
              ("192.168.1.0", 24, 5, RTM_VIEW_MASK_UCAST)]
OSPF_ROUTES = [("10.1.0.0", 16, 20, RTM_VIEW_MASK_UCAST),
               ("10.2.0.0", 16, 10, RTM_VIEW_MASK_UCAST),
               ("239.1.0.0", 16, 10, RTM_VIEW_MASK_MCAST)]


class CallFailed(Exception):
    pass


def check(status, call, *accepted):
    """Stop at the first call that fails, reporting its status as a C client
    would; ``accepted`` are further statuses that are not failures."""
    if status != NO_ERROR and status not in accepted:
        raise CallFailed(f"{call} failed: status {status} ({STATUS_NAMES.get(status, '?')})")


def expect(condition, what):
    """A check that, unlike ``assert``, also runs under ``python -O``."""
    if not condition:
        raise CallFailed(what)


def register(rtm, protocol_id):
    status, profile, reg = RtmRegisterEntity(rtm, EntityInfo(0, AF_INET, protocol_id, 1),
                                             None, None, False)
    check(status, "RtmRegisterEntity")
    return reg, profile


def build_table(rip, ospf):
    for reg, gateway, ifindex, preference, routes in (
            (rip, "192.0.2.1", 1, RIP_PREFERENCE, RIP_ROUTES),
            (ospf, "192.0.2.9", 2, OSPF_PREFERENCE, OSPF_ROUTES)):
        nh_info = NextHopInfo(next_hop_address=RTM_IPV4_MAKE_NET_ADDRESS(gateway, 32),
                              interface_index=ifindex)
        status, next_hop, _ = RtmAddNextHop(reg, nh_info, NEW_HANDLE)
        check(status, "RtmAddNextHop")
        for address, length, metric, views in routes:
            route_info = RouteInfo(neighbour=next_hop, next_hops=[next_hop], metric=metric,
                                   preference=preference, belongs_to_views=views)
            # NULL route handle: find-or-create, no handle wanted back
            status, _, _ = RtmAddRouteToDest(reg, None,
                                             RTM_IPV4_MAKE_NET_ADDRESS(address, length),
                                             route_info, INFINITE, None, 0, None, 0)
            check(status, "RtmAddRouteToDest")
        # the routes took their own references on the next hop
        check(RtmReleaseNextHops(reg, 1, [next_hop]), "RtmReleaseNextHops")


def route_text(reg, route, names):
    """Owner, preference, metric and views of a route, and its destination."""
    status, info, dest_address = RtmGetRouteInfo(reg, route, True, True)
    check(status, "RtmGetRouteInfo")
    text = (f"{names[info.route_owner]} preference {info.preference} metric {info.metric} "
            f"views {info.belongs_to_views:#x}")
    check(RtmReleaseRouteInfo(reg, info), "RtmReleaseRouteInfo")
    return dest_address, text


def enumerate_destinations(reg, profile, names):
    """The "enumerate all destinations" sample: the subtree of 0/0 (the whole
    table; RTM_ENUM_START would do the same) in the unicast and multicast
    views, reporting the best route of any protocol."""
    status, enum = RtmCreateDestEnum(reg, UCAST_MCAST, RTM_ENUM_RANGE,
                                     RTM_IPV4_MAKE_NET_ADDRESS("0.0.0.0", 0), RTM_BEST_PROTOCOL)
    check(status, "RtmCreateDestEnum")
    count = batches = 0
    while True:
        status, num_dests, dest_infos = RtmGetEnumDests(reg, enum, profile.max_handles_in_enum)
        check(status, "RtmGetEnumDests", ERROR_NO_MORE_ITEMS)
        batches += 1
        print(f"batch {batches}: {num_dests} destinations, status {STATUS_NAMES[status]}")
        for dest in dest_infos[:num_dests]:
            count += 1
            # per-view information comes in ascending view id: unicast first
            unicast, multicast = dest.view_info
            expect(unicast.view_id == RTM_VIEW_ID_UCAST and
                   multicast.view_id == RTM_VIEW_ID_MCAST, "view order")
            line = f"destination {dest.dest_address}:"
            if unicast.route:
                line += (f" unicast best {route_text(reg, unicast.route, names)[1]}"
                         f" (routes in the unicast view: {unicast.num_routes})")
            if multicast.route:
                line += f" multicast best {route_text(reg, multicast.route, names)[1]}"
            print(line)
        check(RtmReleaseDests(reg, num_dests, dest_infos), "RtmReleaseDests")
        if status != NO_ERROR:                  # ERROR_NO_MORE_ITEMS: that was the last batch
            break
    check(RtmDeleteEnumHandle(reg, enum), "RtmDeleteEnumHandle")
    print(f"enumerated {count} destinations in {batches} batches of at most "
          f"{profile.max_handles_in_enum}")
    return count


def enumerate_routes(reg, profile, names, enum_flags):
    """The "enumerate all routes" sample over the whole table (NULL destination
    handle), every route or only the caller's (RTM_ENUM_OWN_ROUTES)."""
    status, enum = RtmCreateRouteEnum(reg, None, UCAST_MCAST, RTM_ENUM_START | enum_flags, None,
                                      RTM_MATCH_NONE, None, 0)
    check(status, "RtmCreateRouteEnum")
    count = 0
    while True:
        status, num_routes, route_handles = RtmGetEnumRoutes(reg, enum,
                                                             profile.max_handles_in_enum)
        check(status, "RtmGetEnumRoutes", ERROR_NO_MORE_ITEMS)
        for route in route_handles[:num_routes]:
            count += 1
            dest_address, text = route_text(reg, route, names)
            print(f"route {count}: {dest_address} {text}")
        check(RtmReleaseRoutes(reg, num_routes, route_handles), "RtmReleaseRoutes")
        if status != NO_ERROR:
            break
    check(RtmDeleteEnumHandle(reg, enum), "RtmDeleteEnumHandle")
    return count


def enumerate_next_hops(reg, profile):
    """The caller's own next hops, by address."""
    status, enum = RtmCreateNextHopEnum(reg, RTM_ENUM_START, None)
    check(status, "RtmCreateNextHopEnum")
    count = 0
    while True:
        status, num, next_hops = RtmGetEnumNextHops(reg, enum, profile.max_handles_in_enum)
        check(status, "RtmGetEnumNextHops", ERROR_NO_MORE_ITEMS)
        for next_hop in next_hops[:num]:
            count += 1
            s, info = RtmGetNextHopInfo(reg, next_hop)
            check(s, "RtmGetNextHopInfo")
            print(f"next hop {count}: {info.next_hop_address} interface {info.interface_index}")
            check(RtmReleaseNextHopInfo(reg, info), "RtmReleaseNextHopInfo")
        check(RtmReleaseNextHops(reg, num, next_hops), "RtmReleaseNextHops")
        if status != NO_ERROR:
            break
    check(RtmDeleteEnumHandle(reg, enum), "RtmDeleteEnumHandle")
    return count


def run() -> None:
    rtm = RoutingTableManager(instance_id=0, max_handles_in_enum=4)
    rip, profile = register(rtm, PROTO_IP_RIP)
    ospf, _ = register(rtm, PROTO_IP_OSPF)
    names = {rip.handle: "RIP", ospf.handle: "OSPF"}
    build_table(rip, ospf)
    dests, routes = rtm.counts(4)
    print(f"table: {dests} destinations, {routes} routes")

    print("-- enumerate all destinations (as RIP) --")
    count = enumerate_destinations(rip, profile, names)
    expect(count == dests, f"{count} destinations enumerated, {dests} in the table")

    print("-- enumerate all routes of our own (as RIP) --")
    own = enumerate_routes(rip, profile, names, RTM_ENUM_OWN_ROUTES)
    print(f"route enumeration: {own} routes of our own")
    expect(own == len(RIP_ROUTES), f"RIP owns {len(RIP_ROUTES)} routes, got {own}")

    print("-- enumerate all routes (as OSPF) --")
    every = enumerate_routes(ospf, profile, names, RTM_ENUM_ALL_ROUTES)
    print(f"route enumeration: {every} routes in all")
    expect(every == routes, f"{every} routes enumerated, {routes} in the table")

    print("-- enumerate our next hops (as OSPF) --")
    expect(enumerate_next_hops(ospf, profile) == 1, "OSPF has one next hop")

    # Everything handed out was released: deregistering leaves nothing behind.
    check(RtmDeregisterEntity(rip), "RtmDeregisterEntity")
    check(RtmDeregisterEntity(ospf), "RtmDeregisterEntity")
    dests, routes = rtm.counts(4)
    print(f"table after deregistration: {dests} destinations, {routes} routes")
    expect((dests, routes) == (0, 0), "objects left behind")


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
