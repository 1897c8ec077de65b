"""Add a route and update it with the Pythonic API (spec 2.5, "add and update routes").

The same steps as ``add_route.py``, written with :class:`rtmcore.RoutingTableManager`
and :class:`rtmcore.Entity`: failures raise :class:`rtmcore.RtmError`
subclasses (the Win32 status is in ``.winerror``) instead of returning codes.

1. register a RIP entity;
2. add a next hop and keep a referenced handle to it;
3. fill a route info: neighbour, metric (preference left alone: "preference
   set internally" in the C sample), unicast view, one next hop;
4. add the route to 10.1.0.0/16 and keep a referenced handle to it;
5. update the route through that handle;
6. read the route back;
7. release every handle and info structure, delete the next hop, deregister.

Run it with ``python examples/add_route_pythonic.py``; it exits with status 1
if anything fails.
"""
import os
import sys

try:
    import rtmcore
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    import rtmcore

from rtmcore import (PROTO_IP_RIP, PROTO_TYPE_UCAST, PROTOCOL_ID, RTM_ROUTE_CHANGE_BEST,
                     RTM_ROUTE_CHANGE_NEW, RTM_VIEW_MASK_UCAST, RouteInfo, RtmError)

# A vendor id of our own (the RTMv2 samples use a private one too).
EXAMPLE_VENDOR_ID = 0x3FF0


class CheckFailed(Exception):
    pass


def expect(condition, what):
    """A check that, unlike ``assert``, also runs under ``python -O``."""
    if not condition:
        raise CheckFailed(what)


def flag_names(flags):
    names = [n for n, v in (("NEW", RTM_ROUTE_CHANGE_NEW), ("BEST", RTM_ROUTE_CHANGE_BEST))
             if flags & v]
    return "|".join(names) or "0"


def run() -> None:
    rtm = rtmcore.RoutingTableManager(instance_id=0)

    # 1. Register (address family defaults to IPv4).
    rip = rtm.register_entity(PROTO_IP_RIP,
                              PROTOCOL_ID(PROTO_TYPE_UCAST, EXAMPLE_VENDOR_ID, PROTO_IP_RIP))
    p = rip.profile
    print(f"registered {rip}")
    print(f"  profile: max_next_hops_in_route={p.max_next_hops_in_route} "
          f"max_handles_in_enum={p.max_handles_in_enum} views_supported={p.views_supported:#x} "
          f"number_of_views={p.number_of_views}")

    # 2. A next hop: 192.0.2.1 on interface 1; the handle carries a reference.
    next_hop, nh_flags = rip.add_next_hop("192.0.2.1", interface_index=1)
    created = bool(nh_flags & rtmcore.RTM_NEXTHOP_CHANGE_NEW)
    print(f"next hop {next_hop:#x} added, created: {created}")

    # 3. The route: learnt from that neighbour, metric 3.  The preference is not
    #    filled in; rtmcore takes it as given (decision U9), so it stays 0.
    route_info = RouteInfo(neighbour=next_hop, metric=3, belongs_to_views=RTM_VIEW_MASK_UCAST,
                           next_hops=[next_hop])

    # 4. Add it and ask for a (referenced) handle.
    route, change_flags = rip.add_route_to_dest("10.1.0.0/16", route_info, return_handle=True)
    print(f"route {route:#x} added to 10.1.0.0/16, change flags {flag_names(change_flags)}")
    expect(change_flags == RTM_ROUTE_CHANGE_NEW | RTM_ROUTE_CHANGE_BEST,
           "a new, only route must come back NEW and BEST")

    # 5. New metric from the neighbour: update through the handle (no search).
    route_info.metric = 5
    _, change_flags = rip.add_route_to_dest("10.1.0.0/16", route_info, route=route)
    print(f"route {route:#x} updated, change flags {flag_names(change_flags)}")
    expect(not change_flags & RTM_ROUTE_CHANGE_NEW, "an update must not create a route")

    # 6. Read it back (the info holds references until released).
    stored, dest_address = rip.get_route_info(route)
    print(f"  {dest_address}: metric {stored.metric}, preference {stored.preference}, "
          f"views {stored.belongs_to_views:#x}, next hops {stored.num_next_hops}")
    expect((str(dest_address), stored.metric) == ("10.1.0.0/16", 5),
           "the route read back is not the one written")
    print(f"  best in views {rip.is_best_route(route):#x}")

    # 7. Release, delete the next hop (consumes its handle), deregister.
    rip.release_route_info(stored)
    rip.release_routes([route])
    rip.delete_next_hop(next_hop)
    rip.deregister_entity()
    print("released the route info and the route handle, deleted the next hop, deregistered")

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
