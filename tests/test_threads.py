"""The manager is safe to use from several threads: every call holds the
manager lock (bulk loops keep it while they release the GIL)."""
import threading

import numpy as np

import rtmcore


def test_bulk_and_per_call_threads_keep_the_table_consistent():
    rtm = rtmcore.RoutingTableManager()
    bgp = rtm.register_entity(rtmcore.PROTO_IP_BGP)
    rip = rtm.register_entity(rtmcore.PROTO_IP_RIP)
    nb, _ = bgp.add_next_hop("192.0.2.1")
    nr, _ = rip.add_next_hop("192.0.2.2")
    rng = np.random.default_rng(7)
    addrs = (rng.integers(0, 2**24, 50_000, dtype=np.uint64) << np.uint64(8)).astype(np.uint32)
    addrs = np.unique(addrs)
    errors = []

    def bulk():
        try:
            for metric in range(5):
                bgp.add_routes(addrs, 24, next_hop=nb, metric=metric)
                bgp.lookup(addrs[:1000])
            bgp.delete_routes(addrs[::2], 24)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def per_call():
        try:
            for i, a in enumerate(addrs[:3000].tolist()):
                rip.add_route_to_dest((a, 24), next_hops=nr, metric=i % 7)
                rip.search_best((a, 32))
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=bulk), threading.Thread(target=per_call)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rtm.check_invariants()
    dests, routes = rtm.counts(4)
    gone = set(addrs[::2].tolist()) - set(addrs[:3000].tolist())
    assert dests == len(addrs) - len(gone)
    assert routes == len(addrs) - len(addrs[::2]) + 3000
    # every RIP route is best where it is alone, and loses nothing it should not
    hits = rip.lookup(addrs[:3000])
    assert (hits.length == 24).all()


def test_a_holder_that_sleeps_keeps_every_waiter_out():
    """Several threads wait for the manager lock at once while its holder has
    released the GIL: none gets in until the holder is done, and every call
    they were making completes afterwards."""
    import time
    rtm = rtmcore.RoutingTableManager()
    writers = [rtm.register_entity(rtmcore.PROTO_IP_RIP, i) for i in range(3)]
    per_writer = 400
    stop = threading.Event()
    seen_inside = []
    errors = []

    def holder():
        try:
            for _ in range(15):
                with rtm.core:                      # the manager lock, re-entrant
                    before = rtm.counts(4)
                    time.sleep(0.004)               # the GIL goes to the waiters
                    seen_inside.append(rtm.counts(4) == before)
                time.sleep(0.001)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            stop.set()

    def writer(k, ent):
        try:
            for i in range(per_writer):
                ent.add_route_to_dest(((10 << 24) | (k << 16) | (i << 4), 28), metric=i)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=holder)] + [
        threading.Thread(target=writer, args=(k, e)) for k, e in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert seen_inside and all(seen_inside)
    assert rtm.counts(4) == (3 * per_writer, 3 * per_writer)
    rtm.check_invariants()


def test_every_public_entity_method_takes_the_manager_lock():
    """The facade's own methods are wrapped in the lock (the per-call ones
    of the engine take it themselves)."""
    import inspect

    from rtmcore.manager import Entity
    unlocked = [name for name, fn in vars(Entity).items()
                if not name.startswith("_") and inspect.isfunction(fn)
                and not inspect.isgeneratorfunction(fn) and not hasattr(fn, "__wrapped__")]
    assert unlocked == []
    assert "add_routes" in vars(Entity) and "lookup" in vars(Entity)


def test_a_bulk_call_waits_while_another_thread_holds_the_lock():
    import time
    rtm = rtmcore.RoutingTableManager()
    ent = rtm.register_entity(rtmcore.PROTO_IP_BGP)
    addrs = np.arange(1000, dtype=np.uint32) << np.uint32(8)
    done = threading.Event()

    def bulk():
        ent.add_routes(addrs, 24, metric=1)
        done.set()

    with rtm.core:
        t = threading.Thread(target=bulk)
        t.start()
        time.sleep(0.2)                 # the GIL goes to the bulk thread, which must wait
        assert not done.is_set()
        assert rtm.counts(4) == (0, 0)
    t.join()
    assert rtm.counts(4) == (1000, 1000)
