"""The real manager against the reference model, part two: change
notification, enumerations, route lists, hold-down and route expiry.

:class:`RtmMachine` extends the table machine of ``tests/test_stateful.py``
(every rule and comparison of that machine still runs) with a manager on a
:class:`rtmcore.VirtualClock`, event callbacks on two of the three entities,
small limits (``max_handles_in_enum``, ``max_notifications``) so that batches
end inside the table and the registration limit is reached, and these rules:

* change notification (spec 1.11, 2.9): registrations with target views,
  change types and only-marked scope; mark / unmark / is-marked; retrieval in
  batches (Pythonic and ``rtmv2.RtmGetChangedDests`` with its end-of-queue
  status), release, ignore, change status, ``drain_changes``, deregistration;
  the ``RTM_CHANGE_NOTIFICATION`` callbacks (edge-triggered, U18);
* enumerations (1.12, 2.8): destination and route enumerations drained at
  once (contents and prefix order) or left open across table changes and
  continued later (live cursors, U21), with every range, ownership, view,
  protocol and match flag;
* route lists (1.13, 2.10): create, insert (also through
  ``add_route_to_dest``), list enumerations (open across changes), delete;
* hold-down (1.9) and route expiry (1.10): ``hold_destination``, time to
  live on single and bulk adds, ``clock.advance`` with the owner's callback
  deleting (``ERROR_NOT_SUPPORTED``), keeping (any other value) or raising.

Every run starts with three *observer* registrations (ALL, BEST,
FORWARDING over every view); ``best_route_change`` drains them and changes
one field of a best route, so the change-type rules (U17) are checked on
random tables.  Composite rules walk route and list enumerations while the
table and the lists change, and cycle a destination through hold-down.

After every step, besides the table comparisons of the base machine (which
here also cover hold routes in destination infos, hold-only destinations in
view-mask-0 queries and ``last_changed``), it compares each registration's
pending set (count and the status of every destination) and marks, every
route list's contents, every route's expiry time, every destination's
hold-down state, the notification callbacks the step caused, and a full
destination and route enumeration whose criteria rotate from step to step.

Timing: the specification leaves open the order of timers due at the same
instant.  The machine gives every armed route a distinct expiry time; hold
downs ending at one instant are queued in an order the model leaves open
(a *group*, see :mod:`rtmcore._reference`).

The deterministic tests at the end pin cases the machine once found: an
ignored queue entry of a freed destination, taking routes out of lists before
any list exists, and the views a hold-down end is queued in.
"""
from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule
from test_stateful import (
    ALL,
    BOTH,
    FAILED,
    MC,
    PROTOS,
    U,
    V4Machine,
    V6Machine,
    cost,
    ent_st,
    flags_st,
    forge,
    idx,
    mode_st,
    net,
    nh_pick,
    nhs_st,
    pfx_st,
    views_ok,
)

import rtmcore as R
from rtmcore import _reference as M
from rtmcore import rtmv2
from rtmcore.errors import RtmError, error_for_status

MAXH = 4                  # max_handles_in_enum: batches end inside the table
MAXREG = 8                # max_notifications (one is the IPv6 entity's, three observers')
START = 1_000             # the virtual clock's start, ms
CT_ALL, CT_BEST, CT_FWD = R.RTM_CHANGE_TYPE_ALL, R.RTM_CHANGE_TYPE_BEST, R.RTM_CHANGE_TYPE_FORWARDING
MARKED = R.RTM_NOTIFY_ONLY_MARKED_DESTS
NOT_SUPPORTED = R.errors.ERROR_NOT_SUPPORTED

types_st = st.sampled_from([CT_ALL, CT_BEST, CT_FWD, CT_ALL | CT_FWD, CT_BEST | CT_FWD,
                            CT_ALL | CT_BEST | CT_FWD, CT_ALL, CT_BEST, CT_ALL, CT_FWD, 0, 8])
qviews_st = st.sampled_from([ALL, 0, U, MC, BOTH, ALL, 0, U, 4])
batch_st = st.sampled_from([None, 1, 1, 2, 3, MAXH, 0, MAXH + 1])
range_st = st.sampled_from([R.RTM_ENUM_START, R.RTM_ENUM_NEXT, R.RTM_ENUM_RANGE,
                            R.RTM_ENUM_START, R.RTM_ENUM_NEXT, R.RTM_ENUM_RANGE,
                            R.RTM_ENUM_START, R.RTM_ENUM_RANGE, R.RTM_ENUM_RANGE, 3])
match_st = st.sampled_from([R.RTM_MATCH_NONE, R.RTM_MATCH_NONE, R.RTM_MATCH_OWNER,
                            R.RTM_MATCH_NEIGHBOUR, R.RTM_MATCH_PREF, R.RTM_MATCH_NEXTHOP,
                            R.RTM_MATCH_INTERFACE, R.RTM_MATCH_OWNER | R.RTM_MATCH_PREF,
                            R.RTM_MATCH_FULL])
ttl_st = st.one_of(st.sampled_from([0, 1, 10, 50, 100, 200]), st.integers(0, 300))
hold_st = st.sampled_from([40, 120, 300, 1, 40, 120, 0])
plan_st = st.lists(st.sampled_from(["delete", "delete", "keep", "keep", "raise"]), min_size=1,
                   max_size=4)
KEEP_VALUES = [0, None, R.errors.ERROR_INVALID_PARAMETER, 1]   # anything but NOT_SUPPORTED


class CallbackFailure(Exception):
    """Raised by an expiry callback on purpose."""


class RtmMachine(V4Machine):
    """IPv4 (RtmMachine6: IPv6), both views, a virtual clock; see the module docstring."""

    # -- set-up -------------------------------------------------------------------
    def make_tables(self):
        self.notified: list = []          # (entity index, notify handle, context) per callback
        self.expired: list = []           # (entity index, route handle, route info) per callback
        self.plan: list = ["delete"]      # verdicts of the expiry callbacks of an advance
        self.clock = R.VirtualClock(START)
        rtm = R.RoutingTableManager(views=self.VIEWS, max_next_hops_in_route=self.MAX_NH,
                                    max_handles_in_enum=MAXH, max_notifications=MAXREG,
                                    clock=self.clock)
        model = M.Model(self.FAMILY, self.VIEWS, self.MAX_NH, now=START,
                        max_handles_in_enum=MAXH, max_notifications=MAXREG)
        return rtm, model

    def entity_options(self, i: int) -> dict:
        """Entities 0 and 1 have an event callback; entity 2 has none (its
        expired routes are deleted, U16; its registrations are polled)."""
        return {"event_callback": self._callback(i)} if i < 2 else {}

    def _callback(self, i: int):
        def callback(ent_handle, event_type, context1, context2):
            if event_type == R.RTM_CHANGE_NOTIFICATION:
                self.notified.append((i, int(context1), context2))
                return 0
            if event_type == R.RTM_ROUTE_EXPIRED:
                k = len(self.expired)
                self.expired.append((i, int(context1), self.route_tuple(context2),
                                     context2.state))
                what = self.plan[k % len(self.plan)]
                if what == "raise":
                    raise CallbackFailure(f"expiry callback {k}")
                if what == "delete":
                    return NOT_SUPPORTED
                return KEEP_VALUES[k % len(KEEP_VALUES)]
            return 0
        return callback

    def __init__(self):
        super().__init__()
        self.regs: list = []              # live registrations: (handle, model reg, entity index)
        self.dead_regs: list = []         # deregistered: (handle, model reg, entity index)
        self.reg_handle: dict = {}        # id(model reg) -> handle
        self.changed: list = []           # held retrievals: (infos, model infos, handle, reg, e)
        self.lists: list = []             # live route lists: (handle, model list, entity index)
        self.dead_lists: list = []
        self.lists_made = False            # a route list was ever created in the manager
        self.open_enums: list = []        # (handle, model enum, entity index)
        self.dead_enums: list = []
        self.ctx = 0
        self.observers: list = []          # the ALL / BEST / FORWARDING registrations of start
        # an entity of the other family with a registration: it hears nothing
        # of this table, and its registration counts towards the manager's limit
        other = 6 if self.FAMILY == 4 else 4
        self.ent_other = self.rtm.register_entity(
            R.PROTO_IP_BGP, 0, R.AF_INET6 if other == 6 else R.AF_INET,
            event_callback=self._callback(9))
        self.reg_other = self.ent_other.register_for_change_notification(ALL, CT_ALL, "other")
        self.model.register_notify(M.MEntity(99, R.PROTO_IP_BGP, 0), ALL, CT_ALL, "other",
                                   family=other)

    # -- helpers --------------------------------------------------------------------
    def real_first(self, real_call, model_call, what: str):
        """Like ``both``, the real call first: ``model_call(result)`` gets what
        the engine returned (the model takes an order it leaves open from it)."""
        try:
            got, err = real_call(), None
        except RtmError as exc:
            got, err = None, exc
        try:
            exp = model_call(got)
        except M.ModelError as exc:
            note(f"{what} -> model refuses {sorted(exc.codes)}")
            event(f"{what.split('(')[0].split()[-1]}: refused {sorted(exc.codes)}")
            assert err is not None, (f"{what}: succeeded with {got!r}; the model expects an "
                                     f"error with status {sorted(exc.codes)}")
            assert err.winerror in exc.codes, (
                f"{what}: raised {type(err).__name__} (status {err.winerror}: {err}); "
                f"the model expects status {sorted(exc.codes)}")
            return FAILED
        assert err is None, f"{what}: raised {err!r}; the model expects success ({exp!r})"
        return exp, got

    def hint(self, prefixes) -> list:
        return [self.model.find_dest(net(str(p))) for p in prefixes]

    def compare_dest_info(self, di, mi, where: str) -> None:
        super().compare_dest_info(di, mi, where)
        if mi is not None:
            assert di.last_changed == mi.dest.last_changed, \
                f"{where}: last_changed {di.last_changed}, model {mi.dest.last_changed}"

    def dest_pick(self, j: int):
        """(handle, model dest) of a destination seen (perhaps freed), or None."""
        known = list(self.dests.h2m.items())
        return known[j % len(known)] if known else None

    def reg_pick(self, k: int, stale: int):
        """(handle, model reg, entity index): mostly live, sometimes
        deregistered or forged."""
        if stale == 0 and self.dead_regs:
            return self.dead_regs[k % len(self.dead_regs)]
        if stale == 1 and self.regs:
            h, _, e = self.regs[k % len(self.regs)]
            return forge(h, k), M.FORGED, e
        if not self.regs:
            return None
        return self.regs[k % len(self.regs)]

    def list_pick(self, e: int, k: int, how: int):
        """(handle, model list) for entity e: its own live list (how >= 3), another
        entity's (how 2), a deleted one (1) or a forged one (0); None if none."""
        own = [(h, m) for h, m, x in self.lists if x == e]
        if how >= 3 and own:
            return own[k % len(own)]
        if how == 2 and len(own) < len(self.lists):
            other = [(h, m) for h, m, x in self.lists if x != e]
            return other[k % len(other)]
        if how == 1 and self.dead_lists:
            return self.dead_lists[k % len(self.dead_lists)][:2]
        if self.lists and how == 0:
            return forge(self.lists[0][0], k), M.FORGED
        return own[k % len(own)] if own else None

    def free_ttl(self, ttl: int, taken=()) -> int:
        """``ttl`` moved up until no other armed route expires at the same
        instant (the order of simultaneous expiries is left open)."""
        used = set(self.model.armed()) | set(taken)
        while self.model.now + ttl in used:
            ttl += 1
        return ttl

    # -- comparisons --------------------------------------------------------------------
    @invariant()
    def tables_agree(self) -> None:
        self.check_callbacks()
        super().tables_agree()
        self.compare_notification_state()
        self.compare_lists_and_timers()
        self.compare_enumerations()
        model = self.model
        if any(d.hold_routes for d in model.dests):
            event("state: a hold route")
        if any(d.hold_expiry is not None and not model.ordered(d) for d in model.dests):
            event("state: a hold-only destination")
        if any(len(g.pending()) >= 3 for g in model.regs):
            event("state: 3+ changes pending on a registration")
        if any(e[2] for g in model.regs for e in g.queue):
            event("state: an ignored entry in a queue")
        if any(g.only_marked and g.marks for g in model.regs):
            event("state: marks on a marked-only registration")
        if any(len(x.routes) >= 2 for x in model.lists):
            event("state: a route list with 2+ routes")
        if any(en.kind != "list" and en.after for en in model.enums):
            event("state: an open enumeration under way")
        if len(model.armed()) >= 2:
            event("state: 2+ route timers armed")

    def check_callbacks(self) -> None:
        """The RTM_CHANGE_NOTIFICATION calls of the last step: one per
        registration (of an entity with a callback) whose queue went from
        empty to non-empty, with its context (U18)."""
        exp = sorted((self.reg_handle[id(g)], g.owner.index, repr(g.context))
                     for g in self.model.take_signals()
                     if g.family == self.FAMILY and g.owner.index < 2)
        got = sorted((h, i, repr(ctx)) for i, h, ctx in self.notified)
        self.notified = []
        assert got == exp, f"change-notification callbacks {got}, model {exp}"

    def compare_notification_state(self) -> None:
        """Each registration: pending count, the change status and mark of every
        destination seen that still exists."""
        core = self.rtm.core
        assert core.notify_pending(core.notify_check(self.reg_other, self.ent_other.slot)) == 0, \
            "the other family's registration heard of a change in this table"
        live = [(h, md) for h, md in self.dests.h2m.items() if not md.freed]
        for h, g, e in self.regs:
            real_e = self.ents[e][0]
            pend = g.pending()
            n = core.notify_pending(core.notify_check(h, real_e.slot))
            assert n == len(pend), f"{g!r}: {n} pending, model {[d.prefix for d in pend]}"
            for dh, md in live:
                got = real_e.get_change_status(h, dh)
                assert got == any(d is md for d in pend), \
                    f"get_change_status({g!r}, {md!r}) {got}, model pending {pend}"
                if g.only_marked or g.marks or self.step % 2:
                    got = real_e.is_marked_for_change_notification(h, dh)
                    assert got == any(m is md for m in g.marks), \
                        f"is_marked({g!r}, {md!r}) {got}, model marks {g.marks}"

    def compare_lists_and_timers(self) -> None:
        core = self.rtm.core
        for lh, ml, e in self.lists:
            hs = [int(h) for h in core.list_snapshot(core.list_check(lh, self.ents[e][0].slot))]
            assert len(hs) == len(ml.routes), f"list {ml!r}: {len(hs)} routes"
            for h, mr in zip(hs, ml.routes):
                self.routes.bind(h, mr, f"list {ml!r}")
        for h, mr in self.routes.h2m.items():
            if mr.freed:
                continue
            got = core.expiry_of(core.route_check(h))
            assert got == mr.expiry, f"expiry of {mr!r}: {got}, model {mr.expiry}"
        for h, md in self.dests.h2m.items():        # hold-down state (1.9, U14, U15)
            if md.freed:
                continue
            views, hold_time, expiry, held = core.hold_info(core.dest_check(h))
            exp = (md.hold_views, md.hold_time, md.hold_expiry or 0)
            assert (views, hold_time, expiry) == exp, \
                f"hold of {md!r}: {(views, hold_time, expiry)}, model {exp}"
            for i, v in enumerate(self.view_ids[:len(held)]):
                self.routes.bind(held[i], md.hold_routes.get(v), f"hold route of {md!r}")

    def compare_enumerations(self) -> None:
        """A destination and a route enumeration drained in full, their
        criteria rotating from step to step (every range, view mask,
        ownership, protocol and match flag), compared with the model and
        released."""
        turn = self.step
        e = turn % len(self.ents)
        real_e, me = self.ents[e]
        views = [0, U, ALL, MC, BOTH, 0][turn % 6]
        prefix = self.PREFIXES[turn % len(self.PREFIXES)]
        rng, address = [(R.RTM_ENUM_START, None), (R.RTM_ENUM_RANGE, prefix),
                        (R.RTM_ENUM_NEXT, prefix), (R.RTM_ENUM_RANGE, self.PREFIXES[0])][turn % 4]
        own = turn // 4 % 3 == 1
        proto = sorted(PROTOS)[turn % len(PROTOS)]
        what = f"check: dest enum {views:#x} {rng} {address} own={own} {proto}"
        flags = rng | (R.RTM_ENUM_OWN_DESTS if own else 0)
        res = self.both(lambda: self.model.create_dest_enum(me, views, flags, address,
                                                            PROTOS[proto]),
                        lambda: real_e.create_dest_enum(views, flags, address, PROTOS[proto]),
                        what)
        men, eh = res
        held = []
        while True:
            got = self._next_dests(e, eh, men, MAXH, what)
            held += got
            if not got:
                break
        self.both(lambda: self.model.release_dests([m for _, m in held]),
                  lambda: real_e.release_dests([d for d, _ in held]), f"{what}: release")
        self.both(lambda: self.model.delete_enum(me, men), lambda: real_e.delete_enum_handle(eh),
                  f"{what}: delete")
        match = [R.RTM_MATCH_NONE, R.RTM_MATCH_OWNER, R.RTM_MATCH_NEIGHBOUR, R.RTM_MATCH_PREF,
                 R.RTM_MATCH_NEXTHOP, R.RTM_MATCH_INTERFACE, R.RTM_MATCH_NONE][turn // 2 % 7]
        made = self._create_route_enum(e, 1, 0, views, rng, 0 if own else 5,
                                       2 + turn % 40 if address else 0, match, turn, 1,
                                       1 + turn % 2)
        if made is None:
            return
        eh, men, what = made
        got: list[int] = []
        while True:
            batch = self._next_routes(e, eh, men, MAXH, what)
            got += batch
            if not batch:
                break
        if got:
            self.both(lambda: self.model.release_routes([self.routes.h2m[h] for h in got]),
                      lambda: real_e.release_routes(got), f"{what}: release")
        self.both(lambda: self.model.delete_enum(me, men), lambda: real_e.delete_enum_handle(eh),
                  f"{what}: delete")

    @initialize(regs=st.lists(st.tuples(ent_st, st.sampled_from([ALL, U, MC, BOTH, 0]),
                                        st.sampled_from([CT_ALL, CT_BEST, CT_FWD,
                                                         CT_BEST | CT_FWD, CT_ALL | CT_BEST]),
                                        st.integers(0, 3)), min_size=1, max_size=3),
                lists=st.lists(ent_st, max_size=2))
    def start(self, regs, lists):
        """Every run starts with three observers (entity 0, every view, one
        change type each), a few other registrations and maybe route lists."""
        for types in (CT_ALL, CT_BEST, CT_FWD):
            self.register_notify(0, ALL, types, 1)
        self.observers = list(self.regs)
        for e, views, types, marked in regs:
            self.register_notify(e, views, types, marked)
        for e in lists:
            self.create_route_list(e)

    # -- rules: time to live, hold-down, the clock ----------------------------------------
    @rule(e=ent_st, p=pfx_st, nbr=nh_pick, nhs=nhs_st, metric=cost, pref=cost, views=views_ok,
          flags=flags_st, mode=mode_st, ret=st.booleans(), ttl=ttl_st, tkind=st.integers(0, 9),
          lkind=st.integers(0, 9), k=idx, upd=st.integers(0, 3))
    def add_with_ttl(self, e, p, nbr, nhs, metric, pref, views, flags, mode, ret, ttl, tkind,
                     lkind, k, upd):
        """add_route_to_dest with a time to live (tkind 0: INFINITE, 1: out of
        range, 2: not given) and / or a route list (lkind: see list_pick; 6: 0,
        no list; >= 7: not given), by identity or (upd 0) through a held
        handle."""
        route = None
        if upd == 0 and self.route_pool:
            h = self.route_pool[k % len(self.route_pool)]
            mr = self.routes.h2m[h]
            route, e, p = (h, mr), mr.owner.index, None
        prefix = str(route[1].dest.prefix) if route else self.prefix(p)
        if tkind == 0:
            ttl = R.INFINITE
        elif tkind == 1:
            ttl = [-1, 1 << 32][k % 2]
        elif tkind == 2:
            ttl = None
        else:
            ttl = self.free_ttl(ttl)
        rlist = None if lkind >= 7 else (0, None) if lkind == 6 else self.list_pick(e, k, lkind)
        pairs = list({h: (h, m) for h, m in (self.pick_nh(e, x) for x in nhs)}.values())
        self._add(e, prefix, self.pick_nh(e, nbr), pairs, metric, pref, views, flags, 0, mode,
                  ret, route, ttl=ttl, rlist=rlist)

    @rule(e=ent_st, rows=st.lists(st.tuples(pfx_st, cost, ttl_st, st.booleans()), min_size=1,
                                  max_size=4), nh=nh_pick, views=views_ok, mode=mode_st)
    def bulk_add_ttl(self, e, rows, nh, views, mode):
        """Bulk add with a time to live per row (some rows INFINITE)."""
        real_e, me = self.ents[e]
        keys = [self.key(self.prefix(p)) for p, _, _, _ in rows]
        ttls: list[int] = []
        for _, _, ttl, inf in rows:
            ttls.append(R.INFINITE if inf else self.free_ttl(ttl, [self.model.now + t for t in ttls
                                                                   if t != R.INFINITE]))
        nh_h, nh_m = self.pick_nh(e, nh)
        metric = [m for _, m, _, _ in rows]
        mrows = [{"prefix": k, "neighbour": None, "next_hop": nh_m, "metric": m, "preference": 1,
                  "views": views, "flags": 0, "info": 0, "ttl": t}
                 for k, m, t in zip(keys, metric, ttls)]
        addrs, lengths = self.columns(keys)
        what = f"{me!r} add_routes({keys}, metric={metric}, time_to_live={ttls})"
        res = self.both(lambda: self.model.add_routes(me, mrows, mode),
                        lambda: real_e.add_routes(addrs, lengths, next_hop=nh_h,
                                                  metric=np.array(metric), preference=1,
                                                  views=views, change_flags=mode,
                                                  time_to_live=np.array(ttls, np.uint32)), what)
        if res is FAILED:
            return
        mout, out = res
        note(f"{what} -> {[hex(x) for x in mout]}")
        assert [int(x) for x in out] == mout, what

    @rule(e=ent_st, j=idx, views=st.sampled_from([ALL, U, MC, BOTH, 0, 4, U]), hold=hold_st,
          src=st.integers(0, 15), withdraw=st.integers(0, 2))
    def hold_destination(self, e, j, views, hold, src, withdraw):
        """RtmHoldDestination on a destination with routes (mostly), any seen
        (maybe freed) or a forged handle; withdraw 0: then delete its routes
        one by one (the last one of a held view becomes its hold route)."""
        routed = [(h, d) for h, d in self.dests.h2m.items()
                  if not d.freed and self.model.ordered(d)]
        picked = routed[j % len(routed)] if routed and src > 3 else self.dest_pick(j)
        if picked is None:
            return
        dh, md = picked
        if src == 0:
            dh, md = forge(dh, j), M.FORGED
        real_e, me = self.ents[e]
        what = f"{me!r} hold_destination({md!r}, {views:#x}, {hold})"
        res = self.both(lambda: self.model.hold_destination(me, md, views, hold),
                        lambda: real_e.hold_destination(dh, views, hold), what)
        note(f"{what} -> {'refused' if res is FAILED else 'ok'}")
        if withdraw == 0 and md is not M.FORGED and not md.freed:
            self._withdraw(md)

    @rule(j=idx, views=st.sampled_from([U, BOTH, ALL, MC]), hold=st.sampled_from([40, 120, 7]),
          gap=st.sampled_from([10, 30, 0, 60]), again=st.integers(0, 2), e=ent_st)
    def hold_cycle(self, j, views, hold, gap, again, e):
        """Hold a destination, withdraw its routes (hold routes), advance, add
        a route back (again 0: and withdraw it again later: the hold route is
        replaced and the hold time restarts, U14/U15), then drain every
        registration and advance past the hold (an ALL change, U15)."""
        routed = [(h, d) for h, d in self.dests.h2m.items()
                  if not d.freed and self.model.ordered(d)]
        if not routed:
            return
        dh, md = routed[j % len(routed)]
        real_e, me = self.ents[e]
        self.both(lambda: self.model.hold_destination(me, md, views, hold),
                  lambda: real_e.hold_destination(dh, views, hold), f"hold {md!r}")
        self._withdraw(md)
        self.advance(gap, ["delete"], 2, 3)
        if md.freed:
            return
        self._add(e, str(md.prefix), (0, None), [], 1, 1, [U, MC, BOTH][j % 3], 0, 0, 0, False)
        if again == 0:
            self.advance(gap, ["delete"], 2, 3)
            self._withdraw(md)
        self.advance(hold + gap + 1, ["delete"], 0, 3)
        event("hold_cycle")

    def _withdraw(self, md) -> None:
        """Delete every route of a destination, by identity (bulk delete)."""
        for _ in range(len(self.model.routes)):
            rs = self.model.ordered(md)
            if not rs:
                return
            self._delete_by_identity(rs[-1])

    def _delete_by_identity(self, r) -> None:
        """delete_routes naming route r's identity (its owner's first route
        of the destination with r's neighbour goes)."""
        keys = [self.key(str(r.dest.prefix))]
        addrs, lengths = self.columns(keys)
        real_e, me = self.ents[r.owner.index]
        nb = self.nhs.handle(r.neighbour)
        what = f"{me!r} delete_routes([{r.dest.prefix}], neighbour={r.neighbour!r})"
        res = self.both(lambda: self.model.delete_routes(me, keys, r.neighbour),
                        lambda: real_e.delete_routes(addrs, lengths, neighbour=nb), what)
        assert res is not FAILED
        assert [int(x) for x in res[1]] == res[0], what
        note(f"{what} -> {[hex(x) for x in res[0]]}")

    def _reference(self, e: int, h: int) -> None:
        """One more reference on a route handle (held in the route pool)."""
        mr = self.routes.h2m[h]
        res = self.both(lambda: self.model.reference_routes([mr]),
                        lambda: self.ents[e][0].reference_handles([h]), f"reference {mr!r}")
        assert res is not FAILED
        self.route_pool.append(h)

    def _move(self, e: int, h: int, dst) -> None:
        """insert_in_route_list(dst, [h]) by entity e; dst = (handle, model list)."""
        mr, me = self.routes.h2m[h], self.ents[e][1]
        self.both(lambda: self.model.insert_in_route_list(me, dst[1], [mr]),
                  lambda: self.ents[e][0].insert_in_route_list(dst[0], [h]),
                  f"{me!r} insert_in_route_list({dst[1]!r}, [{mr!r}])")

    @rule(ms=st.one_of(st.sampled_from([0, 1, 10, 40, 120, 300, 600]), st.integers(0, 400)),
          plan=plan_st, drain=st.integers(0, 2), to=st.integers(0, 3))
    def advance(self, ms, plan, drain, to):
        """clock.advance(ms): hold-downs end and routes expire in time order;
        the expiry callbacks answer per ``plan`` (delete / keep / raise).
        to 0: exactly to the next timer, 1: one ms before it.  drain 0: every
        registration is drained first (so that the changes the timers make
        are queued afresh)."""
        due = self.model.armed() + [d.hold_expiry for d in self.model.dests
                                    if d.hold_expiry is not None]
        if to < 2 and due:
            ms = max(0, min(due) - self.model.now - to)
        if drain == 0:
            for h, g, e in list(self.regs):
                while self._get_changed(e, e, h, g, MAXH, via=1, keep=False):
                    pass
        self.plan = plan
        self.expired = []
        k = [0]

        def verdict(route, owner):
            if owner.index >= 2:                  # no callback: deleted (U16)
                return "delete"
            what = plan[k[0] % len(plan)]
            k[0] += 1
            return what

        target = self.model.now + ms
        seen = 0
        while True:
            # one timer instant at a time: the expiry callbacks are compared
            # after each
            due = self.model.armed() + [d.hold_expiry for d in self.model.dests
                                        if d.hold_expiry is not None]
            nxt = min(due) if due else None
            stop, end = True, target
            if nxt is not None and nxt <= target:
                stop, end = False, nxt
            seen = self._advance_to(end, verdict, seen)
            if stop:
                break

    def _advance_to(self, end: int, verdict, seen: int) -> int:
        """Advance model and clock to ``end``; compare the expiry callbacks
        (from number ``seen`` on).  Returns how many were seen."""
        ms = end - self.model.now
        fired = self.model.advance(ms, verdict)
        note(f"advance({ms}) -> now {self.model.now}, expiries "
             f"{[(t, r, what) for t, r, _, what in fired]}")
        try:
            self.clock.advance(ms)
            raised = None
        except CallbackFailure as exc:
            raised = exc
        assert self.clock.now() == self.model.now
        exp = [(r.owner.index, r, fields, what) for _, r, fields, what in fired
               if r.owner.index < 2]
        got = self.expired[seen:]
        assert len(got) == len(exp), \
            f"advance({ms}): {len(got)} expiry callbacks, model {[x[1] for x in exp]}"
        for (i, h, tup, state), (ei, mr, fields, what) in zip(got, exp):
            where = f"advance({ms}): expiry of {mr!r}"
            assert i == ei, f"{where}: callback of entity {i}"
            self.routes.bind(h, mr, where)
            assert tup == fields and state == R.RTM_ROUTE_STATE_CREATED, f"{where}: info {tup}"
            if what == "keep":
                self.route_pool.append(h)             # the callee owns that reference
        event(f"advance: {len(fired)} expiries")
        assert (raised is not None) == any(what == "raise" for *_, what in fired), \
            f"advance({ms}): raised {raised!r}"
        return len(self.expired)

    # -- rules: change notification ---------------------------------------------------------
    @rule(e=ent_st, views=st.sampled_from([ALL, U, MC, BOTH, 0, 4]), types=types_st,
          marked=st.integers(0, 2))
    def register_notify(self, e, views, types, marked):
        real_e, me = self.ents[e]
        flags = types | (MARKED if marked == 0 else 0)
        self.ctx += 1
        ctx = ("ctx", self.ctx)
        what = f"{me!r} register_for_change_notification({views:#x}, {flags:#x})"
        res = self.both(lambda: self.model.register_notify(me, views, flags, ctx),
                        lambda: real_e.register_for_change_notification(views, flags, ctx),
                        what)
        if res is FAILED:
            return
        g, h = res
        note(f"{what} -> {g!r}")
        self.regs.append((h, g, e))
        self.reg_handle[id(g)] = h

    @precondition(lambda self: self.regs or self.dead_regs)
    @rule(k=idx, who=st.integers(0, 9), stale=st.integers(0, 7))
    def deregister_notify(self, k, who, stale):
        picked = self.reg_pick(k, stale)
        if picked is None:
            return
        h, g, e = picked
        caller = e if who else self.other(e)
        real_e, me = self.ents[caller]
        what = f"{me!r} deregister_from_change_notification({g!r})"
        res = self.both(lambda: self.model.deregister_notify(me, g),
                        lambda: real_e.deregister_from_change_notification(h), what)
        note(f"{what} -> {'refused' if res is FAILED else 'ok'}")
        if res is FAILED:
            return
        self.regs.remove((h, g, e))
        self.dead_regs.append((h, g, e))
        for batch in [b for b in self.changed if b[2] == h]:   # no longer releasable there:
            self.changed.remove(batch)                          # release as plain dest infos
            self.dest_infos += list(zip(batch[0], batch[1]))

    def _get_changed(self, caller, e, h, g, n, via, keep):
        """get_changed_dests (via 0: rtmv2.RtmGetChangedDests) compared with
        the model; returns the infos (held in self.changed if ``keep``)."""
        real_e, me = self.ents[caller]

        def real():
            if via == 0:
                status, count, infos = rtmv2.RtmGetChangedDests(
                    real_e, h, MAXH if n is None else n)
                if status not in (0, R.errors.ERROR_NO_MORE_ITEMS):
                    raise error_for_status(status)
                assert count == len(infos)
                return status, infos
            return None, real_e.get_changed_dests(h, n)

        what = f"{me!r} get_changed_dests({g!r}, {n}{', rtmv2' if via == 0 else ''})"
        res = self.real_first(
            real, lambda got: self.model.get_changed_dests(
                me, g, n, self.hint([d.dest_address for d in got[1]]) if got else None), what)
        if res is FAILED:
            return []
        minfos, (status, infos) = res
        note(f"{what} -> {[mi.dest.prefix for mi in minfos]}")
        got = [net(str(d.dest_address)) for d in infos]
        exp = [mi.dest.prefix for mi in minfos]
        assert got == exp, f"{what}: {[str(x) for x in got]}, model {[str(x) for x in exp]}"
        for di, mi in zip(infos, minfos):
            self.compare_dest_info(di, mi, what)
        if status is not None:
            left = bool(g.pending())
            assert status == (0 if left else R.errors.ERROR_NO_MORE_ITEMS), \
                f"{what}: status {status}, model {'more' if left else 'no more'} pending"
        event(f"get_changed_dests: {len(infos)} of {n}")
        if infos:
            if keep:
                self.changed.append((infos, minfos, h, g, caller))
            else:
                self._release_changed(caller, h, g, infos, minfos)
        return infos

    def _release_changed(self, caller, h, g, infos, minfos, dup=False, via=1):
        real_e, me = self.ents[caller]
        ri, mi = (infos + infos[:1], minfos + minfos[:1]) if dup else (infos, minfos)
        what = f"{me!r} release_changed_dests({g!r}, {len(ri)} infos{', twice' if dup else ''})"
        if via == 0:
            real = lambda: rtmv2.RtmReleaseChangedDests(real_e, h, len(ri), ri)
        else:
            real = lambda: real_e.release_changed_dests(h, ri)

        def checked():
            status = real()
            if status:
                raise error_for_status(status)

        return self.both(lambda: self.model.release_changed_dests(me, g, mi), checked, what)

    @precondition(lambda self: self.regs or self.dead_regs)
    @rule(k=idx, n=batch_st, via=st.integers(0, 2), keep=st.booleans(), who=st.integers(0, 9),
          stale=st.integers(0, 11))
    def get_changed(self, k, n, via, keep, who, stale):
        picked = self.reg_pick(k, stale)
        if picked is None:
            return
        h, g, e = picked
        self._get_changed(e if who else self.other(e), e, h, g, n, via, keep)

    @precondition(lambda self: self.changed)
    @rule(k=idx, how=st.integers(0, 7))
    def release_changed(self, k, how):
        """Release a held retrieval (how 2: through rtmv2); how 0: with another
        registration's handle, how 1: one info listed twice -- both refused,
        nothing released."""
        batch = self.changed[k % len(self.changed)]
        infos, minfos, h, g, e = batch
        if how == 0:
            others = [(h2, g2) for h2, g2, e2 in self.regs if e2 == e and g2 is not g]
            h2, g2 = others[k % len(others)] if others else (forge(h, k), M.FORGED)
            real_e, me = self.ents[e]
            res = self.both(lambda: self.model.release_changed_dests(me, g2, minfos),
                            lambda: real_e.release_changed_dests(h2, infos),
                            f"release_changed_dests with {g2!r} instead of {g!r}")
            assert res is FAILED
            return
        res = self._release_changed(e, h, g, infos, minfos, dup=how == 1, via=0 if how == 2 else 1)
        if how == 1:
            assert res is FAILED
            return
        self.changed.remove(batch)

    @precondition(lambda self: self.regs)
    @rule(k=idx, js=st.lists(idx, max_size=3), pend=st.integers(0, 3), who=st.integers(0, 9),
          via=st.booleans())
    def ignore_changed(self, k, js, pend, who, via):
        """RtmIgnoreChangedDests on pending destinations (mostly) or any seen."""
        h, g, e = self.regs[k % len(self.regs)]
        caller = e if who else self.other(e)
        real_e, me = self.ents[caller]
        pairs = []
        pending = [(self.dests.m2h[id(d)], d) for d in g.pending() if id(d) in self.dests.m2h]
        for j in js:
            if pend and pending:
                pairs.append(pending[j % len(pending)])
            elif self.dests.h2m:
                pairs.append(self.dest_pick(j))
        what = f"{me!r} ignore_changed_dests({g!r}, {[m for _, m in pairs]})"
        if via:
            real = lambda: real_e.ignore_changed_dests(h, [dh for dh, _ in pairs])
        else:
            def real():
                status = rtmv2.RtmIgnoreChangedDests(real_e, h, len(pairs),
                                                     [dh for dh, _ in pairs])
                if status:
                    raise error_for_status(status)
        res = self.both(lambda: self.model.ignore_changed_dests(me, g, [m for _, m in pairs]),
                        real, what)
        note(f"{what} -> {'refused' if res is FAILED else 'ok'}")

    @precondition(lambda self: self.regs or self.dead_regs)
    @rule(k=idx, j=idx, op=st.integers(0, 4), who=st.integers(0, 9), stale=st.integers(0, 11),
          forged=st.integers(0, 15))
    def mark_or_status(self, k, j, op, who, stale, forged):
        """op 0: get_change_status, 1-2: mark, 3: unmark, 4: is_marked (marks
        mostly on marked-only registrations)."""
        picked, reg = self.dest_pick(j), self.reg_pick(k, stale)
        marked = [x for x in self.regs if x[1].only_marked]
        if op in (1, 2) and marked and stale > 3:
            reg = marked[k % len(marked)]
        if picked is None or reg is None:
            return
        (dh, md), (h, g, e) = picked, reg
        if forged == 0:
            dh, md = forge(dh, j), M.FORGED
        caller = e if who else self.other(e)
        real_e, me = self.ents[caller]
        if op == 0:
            what = f"{me!r} get_change_status({g!r}, {md!r})"
            res = self.both(lambda: self.model.get_change_status(me, g, md),
                            lambda: real_e.get_change_status(h, dh), what)
        elif op == 4:
            what = f"{me!r} is_marked_for_change_notification({g!r}, {md!r})"
            res = self.both(lambda: self.model.is_marked(me, g, md),
                            lambda: real_e.is_marked_for_change_notification(h, dh), what)
        else:
            mark = op < 3
            what = f"{me!r} mark_dest_for_change_notification({g!r}, {md!r}, {mark})"
            res = self.both(lambda: self.model.mark_dest(me, g, md, mark),
                            lambda: real_e.mark_dest_for_change_notification(h, dh, mark), what)
        if res is not FAILED and op in (0, 4):
            assert res[0] == res[1], f"{what}: {res[1]}, model {res[0]}"
        note(f"{what} -> {'refused' if res is FAILED else res[0]}")

    @precondition(lambda self: self.regs)
    @rule(k=idx, j=idx, change=st.integers(0, 6),
          flag=st.sampled_from([R.RTM_ROUTE_FLAGS_LOCAL, R.RTM_ROUTE_FLAGS_REMOTE,
                                R.RTM_ROUTE_FLAGS_DISCARD, 0,
                                R.RTM_ROUTE_FLAGS_LOCAL | R.RTM_ROUTE_FLAGS_DISCARD,
                                R.RTM_ROUTE_FLAGS_INACTIVE]))
    def best_route_change(self, k, j, change, flag):
        """Drain the observers and one registration, then change one field of
        a best route (by identity, through its owner): 0 flags (forwarding or
        not), 1 private info only, 2 metric, 3 views, 4 nothing, 5 next hops,
        6 preference -- which change types queue it is then compared (1.11,
        U17)."""
        for h, g, e in [self.regs[k % len(self.regs)]] + self.observers:
            if g.live:
                while self._get_changed(e, e, h, g, MAXH, via=1, keep=False):
                    pass
        bests = []
        for d in self.model.dests:
            for v in self.model.view_ids:
                b = self.model.best(d, v)
                if b is not None and not any(b is x for x in bests):
                    bests.append(b)
        if not bests:
            return
        r = bests[j % len(bests)]
        nbr = (self.nhs.handle(r.neighbour), r.neighbour)
        pairs = [(self.nhs.handle(x), x) for x in r.next_hops]
        metric, pref, views, flags, info = r.metric, r.preference, r.views, r.flags, r.info
        if change == 0:
            flags = flag
        elif change == 1:
            info ^= 1
        elif change == 2:
            metric += 1
        elif change == 3:
            views = {U: BOTH, MC: BOTH, BOTH: [U, MC][j % 2]}[views]
        elif change == 5:
            pairs = pairs[::-1] if len(pairs) > 1 else \
                [p for p in [self.pick_nh(r.owner.index, j % 37)] if p[1] is not None]
        elif change == 6:
            pref = max(0, pref - 1) if j % 2 else pref + 1
        event(f"best_route_change {change}")
        self._add(r.owner.index, str(r.dest.prefix), nbr, pairs, metric, pref, views, flags, info,
                  0, False)

    @precondition(lambda self: self.regs)
    @rule(k=idx, view=st.sampled_from([0, 1, 0, 5]), who=st.integers(0, 9))
    def drain_changes(self, k, view, who):
        """Entity.drain_changes: every pending change as columns, no references."""
        h, g, e = self.regs[k % len(self.regs)]
        caller = e if who else self.other(e)
        real_e, me = self.ents[caller]
        what = f"{me!r} drain_changes({g!r}, view={view})"

        def prefixes(cols):
            pfx = cols.prefix                 # IPv6: (N, 2) uint64, high word first
            keys = ([int(a) for a in pfx] if pfx.ndim == 1 else
                    [(int(a) << 64) | int(b) for a, b in pfx])
            cls = ipaddress.IPv4Network if self.FAMILY == 4 else ipaddress.IPv6Network
            return [cls((a, int(n))) for a, n in zip(keys, cols.length)]
        res = self.real_first(lambda: real_e.drain_changes(h, view),
                              lambda got: self.model.drain_changes(
                                  me, g, view, self.hint(prefixes(got)) if got else None), what)
        if res is FAILED:
            return
        exp, cols = res
        got = prefixes(cols)
        assert got == [d.prefix for d, _, _ in exp], \
            f"{what}: {[str(x) for x in got]}, model {[str(d.prefix) for d, _, _ in exp]}"
        for i, (d, b, nh) in enumerate(exp):
            self.dests.bind(cols.dest[i], d, what)
            self.routes.bind(cols.route[i], b, f"{what}: best route of {d!r}")
            assert int(cols.next_hop[i]) == self.nhs.handle(nh), f"{what}: next hop of {d!r}"
        note(f"{what} -> {[str(x) for x in got]}")

    # -- rules: enumerations ---------------------------------------------------------------
    def _enum_address(self, rng: int, a: int):
        """START ignores the address; NEXT / RANGE need one (a: which)."""
        pool = self.PREFIXES + self.PROBES
        if a == 0:
            return None
        if a == 1:
            return self.BAD[rng % len(self.BAD)]
        return pool[a % len(pool)]

    def _create_dest_enum(self, e, views, rng, own, a, proto):
        real_e, me = self.ents[e]
        flags = rng | (R.RTM_ENUM_OWN_DESTS if own == 0 else 0) | (0x10 if own == 1 else 0)
        address = self._enum_address(rng, a)
        pid = PROTOS[proto]
        what = f"{me!r} create_dest_enum({views:#x}, {flags:#x}, {address!r}, {proto})"
        res = self.both(lambda: self.model.create_dest_enum(me, views, flags, address, pid),
                        lambda: real_e.create_dest_enum(views, flags, address, pid), what)
        return None if res is FAILED else (res[1], res[0], what)

    @staticmethod
    def _all_batches(next_batch, limit, n, what) -> list:
        """Batches from ``next_batch()`` until an empty one, a failed call
        (None) or a request for 0 items; the enumeration must end within
        ``limit`` batches."""
        items: list = []
        for _ in range(limit):
            batch = next_batch()
            if batch is None:
                break
            items += batch
            if not batch or n == 0:
                break
        else:
            raise AssertionError(f"{what}: the enumeration does not end")
        return items

    def _next_dests(self, e, eh, men, n, what):
        real_e, me = self.ents[e]
        where = f"{what}: get_enum_dests({n})"
        res = self.both(lambda: self.model.get_enum_dests(me, men, n),
                        lambda: real_e.get_enum_dests(eh, n), where)
        if res is FAILED:
            return None
        minfos, infos = res
        got = [net(str(d.dest_address)) for d in infos]
        assert got == [mi.dest.prefix for mi in minfos], \
            f"{where}: {[str(x) for x in got]}, model {[str(mi.dest.prefix) for mi in minfos]}"
        for di, mi in zip(infos, minfos):
            self.compare_dest_info(di, mi, where)
        return list(zip(infos, minfos))

    @rule(e=ent_st, views=qviews_st, rng=range_st, own=st.integers(0, 9), a=st.integers(0, 40),
          proto=st.sampled_from(sorted(PROTOS)), n=batch_st, dup=st.integers(0, 5))
    def dest_enum_drain(self, e, views, rng, own, a, proto, n, dup):
        """A destination enumeration drained at once: every batch compared;
        the infos released together (dup 0: one listed twice first, refused);
        the Pythonic iterator agrees."""
        made = self._create_dest_enum(e, views, rng, own, a, proto)
        if made is None:
            return
        eh, men, what = made
        real_e, me = self.ents[e]
        held = self._all_batches(lambda: self._next_dests(e, eh, men, n, what),
                                 len(self.model.dests) + 2, n, what)
        note(f"{what} -> {[str(mi.dest.prefix) for _, mi in held]}")
        event(f"dest enumeration: {len(held)} destinations")
        if held and dup == 0:
            res = self.both(lambda: self.model.release_dests([m for _, m in held] + [held[0][1]]),
                            lambda: real_e.release_dests([d for d, _ in held] + [held[0][0]]),
                            f"{what}: release_dests with an info twice")
            assert res is FAILED
        res = self.both(lambda: self.model.release_dests([m for _, m in held]),
                        lambda: real_e.release_dests([d for d, _ in held]), f"{what}: release")
        assert res is not FAILED
        self.both(lambda: self.model.delete_enum(me, men),
                  lambda: real_e.delete_enum_handle(eh), f"{what}: delete")
        if rng in (R.RTM_ENUM_START, R.RTM_ENUM_RANGE):
            prefix = self._enum_address(rng, a) if rng == R.RTM_ENUM_RANGE else None
            it = [net(d.prefix) for d in real_e.destinations(views, prefix, men.own, n or None)]
            flags = (R.RTM_ENUM_RANGE if prefix else R.RTM_ENUM_START) | \
                (R.RTM_ENUM_OWN_DESTS if men.own else 0)
            exp = [d.prefix for d in self.model.dest_enum_all(me, views, flags, prefix)]
            assert it == exp, f"destinations({views:#x}, {prefix}, {men.own}): {it}, model {exp}"

    @rule(e=ent_st, views=qviews_st, rng=range_st, own=st.integers(0, 9), a=st.integers(0, 40),
          proto=st.sampled_from(sorted(PROTOS)))
    def dest_enum_open(self, e, views, rng, own, a, proto):
        """A destination enumeration left open; enum_next continues it later."""
        made = self._create_dest_enum(e, views, rng, own, a, proto)
        if made is not None:
            self.open_enums.append((made[0], made[1], e))

    def _crit(self, k: int, c: int):
        """(RouteInfo, model criteria) from a route seen, or None."""
        known = [(h, m) for h, m in self.routes.h2m.items() if not m.freed]
        if c == 0 or not known:
            return None, None
        _, mr = known[k % len(known)]
        ri = R.RouteInfo(route_owner=self.ents[mr.owner.index][0].handle,
                         neighbour=self.nhs.handle(mr.neighbour),
                         next_hops=tuple(self.nhs.handle(x) for x in mr.next_hops),
                         metric=mr.metric, preference=mr.preference)
        return ri, M.MCriteria(mr.owner, mr.neighbour, mr.preference, mr.metric, mr.next_hops)

    def _create_route_enum(self, e, one, j, views, rng, own, a, match, k, c, iface):
        real_e, me = self.ents[e]
        dh, md = 0, None
        if one == 0:
            picked = self.dest_pick(j)
            if picked is not None:
                dh, md = picked
        flags = rng | (R.RTM_ENUM_OWN_ROUTES if own == 0 else 0) | (0x10 if own == 1 else 0)
        address = self._enum_address(rng, a)
        ri, crit = self._crit(k, c)
        what = (f"{me!r} create_route_enum({md!r}, {views:#x}, {flags:#x}, {address!r}, "
                f"match={match:#x}, criteria={crit}, interface={iface})")
        res = self.both(lambda: self.model.create_route_enum(me, md, views, flags, address,
                                                             match, crit, iface),
                        lambda: real_e.create_route_enum(dh, views, flags, address, match, ri,
                                                         iface), what)
        return None if res is FAILED else (res[1], res[0], what)

    def _next_routes(self, e, eh, men, n, what, kind="route"):
        real_e, me = self.ents[e]
        where = f"{what}: get_{'enum' if kind == 'route' else 'list_enum'}_routes({n})"
        if kind == "route":
            res = self.both(lambda: self.model.get_enum_routes(me, men, n),
                            lambda: real_e.get_enum_routes(eh, n), where)
        else:
            res = self.both(lambda: self.model.get_list_enum_routes(me, men, n),
                            lambda: real_e.get_list_enum_routes(eh, n), where)
        if res is FAILED:
            return None
        mrs, hs = res
        assert len(hs) == len(mrs), f"{where}: {len(hs)} routes, model {mrs}"
        for h, mr in zip(hs, mrs):
            self.routes.bind(h, mr, where)
        note(f"{where} -> {mrs}")
        return [int(h) for h in hs]

    @rule(e=ent_st, one=st.integers(0, 4), j=idx, views=qviews_st, rng=range_st,
          own=st.integers(0, 9), a=st.integers(0, 40), match=match_st, k=idx,
          c=st.integers(0, 9), iface=st.integers(1, 3), n=batch_st, keep=st.integers(0, 3))
    def route_enum_drain(self, e, one, j, views, rng, own, a, match, k, c, iface, n, keep):
        """A route enumeration (one destination: one == 0) drained at once; the
        handles are kept (keep 0: they join the held handles) or released."""
        made = self._create_route_enum(e, one, j, views, rng, own, a, match, k, c, iface)
        if made is None:
            return
        eh, men, what = made
        real_e, me = self.ents[e]
        got = self._all_batches(lambda: self._next_routes(e, eh, men, n, what),
                                len(self.model.routes) + 2, n, what)
        event(f"route enumeration: {len(got)} routes")
        if keep == 0:
            self.route_pool += got
        elif got:
            res = self.both(lambda: self.model.release_routes([self.routes.h2m[h] for h in got]),
                            lambda: real_e.release_routes(got), f"{what}: release")
            assert res is not FAILED
        self.both(lambda: self.model.delete_enum(me, men),
                  lambda: real_e.delete_enum_handle(eh), f"{what}: delete")

    @rule(e=ent_st, one=st.integers(0, 4), j=idx, views=qviews_st, rng=range_st,
          own=st.integers(0, 9), a=st.integers(0, 40), match=match_st, k=idx,
          c=st.integers(0, 9), iface=st.integers(1, 3))
    def route_enum_open(self, e, one, j, views, rng, own, a, match, k, c, iface):
        made = self._create_route_enum(e, one, j, views, rng, own, a, match, k, c, iface)
        if made is not None:
            self.open_enums.append((made[0], made[1], e))

    @rule(e=ent_st, views=qviews_st, own=st.integers(0, 9), match=match_st, k=idx,
          c=st.integers(0, 9), iface=st.integers(1, 3),
          first=st.sampled_from([1, 2, MAXH]),
          changes=st.lists(st.tuples(st.integers(0, 3), idx, cost), min_size=1, max_size=4))
    def route_enum_walk(self, e, views, own, match, k, c, iface, first, changes):
        """A table route enumeration: a first batch, then table changes (0:
        delete a route, 1: add a route, 2: change a route's cost, 3: withdraw a
        destination), then the rest (live cursor, U21)."""
        for i in range(2):                       # a destination with a few routes
            self._add([e, self.other(e)][i], self.prefix(k % 4), (0, None), [], i, 1,
                      [BOTH, U, MC][k % 3], 0, 0, R.RTM_ROUTE_CHANGE_NEW, True)
        made = self._create_route_enum(e, 1, 0, views, R.RTM_ENUM_START, own, 0, match, k, c,
                                       iface)
        if made is None:
            return
        eh, men, what = made
        real_e, me = self.ents[e]
        got = self._next_routes(e, eh, men, first, what) or []
        for kind, j, metric in changes:
            live = [r for r in self.model.routes if r.live]
            if kind == 1 or not live:
                self._add(j % len(self.ents), self.prefix(j), (0, None), [], metric, j % 4,
                          [U, MC, BOTH][j % 3], 0, 0, R.RTM_ROUTE_CHANGE_NEW, False)
                continue
            r = live[j % len(live)]
            waiting = [x for x in men.pending if x.live]
            if kind == 0 and waiting and j % 2:
                r = waiting[j % len(waiting)]     # one the enumeration has taken, not returned
            if kind == 3:
                self._withdraw(r.dest)
            elif kind == 2:
                self._add(r.owner.index, str(r.dest.prefix),
                          (self.nhs.handle(r.neighbour), r.neighbour),
                          [(self.nhs.handle(x), x) for x in r.next_hops], metric, r.preference,
                          r.views, r.flags, r.info, 0, False)
            else:
                if id(r) in self.routes.m2h and j % 3:    # keep it readable once deleted
                    self._reference(r.owner.index, self.routes.m2h[id(r)])
                self._delete_by_identity(r)
        if any(not x.live and not x.freed for x in men.pending):
            event("route_enum_walk: a route taken, then deleted, still readable")
        while True:
            batch = self._next_routes(e, eh, men, MAXH, what)
            if not batch:
                break
            got += batch
        event(f"route_enum_walk: {len(got)} routes")
        if got:
            self.both(lambda: self.model.release_routes([self.routes.h2m[h] for h in got]),
                      lambda: real_e.release_routes(got), f"{what}: release")
        self.both(lambda: self.model.delete_enum(me, men),
                  lambda: real_e.delete_enum_handle(eh), f"{what}: delete")

    @rule(e=ent_st, k=idx, n=st.sampled_from([1, 2, MAXH, None]),
          moves=st.lists(st.integers(0, 4), min_size=1, max_size=6))
    def list_enum_walk(self, e, k, n, moves):
        """A list enumeration while its routes move (the spec sample): each
        route of a batch, and the next one not reached yet, goes to another
        list (0), out of lists (1), to the end of this list (2), is deleted (3)
        or stays (4)."""
        own = [(h, m) for h, m, x in self.lists if x == e]
        if not own:
            return
        lh, ml = own[k % len(own)]
        other = [x for x in own if x[1] is not ml]
        real_e, me = self.ents[e]
        mine = [(h, m) for h, m in self.routes.h2m.items() if m.owner is me and m.live]
        if len(ml.routes) < 3 and mine:
            put = [mine[(k + i) % len(mine)] for i in range(3)]
            self.both(lambda: self.model.insert_in_route_list(me, ml, [m for _, m in put]),
                      lambda: real_e.insert_in_route_list(lh, [h for h, _ in put]),
                      f"insert_in_route_list({ml!r}, {[m for _, m in put]})")
        what = f"{me!r} create_route_list_enum({ml!r})"
        men, eh = self.both(lambda: self.model.create_route_list_enum(me, ml),
                            lambda: real_e.create_route_list_enum(lh), what)
        got: list[int] = []
        i = 0
        for _ in range(len(ml.routes) + 2):
            batch = self._next_routes(e, eh, men, n, what, "list")
            got += batch
            ahead = [x for x in men.snapshot[men.pos:] if not x.freed and id(x) in self.routes.m2h]
            targets = batch + [self.routes.m2h[id(x)] for x in ahead[:1]]
            for h in targets:
                move = moves[i % len(moves)]
                i += 1
                mr = self.routes.h2m[h]
                if move == 3 and mr.live:
                    self._reference(e, h)
                    self._delete_by_identity(mr)
                elif move < 3:
                    self._move(e, h, [(other[0] if other else (None, None)), (None, None),
                                      (lh, ml)][move])
            if not batch:
                break
        event(f"list_enum_walk: {len(got)} routes")
        if got:
            self.both(lambda: self.model.release_routes([self.routes.h2m[h] for h in got]),
                      lambda: real_e.release_routes(got), f"{what}: release")
        self.both(lambda: self.model.delete_enum(me, men),
                  lambda: real_e.delete_enum_handle(eh), f"{what}: delete")

    @precondition(lambda self: self.open_enums or self.dead_enums)
    @rule(k=idx, n=batch_st, who=st.integers(0, 9), wrong=st.integers(0, 9))
    def enum_next(self, k, n, who, wrong):
        """Continue an open enumeration (of any kind) after whatever changed
        since; who 0: another entity's call, wrong 0: the call of another kind,
        wrong 1: a deleted enumeration."""
        if wrong == 1 and self.dead_enums:
            eh, men, e = self.dead_enums[k % len(self.dead_enums)]
        elif self.open_enums:
            eh, men, e = self.open_enums[k % len(self.open_enums)]
        else:
            return
        caller = e if who else self.other(e)
        kind = men.kind
        if wrong == 0:
            kind = {"dest": "route", "route": "list", "list": "dest"}[kind]
        what = f"{self.ents[caller][1]!r} {men!r}"
        if kind == "dest":
            got = self._next_dests(caller, eh, men, n, what)
            if got:
                self.dest_infos += got            # released later by release_info
        else:
            got = self._next_routes(caller, eh, men, n, what, kind)
            if got:
                self.route_pool += got

    @precondition(lambda self: self.open_enums or self.dead_enums)
    @rule(k=idx, who=st.integers(0, 9), stale=st.integers(0, 5))
    def delete_enum(self, k, who, stale):
        if stale == 0 and self.dead_enums:
            eh, men, e = self.dead_enums[k % len(self.dead_enums)]
        elif stale == 1:
            eh, men, e = forge(self.open_enums[0][0] if self.open_enums else
                               self.dead_enums[0][0], k), M.FORGED, 0
        elif self.open_enums:
            eh, men, e = self.open_enums[k % len(self.open_enums)]
        else:
            return
        caller = e if who else self.other(e)
        real_e, me = self.ents[caller]
        res = self.both(lambda: self.model.delete_enum(me, men),
                        lambda: real_e.delete_enum_handle(eh), f"{me!r} delete_enum({men!r})")
        if res is not FAILED:
            self.open_enums.remove((eh, men, e))
            self.dead_enums.append((eh, men, e))

    # -- rules: route lists ---------------------------------------------------------------
    @rule(e=ent_st)
    def create_route_list(self, e):
        real_e, me = self.ents[e]
        ml, lh = self.both(lambda: self.model.create_route_list(me),
                           lambda: real_e.create_route_list(), f"{me!r} create_route_list()")
        self.lists.append((lh, ml, e))
        self.lists_made = True

    @rule(e=ent_st, k=idx, how=st.integers(0, 9), ks=st.lists(idx, max_size=4),
          src=st.integers(0, 5))
    def insert_in_route_list(self, e, k, how, ks, src):
        """Routes (mostly the caller's live ones; sometimes any seen: another
        entity's, deleted, freed) into a list (how 9: None, out of their lists).
        The caller needs no reference on them."""
        real_e, me = self.ents[e]
        if how == 9:
            lh, ml = None, None
        else:
            picked = self.list_pick(e, k, how)
            if picked is None:
                return
            lh, ml = picked
        own = [h for h, m in self.routes.h2m.items() if m.owner is me and m.live]
        pairs = []
        for j in ks:
            if src and own:
                h = own[j % len(own)]
            elif self.routes.h2m:
                h = list(self.routes.h2m)[j % len(self.routes.h2m)]
            else:
                continue
            pairs.append((h, self.routes.h2m[h]))
        what = f"{me!r} insert_in_route_list({ml!r}, {[m for _, m in pairs]})"
        res = self.both(lambda: self.model.insert_in_route_list(me, ml, [m for _, m in pairs]),
                        lambda: real_e.insert_in_route_list(lh, [h for h, _ in pairs]), what)
        note(f"{what} -> {'refused' if res is FAILED else 'ok'}")

    @precondition(lambda self: self.lists or self.dead_lists)
    @rule(e=ent_st, k=idx, how=st.integers(0, 9))
    def delete_route_list(self, e, k, how):
        picked = self.list_pick(e, k, how)
        if picked is None:
            return
        lh, ml = picked
        real_e, me = self.ents[e]
        res = self.both(lambda: self.model.delete_route_list(me, ml),
                        lambda: real_e.delete_route_list(lh), f"{me!r} delete_route_list({ml!r})")
        if res is not FAILED:
            entry = next(x for x in self.lists if x[1] is ml)
            self.lists.remove(entry)
            self.dead_lists.append(entry)

    @precondition(lambda self: self.lists or self.dead_lists)
    @rule(e=ent_st, k=idx, how=st.integers(0, 9), n=batch_st, drain=st.booleans(),
          keep=st.booleans())
    def route_list_enum(self, e, k, how, n, drain, keep):
        """A list enumeration: drained at once, or left open (enum_next)."""
        picked = self.list_pick(e, k, how)
        if picked is None:
            return
        lh, ml = picked
        real_e, me = self.ents[e]
        what = f"{me!r} create_route_list_enum({ml!r})"
        res = self.both(lambda: self.model.create_route_list_enum(me, ml),
                        lambda: real_e.create_route_list_enum(lh), what)
        if res is FAILED:
            return
        men, eh = res
        if not drain:
            self.open_enums.append((eh, men, e))
            return
        got: list[int] = []
        for _ in range(len(ml.routes) + 2):
            batch = self._next_routes(e, eh, men, n, what, "list")
            if batch is None:
                break
            got += batch
            if n is not None and len(batch) < n or n == 0:
                break
        if keep:
            self.route_pool += got
        elif got:
            self.both(lambda: self.model.release_routes([self.routes.h2m[h] for h in got]),
                      lambda: real_e.release_routes(got), f"{what}: release")
        self.both(lambda: self.model.delete_enum(me, men),
                  lambda: real_e.delete_enum_handle(eh), f"{what}: delete")


TestRtm = RtmMachine.TestCase
TestRtm.settings = settings(settings(), report_multiple_bugs=False)


class RtmMachine6(RtmMachine):
    """The same on an IPv6 table: hold-down, aging and lists where the IPv6
    lookup index serves the batch lookups."""

    FAMILY = V6Machine.FAMILY
    FLOOD = V6Machine.FLOOD
    PREFIXES = V6Machine.PREFIXES
    PROBES = V6Machine.PROBES
    BAD = V6Machine.BAD
    NH_ADDRS = V6Machine.NH_ADDRS


TestRtmIPv6 = RtmMachine6.TestCase
TestRtmIPv6.settings = settings(settings(), report_multiple_bugs=False)


# ---------------------------------------------------------------------------
# Deterministic examples
# ---------------------------------------------------------------------------
def test_an_ignored_entry_of_a_freed_destination_keeps_its_place():
    """Decision 'pending set': destinations come back in the order of their
    first pending change.  C changes, then B is created: C comes first."""
    rtm = R.RoutingTableManager()
    e = rtm.register_entity(R.PROTO_IP_RIP)
    g = e.register_for_change_notification(ALL, CT_ALL)
    rc, _ = e.add_route_to_dest("30.0.0.0/8", metric=1, return_handle=True)
    e.release_changed_dests(g, e.get_changed_dests(g))
    ra, _ = e.add_route_to_dest("10.0.0.0/8", return_handle=True)
    da = e.search_exact("10.0.0.0/8").dest_handle
    e.delete_route_to_dest(ra)             # 10/8 stays pending: the queue keeps it
    e.ignore_changed_dests(g, [da])        # its entry is dropped, 10/8 is freed
    e.add_route_to_dest("30.0.0.0/8", route=rc, metric=2)      # C changes first
    e.add_route_to_dest("20.0.0.0/8")                          # then B is created
    infos = e.get_changed_dests(g)
    got = [d.prefix for d in infos]
    e.release_changed_dests(g, infos)
    assert got == ["30.0.0.0/8", "20.0.0.0/8"]


def test_taking_routes_out_of_lists_before_any_list_exists(tmp_path):
    """Spec 2.10: with a NULL list the routes leave their lists (here: none);
    U45-style no-op.  Run in a child process, so that a crash could not take
    the test run down."""
    code = ("import rtmcore as R\n"
            "rtm = R.RoutingTableManager()\n"
            "e = rtm.register_entity(R.PROTO_IP_RIP)\n"
            "r, _ = e.add_route_to_dest('10.0.0.0/8', return_handle=True)\n"
            "e.insert_in_route_list(None, [r])\n"
            "print('ok')\n")
    # the child imports the same rtmcore as this process (installed or built in place)
    env = dict(os.environ, PYTHONPATH=str(Path(R.__file__).resolve().parents[1]))
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, timeout=120, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == b"ok", (proc.returncode, proc.stderr)


def test_hold_end_is_queued_only_in_the_views_it_changed():
    """Spec 1.11 (a change is queued when it happened in one of the
    registration's views; F84) and U15 (hold expiry is an ALL change): the
    hold route was unicast only, so a multicast-only registration hears
    neither its deletion nor the end of its hold-down."""
    clock = R.VirtualClock(0)
    rtm = R.RoutingTableManager(clock=clock)
    e = rtm.register_entity(R.PROTO_IP_RIP)
    g = e.register_for_change_notification(MC, CT_ALL)
    r, _ = e.add_route_to_dest("10.0.0.0/8", views=U, return_handle=True)
    e.hold_destination(e.search_exact("10.0.0.0/8").dest_handle, ALL, 50)
    e.delete_route_to_dest(r)               # the unicast hold route; nothing multicast
    assert e.get_changed_dests(g) == []
    clock.advance(50)                       # the hold ends: a unicast change only
    infos = e.get_changed_dests(g)
    got = [d.prefix for d in infos]
    e.release_changed_dests(g, infos)
    assert got == []


def test_release_changed_dests_checks_the_whole_batch_first():
    """A batch naming an info twice is refused and releases nothing."""
    rtm = R.RoutingTableManager()
    e = rtm.register_entity(R.PROTO_IP_RIP)
    g = e.register_for_change_notification(ALL, CT_ALL)
    e.add_route_to_dest("30.0.0.0/8")
    e.add_route_to_dest("20.0.0.0/8")
    a, b = e.get_changed_dests(g)
    with pytest.raises(R.InvalidHandle):
        e.release_changed_dests(g, [a, b, a])
    assert rtm.core.ref_count(a.dest_handle) == 1 and rtm.core.ref_count(b.dest_handle) == 1
    e.release_changed_dests(g, [a, b])
    assert rtm.core.ref_count(a.dest_handle) == 0


def test_hold_expiry_and_notification_worked_by_hand():
    """Hold-down and expiry on one clock, values worked out from 1.9-1.11."""
    clock = R.VirtualClock(100)
    rtm = R.RoutingTableManager(clock=clock)
    calls = []

    def cb(_h, kind, c1, c2):
        calls.append((kind, c1))
        return 0 if kind == R.RTM_ROUTE_EXPIRED and c2.metric == 7 else NOT_SUPPORTED

    rip = rtm.register_entity(R.PROTO_IP_RIP, event_callback=cb)
    g = rip.register_for_change_notification(U, CT_ALL)
    r1, _ = rip.add_route_to_dest("10.0.0.0/8", metric=1, time_to_live=50, return_handle=True)
    dh = rip.search_exact("10.0.0.0/8").dest_handle
    rip.hold_destination(dh, U, 30)
    rip.hold_destination(dh, U, 20)                       # the largest hold time counts (U14)
    assert calls == [(R.RTM_CHANGE_NOTIFICATION, g)]
    rip.release_changed_dests(g, rip.get_changed_dests(g))
    clock.advance(49)
    assert rtm.counts(4) == (1, 1)
    clock.advance(1)                                       # t=150: expires, deleted, held
    assert calls[-2:] == [(R.RTM_ROUTE_EXPIRED, r1), (R.RTM_CHANGE_NOTIFICATION, g)]
    assert rtm.counts(4) == (1, 0)
    assert rip.search_exact("10.0.0.0/8", U) is None       # hold-only: seen with mask 0 only
    di = rip.search_exact("10.0.0.0/8", 0)
    assert di.view_info[0].hold_route == r1 and di.last_changed == 150
    ri, _ = rip.get_route_info(r1)
    assert ri.state == R.RTM_ROUTE_STATE_DELETED
    rip.release_route_info(ri)
    rip.release_changed_dests(g, rip.get_changed_dests(g))
    r2, _ = rip.add_route_to_dest("10.0.0.0/8", metric=7, time_to_live=5, return_handle=True)
    clock.advance(5)                                       # t=155: the callback keeps r2
    assert rip.get_route_expiry(r2) is None and rtm.core.ref_count(r2) == 2
    rip.release_routes([r2, r2])
    rip.release_changed_dests(g, rip.get_changed_dests(g))
    clock.advance(24)
    assert rip.search_exact("10.0.0.0/8", 0).view_info[0].hold_route == r1
    clock.advance(1)                                       # t=180: the hold ends (an ALL change)
    assert rip.search_exact("10.0.0.0/8", 0).view_info[0].hold_route == 0
    infos = rip.get_changed_dests(g)
    assert [d.prefix for d in infos] == ["10.0.0.0/8"]
    rip.release_changed_dests(g, infos)
    assert rtm.core.ref_count(r1) == 1          # our own handle: r1 stays readable (DELETED)
    rip.release_routes([r1])
    assert rtm.core.ref_count(r1) == 0 and rtm.counts(4) == (1, 1)    # r2 is in the table
    rtm.check_invariants()
