"""Handle route expiry in the owner's event callback (spec 1.10, 3.3; the RTMv2
route-expiry handler sample), with a virtual clock and the Pythonic API.

A RIP entity adds routes with a time to live.  When a timer fires, the manager
calls the route owner's event callback with ``RTM_ROUTE_EXPIRED``, the route
handle (holding a reference) and the route's information:

* the handler keeps routes it wants to advertise as unreachable for a while:
  it updates the route in place (metric 16, time to live ``INFINITE``),
  releases the handle it was given and returns ``NO_ERROR``;
* for every other route it returns ``ERROR_NOT_SUPPORTED`` and the manager
  deletes the route itself (the reference it passed is then consumed).

The :class:`rtmcore.VirtualClock` makes the run deterministic: nothing expires
until the clock is advanced, and each expiry fires at its own instant.

Run it with ``python examples/route_expiry.py``; it exits with status 1 if
anything fails.
"""
import os
import sys

try:
    import rtmcore
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    import rtmcore

from rtmcore import (
    ERROR_NOT_SUPPORTED,
    INFINITE,
    NO_ERROR,
    PROTO_IP_RIP,
    RTM_CHANGE_NOTIFICATION,
    RTM_CHANGE_TYPE_BEST,
    RTM_ROUTE_EXPIRED,
    RTM_ROUTE_STATE_CREATED,
    RTM_VIEW_ID_UCAST,
    RTM_VIEW_MASK_UCAST,
    RtmError,
)

METRIC_UNREACHABLE = 16        # RIP's "infinity"
KEEP_WHEN_EXPIRED = 1          # our marker in entity_specific_info


class CheckFailed(Exception):
    pass


def expect(condition, what):
    """A check that, unlike ``assert``, also runs under ``python -O``."""
    if not condition:
        raise CheckFailed(what)


class RipClient:
    """The entity's state and its event callback."""

    def __init__(self, rtm, clock):
        self.clock = clock
        self.expired = []
        self.notify = None
        self.entity = rtm.register_entity(PROTO_IP_RIP, 1, event_callback=self.on_event)

    def on_event(self, entity_handle, event_type, context1, context2):
        if event_type == RTM_CHANGE_NOTIFICATION:
            self.drain_changes()
            return NO_ERROR
        if event_type != RTM_ROUTE_EXPIRED:
            return ERROR_NOT_SUPPORTED
        route, info = context1, context2          # the handle carries a reference
        _, dest = self.entity.get_route_info(route)
        self.entity.release_route_info(_)
        self.expired.append((self.clock.now(), str(dest)))
        if info.entity_specific_info != KEEP_WHEN_EXPIRED:
            print(f"t={self.clock.now()} ms: route to {dest} aged out; "
                  "returning ERROR_NOT_SUPPORTED, the manager deletes it")
            return ERROR_NOT_SUPPORTED            # the manager deletes it and the reference
        # Handled here: keep the route, now unreachable, for ever.  The copy of
        # the route information carries no references; edit it and write it back.
        print(f"t={self.clock.now()} ms: route to {dest} aged out; "
              f"keeping it with metric {METRIC_UNREACHABLE}")
        edited = info.copy()
        edited.metric = METRIC_UNREACHABLE
        self.entity.add_route_to_dest(dest, edited, route=route, time_to_live=INFINITE)
        self.entity.release_routes([route])       # not returning ERROR_NOT_SUPPORTED: release
        return NO_ERROR

    def drain_changes(self):
        while True:
            infos = self.entity.get_changed_dests(self.notify)
            if not infos:
                return
            for d in infos:
                best = d.best(RTM_VIEW_ID_UCAST)
                print(f"    change: {d.prefix} " + ("has a best route" if best else
                                                    "has no route left"))
            self.entity.release_changed_dests(self.notify, infos)


def run() -> None:
    clock = rtmcore.VirtualClock(0)
    rtm = rtmcore.RoutingTableManager(clock=clock)
    rip = RipClient(rtm, clock)
    ent = rip.entity
    rip.notify = ent.register_for_change_notification(RTM_VIEW_MASK_UCAST, RTM_CHANGE_TYPE_BEST)
    print(f"registered {ent}")

    next_hop, _ = ent.add_next_hop("192.0.2.1", interface_index=1)
    kept, _ = ent.add_route_to_dest("10.1.0.0/16", neighbour=next_hop, next_hops=next_hop,
                                    metric=2, time_to_live=30_000,
                                    entity_specific_info=KEEP_WHEN_EXPIRED, return_handle=True)
    dropped, _ = ent.add_route_to_dest("10.2.0.0/16", neighbour=next_hop, next_hops=next_hop,
                                       metric=3, time_to_live=45_000, return_handle=True)
    ent.add_route_to_dest("10.3.0.0/16", neighbour=next_hop, next_hops=next_hop, metric=1)
    rip.drain_changes()
    for h in (kept, dropped):
        info, dest = ent.get_route_info(h)
        print(f"route to {dest}: metric {info.metric}, expires at t={ent.get_route_expiry(h)} ms")
        ent.release_route_info(info)

    clock.advance(29_999)
    print(f"t={clock.now()} ms: {rtm.counts()[1]} routes, no expiry yet")
    expect(rip.expired == [], "nothing may expire before its time")

    clock.advance(1)
    info, _ = ent.get_route_info(kept)
    print(f"route to 10.1.0.0/16 now: metric {info.metric}, expiry {ent.get_route_expiry(kept)}")
    expect(info.metric == METRIC_UNREACHABLE and info.state == RTM_ROUTE_STATE_CREATED,
           "the handled route must stay, unreachable")
    ent.release_route_info(info)

    clock.advance(15_000)
    info, _ = ent.get_route_info(dropped)
    print(f"route to 10.2.0.0/16 now: state {'DELETED' if info.state else 'CREATED'}")
    expect(info.state != RTM_ROUTE_STATE_CREATED, "the unhandled route must be deleted")
    ent.release_route_info(info)
    ent.release_routes([dropped])             # our last reference: the record goes

    clock.advance(10 ** 7)
    expect(rip.expired == [(30_000, "10.1.0.0/16"), (45_000, "10.2.0.0/16")],
           f"unexpected expiries {rip.expired}")
    dests, routes = rtm.counts()
    print(f"after a long time: {dests} destinations, {routes} routes")
    expect((dests, routes) == (2, 2), "10.1.0.0/16 (unreachable) and 10.3.0.0/16 must remain")

    ent.release_routes([kept])
    ent.release_next_hops([next_hop])
    ent.deregister_from_change_notification(rip.notify)
    ent.deregister_entity()
    dests, routes = rtm.counts()
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
