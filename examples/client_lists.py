"""Keep routes in client route lists (spec 1.13, 2.10; the RTMv2 "use a
client-specific route list" sample), with the Pythonic API.

1. register a RIP entity and create two route lists;
2. add routes straight into list 1 (``add_route_to_dest(..., route_list=...)``);
3. enumerate list 1 in batches of ``max_handles_in_enum``; move every batch
   into list 2 (a route is in one list at most, so it leaves list 1), release
   the batch, and stop at the first short batch: unlike the table
   enumerations, a list enumeration has no "no more items" status;
4. delete both lists: the routes themselves stay in the table;
5. clean up and check that nothing is left.

Run it with ``python examples/client_lists.py``; it exits with status 1 if
anything fails.
"""
import os
import sys

try:
    import rtmcore
except ImportError:  # running from a source checkout that is not installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    import rtmcore

from rtmcore import PROTO_IP_RIP, RtmError

NUM_ROUTES = 10


class CheckFailed(Exception):
    pass


def expect(condition, what):
    """A check that, unlike ``assert``, also runs under ``python -O``."""
    if not condition:
        raise CheckFailed(what)


def list_routes(ent, route_list):
    """The handles in a list (read with its own enumeration, then released)."""
    enum = ent.create_route_list_enum(route_list)
    out = []
    while True:
        batch = ent.get_list_enum_routes(enum)
        out += batch
        ent.release_routes(batch)
        if len(batch) < ent.profile.max_handles_in_enum:
            break
    ent.delete_enum_handle(enum)
    return out


def run() -> None:
    # A small MaxHandlesInEnum so that the enumeration takes several batches.
    rtm = rtmcore.RoutingTableManager(max_handles_in_enum=4)
    ent = rtm.register_entity(PROTO_IP_RIP, 1)
    max_handles = ent.profile.max_handles_in_enum
    print(f"registered {ent}, max_handles_in_enum={max_handles}")

    # 1. Two lists of our own.
    list1 = ent.create_route_list()
    list2 = ent.create_route_list()
    print(f"created route lists {list1:#x} and {list2:#x}")

    # 2. Routes go into list 1 as they are added.
    next_hop, _ = ent.add_next_hop("192.0.2.1", interface_index=1)
    added = []
    for i in range(NUM_ROUTES):
        route, _ = ent.add_route_to_dest(f"10.{i}.0.0/16", neighbour=next_hop,
                                         next_hops=next_hop, metric=1 + i, route_list=list1,
                                         return_handle=True)
        added.append(route)
    ent.release_routes(added)          # the list does not need our references
    print(f"added {NUM_ROUTES} routes into list 1")

    # 3. Walk list 1, moving every batch into list 2.
    enum = ent.create_route_list_enum(list1)
    moved, batch_no = [], 0
    while True:
        batch = ent.get_list_enum_routes(enum, max_handles)
        batch_no += 1
        print(f"batch {batch_no}: {len(batch)} routes")
        for i, route in enumerate(batch):
            info, dest = ent.get_route_info(route)
            print(f"  route handle {i}: {route:#x} {dest} metric {info.metric}")
            ent.release_route_info(info)
        ent.insert_in_route_list(list2, batch)    # they leave list 1
        ent.release_routes(batch)
        moved += batch
        if len(batch) != max_handles:
            break
    ent.delete_enum_handle(enum)
    print(f"moved {len(moved)} routes from list 1 to list 2")
    expect(moved == added, "every route once, in list order")

    in1, in2 = list_routes(ent, list1), list_routes(ent, list2)
    print(f"list 1 now holds {len(in1)} routes, list 2 holds {len(in2)} routes")
    expect(in1 == [] and in2 == added, "the routes must all be in list 2 now")

    # 4. Delete the lists; the routes stay.
    ent.delete_route_list(list1)
    ent.delete_route_list(list2)
    dests, routes = rtm.counts()
    print(f"routes kept after deleting the lists: {routes}")
    expect(routes == NUM_ROUTES, "deleting a list must not delete its routes")

    # 5. Clean up.
    ent.release_next_hops([next_hop])
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
