"""Enumerate destinations and routes with the Pythonic API (spec 1.12, 2.8).

The two RTMv2 sample procedures "enumerate all destinations" and "enumerate
all routes", written with :class:`rtmcore.Entity`.  Every enumeration follows
the same pattern:

1. create the enumeration (``create_dest_enum`` / ``create_route_enum``) with
   its criteria: a range of destinations, the views, whose routes;
2. get batches (at most ``profile.max_handles_in_enum`` items each) until an
   empty batch comes back;
3. process each batch, then release it (``release_dests`` /
   ``release_routes``): every handle in it carries a reference;
4. delete the enumeration handle (``delete_enum_handle``).

The table: a RIP and an OSPF entity with overlapping unicast routes (OSPF's
preference is the better one) and a multicast-only route.  The manager is
created with a small ``max_handles_in_enum`` so that the loops really run
through several batches.

Run it with ``python examples/enumerate.py``; it exits with status 1 if a
check fails.
"""
import os
import sys

try:
    import rtmcore
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    import rtmcore

from rtmcore import (PROTO_IP_OSPF, PROTO_IP_RIP, RTM_BEST_PROTOCOL, RTM_ENUM_OWN_ROUTES,
                     RTM_ENUM_RANGE, RTM_VIEW_ID_MCAST, RTM_VIEW_ID_UCAST, RTM_VIEW_MASK_MCAST,
                     RTM_VIEW_MASK_UCAST, RtmError)

UCAST_MCAST = RTM_VIEW_MASK_UCAST | RTM_VIEW_MASK_MCAST

# (prefix, metric, views) of each protocol's routes; preferences as Windows uses them
RIP_PREFERENCE, OSPF_PREFERENCE = 120, 110
RIP_ROUTES = [("10.0.0.0/8", 3, RTM_VIEW_MASK_UCAST), ("10.1.0.0/16", 2, RTM_VIEW_MASK_UCAST),
              ("172.16.0.0/12", 4, UCAST_MCAST), ("192.168.0.0/16", 1, RTM_VIEW_MASK_UCAST),
              ("192.168.1.0/24", 5, RTM_VIEW_MASK_UCAST)]
OSPF_ROUTES = [("10.1.0.0/16", 20, RTM_VIEW_MASK_UCAST), ("10.2.0.0/16", 10, RTM_VIEW_MASK_UCAST),
               ("239.1.0.0/16", 10, RTM_VIEW_MASK_MCAST)]


class CheckFailed(Exception):
    pass


def expect(condition, what):
    """A check that, unlike ``assert``, also runs under ``python -O``."""
    if not condition:
        raise CheckFailed(what)


def build_table(rtm):
    rip = rtm.register_entity(PROTO_IP_RIP, 1)
    ospf = rtm.register_entity(PROTO_IP_OSPF, 1)
    for ent, gateway, ifindex, pref, table in ((rip, "192.0.2.1", 1, RIP_PREFERENCE, RIP_ROUTES),
                                               (ospf, "192.0.2.9", 2, OSPF_PREFERENCE,
                                                OSPF_ROUTES)):
        next_hop, _ = ent.add_next_hop(gateway, interface_index=ifindex)
        for prefix, metric, views in table:
            ent.add_route_to_dest(prefix, next_hops=next_hop, metric=metric, preference=pref,
                                  views=views)
        ent.release_next_hops([next_hop])      # the routes keep their own references
    return rip, ospf


def route_text(ent, route, names):
    """One line about a route: owner, preference, metric, views."""
    info, _ = ent.get_route_info(route)
    text = (f"{names[info.route_owner]} preference {info.preference} metric {info.metric} "
            f"views {info.belongs_to_views:#x}")
    ent.release_route_info(info)
    return text


def enumerate_destinations(ent, names):
    """The "enumerate all destinations" sample: the subtree of 0/0 (the whole
    table; RTM_ENUM_START would do the same) in the unicast and multicast views,
    with the best route of any protocol."""
    max_handles = ent.profile.max_handles_in_enum
    enum = ent.create_dest_enum(UCAST_MCAST, RTM_ENUM_RANGE, "0.0.0.0/0", RTM_BEST_PROTOCOL)
    count = batches = 0
    try:
        while True:
            dest_infos = ent.get_enum_dests(enum, max_handles)
            if not dest_infos:
                break
            batches += 1
            for dest in dest_infos:
                count += 1
                # per-view information comes in ascending view id: unicast first
                unicast, multicast = dest.view_info
                expect(unicast.view_id == RTM_VIEW_ID_UCAST and
                       multicast.view_id == RTM_VIEW_ID_MCAST, "view order")
                line = f"destination {dest.prefix}:"
                if unicast.route:
                    line += (f" unicast best {route_text(ent, unicast.route, names)}"
                             f" (routes in the unicast view: {unicast.num_routes})")
                if multicast.route:
                    line += f" multicast best {route_text(ent, multicast.route, names)}"
                print(line)
                # every route of this destination: a route enumeration over its handle
                routes = enumerate_routes(ent, dest.dest_handle, names, quiet=True)
                print("    routes: " + "; ".join(routes))
            ent.release_dests(dest_infos)
    finally:
        ent.delete_enum_handle(enum)
    print(f"enumerated {count} destinations in {batches} batches of at most {max_handles}")
    return count


def enumerate_routes(ent, dest_handle, names, quiet=False, own=False):
    """The "enumerate all routes" sample: a route enumeration over one
    destination, or with ``dest_handle`` None over the whole table; with
    ``own`` only the caller's routes."""
    max_handles = ent.profile.max_handles_in_enum
    flags = RTM_ENUM_OWN_ROUTES if own else 0
    enum = ent.create_route_enum(dest_handle, UCAST_MCAST, flags)
    texts = []
    try:
        while True:
            route_handles = ent.get_enum_routes(enum, max_handles)
            if not route_handles:
                break
            for route in route_handles:
                texts.append(route_text(ent, route, names))
                if not quiet:
                    info, dest = ent.get_route_info(route)
                    print(f"route {len(texts)}: {dest} {texts[-1]}")
                    ent.release_route_info(info)
            ent.release_routes(route_handles)
    finally:
        ent.delete_enum_handle(enum)
    return texts


def run() -> None:
    rtm = rtmcore.RoutingTableManager(max_handles_in_enum=4)
    rip, ospf = build_table(rtm)
    names = {rip.handle: "RIP", ospf.handle: "OSPF"}
    d, r = rtm.counts(4)
    print(f"table: {d} destinations, {r} routes")

    print("-- enumerate all destinations (as RIP) --")
    count = enumerate_destinations(rip, names)
    expect(count == d, f"{count} destinations enumerated, {d} in the table")

    print("-- enumerate all routes of our own (as RIP) --")
    own = enumerate_routes(rip, None, names, own=True)
    print(f"route enumeration: {len(own)} routes of our own")
    expect(len(own) == len(RIP_ROUTES), f"RIP owns {len(RIP_ROUTES)} routes, got {len(own)}")
    expect(all(t.startswith("RIP ") for t in own), "a route of another entity came back")

    print("-- enumerate all routes (as OSPF) --")
    every = enumerate_routes(ospf, None, names)
    print(f"route enumeration: {len(every)} routes in all")
    expect(len(every) == r, f"{len(every)} routes enumerated, {r} in the table")

    # Everything handed out was released: deregistering leaves nothing behind.
    rip.deregister_entity()
    ospf.deregister_entity()
    d, r = rtm.counts(4)
    print(f"table after deregistration: {d} destinations, {r} routes")
    expect((d, r) == (0, 0), "objects left behind")


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
