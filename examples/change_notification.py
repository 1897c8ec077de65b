"""Receive change notifications with the Pythonic API (spec 1.11, 2.9, 3.3).

The RTMv2 pattern for a client that follows the best routes (the router
manager feeding the forwarder does this on the unicast view):

1. register the entity with an event callback;
2. register for change notification (here: unicast view, forwarding changes);
3. the callback does no work itself: on ``RTM_CHANGE_NOTIFICATION`` it only
   signals that the registration has changes waiting (rtmcore calls it when
   the registration's queue goes from empty to non-empty, decision U18);
4. a processing loop, run when signalled, calls ``get_changed_dests`` until
   it returns nothing, handles each destination's *current* information and
   releases every batch with ``release_changed_dests``;
5. at the end: deregister the notification, release and delete everything.

A routing protocol (RIP) makes the changes: it adds three routes, changes the
metric of one and withdraws another; later it withdraws one more.

Run it with ``python examples/change_notification.py``; it exits with status 1
if anything fails.
"""
import os
import sys
import threading

try:
    import rtmcore
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    import rtmcore

from rtmcore import (ERROR_NOT_SUPPORTED, NO_ERROR, PROTO_IP_NETMGMT, PROTO_IP_RIP,
                     RTM_CHANGE_NOTIFICATION, RTM_CHANGE_TYPE_FORWARDING, RTM_VIEW_ID_UCAST,
                     RTM_VIEW_MASK_UCAST, RtmError)

BATCH = 2          # destinations per get_changed_dests call (at most max_handles_in_enum)


class CheckFailed(Exception):
    pass


def expect(condition, what):
    """A check that, unlike ``assert``, also runs under ``python -O``."""
    if not condition:
        raise CheckFailed(what)


class ChangeSignal:
    """What the event callback sets: 'this registration has changes waiting'."""

    def __init__(self):
        self.event = threading.Event()
        self.times = 0

    def callback(self, entity_handle, event_type, context1, context2):
        # Context1 = the notify handle, Context2 = the context given at
        # registration.  No RTM calls here: just signal, as the RTMv2 samples do.
        if event_type == RTM_CHANGE_NOTIFICATION:
            self.times += 1
            self.event.set()
            return NO_ERROR
        return ERROR_NOT_SUPPORTED


def describe(client, info):
    """One line for a changed destination, from its current information."""
    route = info.best(RTM_VIEW_ID_UCAST)
    if not route:
        return f"  {info.prefix}: withdrawn"
    route_info, _ = client.get_route_info(route)
    hops = []
    for nh in route_info.next_hops:
        nh_info = client.get_next_hop_info(nh)
        hops.append(str(nh_info.next_hop_address.address))
        client.release_next_hop_info(nh_info)
    line = (f"  {info.prefix}: best route metric {route_info.metric} via "
            f"{', '.join(hops) or 'no next hop'}")
    client.release_route_info(route_info)
    return line


def process_changes(client, notify, signal):
    """The processing loop: take changed destinations until none is left.

    The signal is cleared *before* the queue is emptied: a change made after
    the last (empty) call makes the queue non-empty again, and so calls the
    callback again; nothing can be missed."""
    signal.event.clear()
    n_dests = n_batches = 0
    while True:
        infos = client.get_changed_dests(notify, BATCH)
        if not infos:
            break
        n_batches += 1
        for info in infos:
            print(describe(client, info))
        client.release_changed_dests(notify, infos)      # only this releases them
        n_dests += len(infos)
    print(f"retrieved {n_dests} changed destination(s) in {n_batches} batch(es)")
    return n_dests


def run() -> None:
    rtm = rtmcore.RoutingTableManager()

    # 1-2. The client that follows the forwarding state, and its registration.
    signal = ChangeSignal()
    manager = rtm.register_entity(PROTO_IP_NETMGMT, event_callback=signal.callback)
    notify = manager.register_for_change_notification(RTM_VIEW_MASK_UCAST,
                                                      RTM_CHANGE_TYPE_FORWARDING,
                                                      context="unicast forwarding")
    print(f"registered {manager}, notify handle {notify:#x}")

    # A routing protocol changes the table.
    rip = rtm.register_entity(PROTO_IP_RIP)
    nh, _ = rip.add_next_hop("192.0.2.1", interface_index=1)
    for prefix in ("10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"):
        rip.add_route_to_dest(prefix, next_hops=nh, neighbour=nh, metric=2)
    kept, _ = rip.add_route_to_dest("10.1.0.0/16", next_hops=nh, neighbour=nh, metric=3,
                                    return_handle=True)
    withdrawn, _ = rip.add_route_to_dest("10.2.0.0/16", next_hops=nh, neighbour=nh, metric=2,
                                         return_handle=True)
    rip.delete_route_to_dest(withdrawn)
    print(f"RIP made 5 changes; signalled {signal.times} time(s)")
    expect(signal.times == 1, "the callback is called once, when the queue fills")

    # 3-4. Signalled: process everything that is waiting.
    expect(signal.event.is_set(), "the callback did not signal")
    n = process_changes(manager, notify, signal)
    expect(n == 3, "five changes of three destinations coalesce into three entries")
    expect(manager.get_changed_dests(notify) == [], "the queue is empty after the loop")

    # A later change signals again.
    gone, _ = rip.add_route_to_dest("10.3.0.0/16", next_hops=nh, neighbour=nh, metric=2,
                                    return_handle=True)
    rip.delete_route_to_dest(gone)
    print(f"RIP withdrew 10.3.0.0/16; signalled {signal.times} time(s) in all")
    expect(signal.times == 2 and signal.event.is_set(), "the second change was not signalled")
    expect(process_changes(manager, notify, signal) == 1, "one destination changed")

    # 5. Clean up: the notification, RIP's state, both entities.
    manager.deregister_from_change_notification(notify)
    rip.delete_route_to_dest(kept)                # consumes the handle's reference
    rip.delete_next_hop(nh)
    rip.deregister_entity()
    manager.deregister_entity()
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
