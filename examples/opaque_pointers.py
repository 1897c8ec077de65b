"""Keep private per-destination information in an opaque pointer (spec 1.14, 2.2; the RTMv2
"access the opaque pointer in a destination" sample), with the Pythonic API.

An entity that registers with ``reserve_opaque_pointer=True`` owns one slot in every
destination.  The sample's steps:

1. lock the destination exclusively (a reader would use a shared lock);
2. get the entity's slot in it (``get_opaque_information_pointer``);
3. if the slot is still empty, store a fresh information block in it;
   otherwise update the block that is there;
4. unlock the destination (``with`` does it here).

Then what rtmcore adds to the picture: slots are private to their entity, their
number is limited by the manager option ``max_opaque_pointers`` (rtmcore's own
default: 8), and a slot lives as long as its destination.

Run it with ``python examples/opaque_pointers.py``; it exits with status 1 if
anything fails.
"""
import os
import sys
from dataclasses import dataclass

try:
    import rtmcore
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    import rtmcore

from rtmcore import (PROTO_IP_OSPF, PROTO_IP_RIP, InvalidHandle, NoSystemResources, NotFound,
                     RtmError, extras)

extras.install(rtmcore.Entity, rtmcore.RoutingTableManager)  # idempotent: wires in the extras

NAMES = {PROTO_IP_RIP: "RIP", PROTO_IP_OSPF: "OSPF"}


class CheckFailed(Exception):
    pass


def expect(condition, what):
    """A check that, unlike ``assert``, also runs under ``python -O``."""
    if not condition:
        raise CheckFailed(what)


@dataclass
class OpaqueInfo:
    """The entity's private information block (``OPAQUE_INFO`` in the C sample)."""

    info1: int
    info2: int


def update_opaque_info(entity, dest):
    """Steps 1-4 of the sample; returns the block now in the slot."""
    with entity.lock_destination(dest, exclusive=True):      # 1. (and 4. on leaving)
        slot = entity.get_opaque_information_pointer(dest)   # 2.
        if slot.value is None:                               # 3. nothing stored yet
            slot.value = OpaqueInfo(info1=1, info2=2)
            print(f"  {NAMES[entity.info.entity_protocol_id]}: stored {slot.value}")
        else:                                                # 3. already there: update it
            slot.value.info1, slot.value.info2 = 3, 4
            print(f"  {NAMES[entity.info.entity_protocol_id]}: updated to {slot.value}")
        return slot.value


def read_opaque_info(entity, dest):
    """A reader takes the destination lock in shared mode."""
    with entity.lock_destination(dest, exclusive=False):
        return entity.get_opaque_information_pointer(dest).value


def run() -> None:
    rtm = rtmcore.RoutingTableManager(max_opaque_pointers=2)
    rip = rtm.register_entity(PROTO_IP_RIP, 1, reserve_opaque_pointer=True)
    ospf = rtm.register_entity(PROTO_IP_OSPF, 1, reserve_opaque_pointer=True)
    print(f"registered RIP and OSPF, each with an opaque pointer "
          f"(max_opaque_pointers={rtm.max_opaque_pointers})")

    nh, _ = rip.add_next_hop("192.0.2.1", interface_index=1)
    route, _ = rip.add_route_to_dest("10.1.0.0/16", next_hops=nh, metric=1, return_handle=True)
    dest = rip.search_exact("10.1.0.0/16").dest_handle

    # The sample, twice: the first call creates the block, the second updates it.
    first = update_opaque_info(rip, dest)
    expect(first == OpaqueInfo(1, 2), "first call must create the block")
    second = update_opaque_info(rip, dest)
    expect(second == OpaqueInfo(3, 4), "second call must update the block")
    print(f"RIP reads back {read_opaque_info(rip, dest)}")

    # The slot is private: OSPF has its own, still empty, in the same destination.
    expect(read_opaque_info(ospf, dest) is None, "OSPF must not see RIP's slot")
    update_opaque_info(ospf, dest)
    print(f"OSPF's slot: {read_opaque_info(ospf, dest)}; RIP's: {read_opaque_info(rip, dest)}")

    # An entity that reserved no slot gets NotFound (ERROR_NOT_FOUND) ...
    bgp = rtm.register_entity(rtmcore.PROTO_IP_BGP)
    try:
        bgp.get_opaque_information_pointer(dest)
        raise CheckFailed("BGP reserved no slot")
    except NotFound as exc:
        print(f"BGP without a reservation: NotFound (status {exc.winerror})")
    # ... and the manager hands out at most max_opaque_pointers reservations.
    try:
        rtm.register_entity(rtmcore.PROTO_IP_BGP, 2, reserve_opaque_pointer=True)
        raise CheckFailed("a third reservation must fail")
    except NoSystemResources as exc:
        print(f"a third reservation: NoSystemResources (status {exc.winerror})")

    # A slot lives as long as its destination.
    slot = rip.get_opaque_information_pointer(dest)
    rip.delete_route_to_dest(route)                          # the last route: dest goes
    try:
        _ = slot.value
        raise CheckFailed("the destination is gone")
    except InvalidHandle:
        print("after the last route went, the old slot is invalid")
    rip.add_route_to_dest("10.1.0.0/16", next_hops=nh, metric=1)
    dest = rip.search_exact("10.1.0.0/16").dest_handle
    expect(read_opaque_info(rip, dest) is None, "a new destination starts with an empty slot")
    print("the re-created destination starts with an empty slot")

    rip.release_next_hops([nh])
    for entity in (bgp, ospf, rip):
        entity.deregister_entity()
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
