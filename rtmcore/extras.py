"""Locks and direct pointers, opaque pointers and entity methods (spec 1.14, 1.15, 1.17).

:class:`EntityExtras` is a mixin of :class:`rtmcore.Entity`; :func:`install`
wires it (and the manager-side rules: the opaque-pointer limit, clean-up at
deregistration) into the entity and manager classes.  Every public method takes
the manager lock (re-entrant per thread) and checks that the entity is still
registered, as every other ``Entity`` method does.

Decisions (spec section 5 and the points the spec leaves to the implementation)
------------------------------------------------------------------------------

Locks are logical (spec 1.17).
    Every call already holds the manager-wide lock, so no call ever sees a
    half-done change.  ``lock_destination``, ``lock_route`` and
    ``lock_next_hop`` are bookkeeping that enforces RTMv2's rules; they do
    not make other entities or threads wait, and the other calls
    (``add_route_to_dest``, ...) do not look at them.  A lock holds a
    reference on the object it locks, so a locked destination, route or
    next hop stays readable (and can be unlocked) even if it is deleted
    meanwhile; the reference goes with the unlock.  The rule "while a route
    lock is held, call no other RTMv2 function" is not enforced.

Destination locks (``lock_destination``; U26).
    Any registered entity may lock any destination, shared or exclusive; no
    ``AccessDenied``.  Locks are counted per (entity, destination, mode): each
    lock needs one unlock *in the same mode*; unlocking a destination the
    entity has not locked in that mode is ``InvalidParameter``.

Route locks (``lock_route``, ``update_and_unlock_route``; U8).
    Owner only (``AccessDenied``); locking a deleted route is ``NotFound``; a
    route is locked at most once at a time (a second ``lock_route`` before
    the unlock is ``InvalidParameter``).  The lock returns a
    :class:`RouteRecord`: a live view whose reads come from the manager, with
    the holder's pending edits on top.  Under an *exclusive* lock the fields
    of U8 (``neighbour``, ``flags``, ``flags1``, ``metric``, ``preference``,
    ``pref_info``, ``belongs_to_views``, ``entity_specific_info``,
    ``next_hops``) may be assigned; the values are range-checked at once and
    kept in the view.  Assigning without the lock, under a shared lock,
    through a pointer from ``get_route_pointer``, or to a field RTM owns
    (``dest_handle``, ``route_owner``, ``state``) is ``InvalidParameter``.
    ``update_and_unlock_route`` commits the edits through
    ``add_route_to_dest`` with the route handle (so the route is repositioned,
    best routes recomputed, notifications queued, the timer re-armed with
    ``time_to_live`` -- ``INFINITE`` by default, which disarms it -- and the
    route moved to ``route_list``), then unlocks; change-notification
    callbacks run before the unlock, as RTMv2 notifies before it unlocks.
    If it fails (bad next hop, route deleted meanwhile, reserved argument
    set, ...) the route stays locked with its edits;
    ``lock_route(route, exclusive, lock=False)`` unlocks without committing.
    The unlock passes the lock's mode.  (A change-notification callback that
    raises during the commit makes the call raise after the change was made;
    the route then stays locked too.)

    Next-hop references (departure from spec 1.16 / F41): because the commit
    goes through ``add_route_to_dest``, the manager takes and drops the
    references of the next hops (and neighbour) the route stores itself.  A
    client editing ``next_hops`` or ``neighbour`` in place must *not* call
    ``reference_handles`` / ``release_next_hops`` for them.

    As a context manager (``with ent.lock_route(h) as r: r.metric = 5``) a
    route lock commits on a normal exit if anything was edited (with
    ``time_to_live=INFINITE``; call ``r.commit(...)`` inside the block for
    other arguments), just unlocks when nothing was edited or the lock is
    shared, and abandons the edits (unlocks) when the block raises.  If the
    commit itself fails, the route is unlocked without committing and the
    error propagates.  ``r.change_flags`` holds the commit's change flags.

Next-hop locks (``lock_next_hop``).
    Owner only; locking a deleted next hop is ``NotFound``; counted per mode
    like destination locks.  The :class:`NextHopRecord` it returns is live;
    while the owner holds an exclusive lock on the next hop, ``flags``
    (16 bits), ``entity_specific_info`` and ``remote_next_hop`` (unsigned 64
    bits; RTM does not validate what the owner writes, spec 1.17) may be
    assigned and take effect at once.  ``next_hop_address`` and
    ``interface_index`` are never writable.

Direct pointers (``get_route_pointer``, ``get_next_hop_pointer``).
    Owner only; read-only live views of the committed record, valid while the
    object exists (a deleted route still referenced reads as DELETED);
    afterwards any read raises ``InvalidHandle``.

Opaque pointers (spec 1.14, U2, U22).
    The manager option ``max_opaque_pointers`` (rtmcore's own default: 8,
    0..65535) limits how many registered entities may have reserved an opaque
    pointer; one more ``register_entity(..., reserve_opaque_pointer=True)``
    raises ``NoSystemResources`` and registers nothing.  Deregistration frees
    the reservation and drops the entity's slot values (U4).
    ``get_opaque_information_pointer(dest)`` returns the caller's
    :class:`OpaqueSlot` in that destination (``NotFound`` if the caller
    reserved none): ``slot.value`` reads and writes it, starts as ``None``,
    and is private to (entity, destination).  The slot dies with the
    destination: a destination re-created at the same prefix starts with
    ``None``, and a slot object of a destination that is gone raises
    ``InvalidHandle``.  Slot access is atomic under the manager lock; the
    RTMv2 convention (write under an exclusive destination lock, read under a
    shared one) is recommended, not enforced.

Entity methods (spec 1.15, 2.3, U23, U25).
    ``register_entity(export_methods=[...])``: ``export_methods[i]`` is the
    method with type bit ``1 << i``; an entry that is not callable (e.g.
    ``None``) leaves that bit unexported, so an entity can export sparse
    bits.  ``get_entity_methods(entity)`` returns the exported bits in
    ascending order (never the callables).  ``invoke_method(entity,
    method_type, input_data)`` runs the target's exported methods whose bits
    are in ``method_type`` (``METHOD_TYPE_ALL_METHODS`` = all), in ascending
    bit order, each as ``method(caller_handle, callee_handle, method_type_bit,
    input_data)`` with the manager lock held (so ``block_methods(True)``
    also waits for invocations running in other threads), and returns one
    :class:`MethodOutput` ``(method_type, method_status, output_data)`` per
    method run.  A method returns ``bytes`` (status ``NO_ERROR``), a
    ``(status, bytes)`` pair, or ``None`` (``NO_ERROR``, no data).  A method
    that raises an :class:`rtmcore.RtmError` gets that error's ``winerror``
    as its status; one that raises any other ``Exception`` or returns
    anything else gets ``ERROR_INVALID_DATA`` (13); its output is empty, the
    exception is not propagated and the remaining methods still run.  If the
    target deregisters during the invocation, the methods after that point
    are not run.  Invoking a deregistered entity is ``InvalidHandle``.

    ``block_methods(True)`` blocks all of the caller's methods;
    ``block_methods(False)`` resumes them (not counted: both are idempotent).
    Per-target blocking (``target_handle`` / ``target_type``) is
    ``NotSupported`` (spec 2.3).  While the target is blocked, an invoke from
    another thread waits -- without holding the manager lock -- until the
    target resumes (then it runs) or deregisters (then ``InvalidHandle``).
    An invoke that cannot wait without deadlocking raises
    ``InvalidParameter`` instead: one from a thread that blocked the
    methods, and one made while the calling thread runs inside the manager
    (from an exported method, an entity, expiry or change-notification
    callback), where waiting would keep the manager lock from the thread
    that has to resume.  Code that holds the manager lock itself
    (``with rtm.core:``) must not invoke a blocked entity.
"""
from __future__ import annotations

import functools
import inspect
import operator
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast

from . import constants as C
from . import errors as E
from ._core import PrefInfo, RouteInfo

if TYPE_CHECKING:
    from ._core import Core, EntityCore
    from .manager import NextHopInfo, RoutingTableManager

__all__ = [
    "DEFAULT_MAX_OPAQUE_POINTERS",
    "DestinationLock",
    "EntityExtras",
    "MethodOutput",
    "NextHopRecord",
    "OpaqueSlot",
    "RouteRecord",
    "install",
]

DEFAULT_MAX_OPAQUE_POINTERS = 8
"""rtmcore's default for ``max_opaque_pointers`` (RTMv2 leaves it to the administrator, U2)."""

_MAX_OPAQUE_POINTERS_LIMIT = 0xFFFF       # an entity slot count fits in 16 bits

_U8, _U16, _U32, _U64 = 0xFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF

# Per thread: how deep the thread is inside code that runs with the manager
# lock held on behalf of the manager (exported methods, entity and expiry
# callbacks).  Waiting for a blocked entity there would deadlock.
_tls = threading.local()


def _depth() -> int:
    return getattr(_tls, "depth", 0)


class _InsideManager:
    """Context: the calling thread runs callbacks for the manager."""

    __slots__ = ()

    def __enter__(self):
        _tls.depth = _depth() + 1

    def __exit__(self, *exc):
        _tls.depth -= 1
        return False


_INSIDE = _InsideManager()


class _RouteLock:
    """One route lock: its mode and the holder's pending edits."""

    __slots__ = ("active", "edits", "exclusive", "route")

    def __init__(self, route: int, exclusive: bool):
        self.route = route                  # route handle (holds one reference while active)
        self.exclusive = exclusive
        self.edits: dict[str, Any] = {}     # field -> value, committed by update_and_unlock_route
        self.active = True                  # False once unlocked (committed or abandoned)


class _ExtrasState:
    """A manager's bookkeeping for the extras; guarded by the manager lock,
    except ``cond`` / ``version`` / ``waiting``, guarded by ``cond``."""

    def __init__(self) -> None:
        # (entity handle, dest / next-hop handle) -> [shared count, exclusive count]
        self.dest_locks: dict[tuple[int, int], list[int]] = {}
        self.nh_locks: dict[tuple[int, int], list[int]] = {}
        self.route_locks: dict[int, _RouteLock] = {}        # route handle -> its lock
        self.opaque: dict[tuple[int, int], Any] = {}        # (entity h, dest h) -> slot value
        self.purge_at = 64                                  # purge dead slots past this size
        self.blocked: dict[int, set[int]] = {}              # entity handle -> blocking threads
        self.cond = threading.Condition(threading.Lock())
        self.version = 0                                    # bumped on resume / deregistration
        self.waiting = 0                                    # invokes waiting now (for tests)

    def changed(self) -> None:
        """Wake every waiting invoke (call with the manager lock held)."""
        with self.cond:
            self.version += 1
            self.cond.notify_all()

    def wait(self, ticket: int) -> None:
        """Wait, without the manager lock, until ``version`` moves past ``ticket``."""
        with self.cond:
            self.waiting += 1
            try:
                while self.version == ticket:
                    self.cond.wait()
            finally:
                self.waiting -= 1


def _state(manager) -> _ExtrasState:
    st = manager.__dict__.get("_extras_state")
    if st is None:
        st = manager.__dict__.setdefault("_extras_state", _ExtrasState())
    return st


def _unref(core, handle: int) -> None:
    """Drop the reference a lock took, if it is still there (references are
    fungible: a delete may have consumed it)."""
    try:
        if core.ref_count(handle):
            core.release_handles([handle])
    except E.InvalidHandle:
        pass


def _uint(value, limit: int, name: str) -> int:
    if isinstance(value, bool):
        raise E.InvalidParameter(f"{name} {value!r}: an unsigned integer, not a bool")
    try:
        v = operator.index(value)
    except TypeError:
        raise E.InvalidParameter(f"{name} {value!r}: an unsigned integer") from None
    if not 0 <= v <= limit:
        raise E.InvalidParameter(f"{name} {value!r}: out of range 0..{limit:#x}")
    return v


def _next_hops(value) -> tuple:
    if value is None:
        return ()
    if isinstance(value, bool):
        raise E.InvalidParameter("next_hops: next-hop handles, not a bool")
    try:
        h = operator.index(value)
    except TypeError:
        pass
    else:
        return (_uint(h, _U64, "next hop"),) if h else ()
    try:
        return tuple(_uint(h, _U64, "next hop") for h in value)
    except TypeError:
        raise E.InvalidParameter(f"next_hops {value!r}: a handle or a sequence of handles") \
            from None


def _handle_arg(x):
    """The handle of a record view or an entity object; anything else as given."""
    if isinstance(x, (RouteRecord, NextHopRecord)):
        return x.handle
    if isinstance(x, DestinationLock):
        return x.dest_handle
    if isinstance(x, EntityExtras) or (hasattr(x, "handle") and hasattr(x, "manager")):
        return x.handle
    return x


# -- records (direct pointers) ----------------------------------------------------
_ROUTE_FIELDS = ("dest_handle", "route_owner", "neighbour", "state", "flags1", "flags",
                 "metric", "preference", "belongs_to_views", "entity_specific_info", "next_hops")
_ROUTE_RTM_FIELDS = frozenset({"dest_handle", "route_owner", "state"})
ROUTE_EDITABLE_FIELDS = frozenset({"neighbour", "flags", "flags1", "metric", "preference",
                                   "pref_info", "belongs_to_views", "entity_specific_info",
                                   "next_hops"})
_ROUTE_CHECK = {
    "neighbour": lambda v: 0 if v is None else _uint(v, _U64, "neighbour"),
    "flags": lambda v: _uint(v, _U16, "flags"),
    "flags1": lambda v: _uint(v, _U8, "flags1"),
    "metric": lambda v: _uint(v, _U32, "metric"),
    "preference": lambda v: _uint(v, _U32, "preference"),
    "belongs_to_views": lambda v: _uint(v, _U32, "belongs_to_views"),
    "entity_specific_info": lambda v: _uint(v, _U64, "entity_specific_info"),
    "next_hops": _next_hops,
}


def _route_field(name: str):
    def fget(self):
        return self._read()[name]

    def fset(self, value):
        self._edit(name, value)

    return property(fget, fset, doc=f"``{name}`` of the route (live).")


class RouteRecord:
    """A live view of a route's ``RTM_ROUTE_INFO`` (the direct pointer of
    ``RtmLockRoute`` / ``RtmGetRoutePointer``).

    Every read asks the manager (under its lock), so it shows the route as it
    is now; a view from :meth:`EntityExtras.lock_route` also shows its own
    pending edits.  Fields are those of :class:`rtmcore.RouteInfo`; handles in
    it carry no references.  See the module docstring for what may be
    assigned and when.  A view from ``lock_route`` is also a context manager
    (commit on normal exit, abandon on error).
    """

    __slots__ = ("_ent", "_lock", "_route", "change_flags")
    _ent: EntityExtras
    _route: int
    _lock: _RouteLock | None
    change_flags: int | None        # the change flags of commit(), None before it

    def __init__(self, ent: EntityExtras, route: int, lock: _RouteLock | None):
        object.__setattr__(self, "_ent", ent)
        object.__setattr__(self, "_route", route)
        object.__setattr__(self, "_lock", lock)
        object.__setattr__(self, "change_flags", None)

    # -- reading ------------------------------------------------------------------
    def _read(self) -> dict:
        ent = self._ent
        with ent.core:
            ent._live()
            r = ent.core.route_check(self._route)
            values = dict(zip(_ROUTE_FIELDS, ent.core.route_info(r, False)))
            lock = self._lock
            if lock is not None and lock.active:
                values.update(lock.edits)
            return values

    neighbour = _route_field("neighbour")
    flags = _route_field("flags")
    flags1 = _route_field("flags1")
    metric = _route_field("metric")
    preference = _route_field("preference")
    belongs_to_views = _route_field("belongs_to_views")
    entity_specific_info = _route_field("entity_specific_info")
    next_hops = _route_field("next_hops")
    dest_handle = _route_field("dest_handle")
    route_owner = _route_field("route_owner")
    state = _route_field("state")

    @property
    def pref_info(self) -> PrefInfo:
        """``PrefInfo`` (metric, preference); assign a ``PrefInfo`` or a
        ``(metric, preference)`` pair to set both."""
        v = self._read()
        return PrefInfo(v["metric"], v["preference"])

    @pref_info.setter
    def pref_info(self, value) -> None:
        try:
            metric, preference = value
        except (TypeError, ValueError):
            raise E.InvalidParameter(f"pref_info {value!r}: a PrefInfo or (metric, "
                                     "preference)") from None
        self._edit("pref_info", (metric, preference))

    @property
    def num_next_hops(self) -> int:
        return len(self._read()["next_hops"])

    @property
    def handle(self) -> int:
        """The route handle this view belongs to."""
        return self._route

    @property
    def locked(self) -> bool:
        """True while the lock this view came from is held."""
        return self._lock is not None and self._lock.active

    @property
    def edits(self) -> dict:
        """A copy of the pending (uncommitted) edits, field -> value."""
        lock = self._lock
        return dict(lock.edits) if lock is not None and lock.active else {}

    def to_route_info(self) -> RouteInfo:
        """A :class:`rtmcore.RouteInfo` copy of what the view shows now (no references)."""
        v = self._read()
        return RouteInfo(neighbour=v["neighbour"], next_hops=v["next_hops"],
                         metric=v["metric"], preference=v["preference"],
                         belongs_to_views=v["belongs_to_views"], flags=v["flags"],
                         flags1=v["flags1"], entity_specific_info=v["entity_specific_info"],
                         dest_handle=v["dest_handle"], route_owner=v["route_owner"],
                         state=v["state"])

    # -- editing ------------------------------------------------------------------
    def _edit(self, name: str, value) -> None:
        ent = self._ent
        with ent.core:
            ent._live()
            if name in _ROUTE_RTM_FIELDS:
                raise E.InvalidParameter(f"{name} is set by the manager; it cannot be edited "
                                         "(editable: " + ", ".join(sorted(ROUTE_EDITABLE_FIELDS))
                                         + ")")
            lock = self._lock
            if lock is None:
                raise E.InvalidParameter("a route pointer from get_route_pointer is read-only; "
                                         "lock the route with lock_route() to edit it")
            if not lock.active:
                raise E.InvalidParameter(f"route {self._route:#x} is not locked by this view: "
                                         "lock it with lock_route() before editing")
            if not lock.exclusive:
                raise E.InvalidParameter(f"route {self._route:#x} is locked shared (read-only); "
                                         "lock it exclusive to edit it")
            if name == "pref_info":
                metric, preference = value
                lock.edits["metric"] = _ROUTE_CHECK["metric"](metric)
                lock.edits["preference"] = _ROUTE_CHECK["preference"](preference)
            else:
                lock.edits[name] = _ROUTE_CHECK[name](value)

    def __setattr__(self, name, value):
        if name in ROUTE_EDITABLE_FIELDS or name in _ROUTE_RTM_FIELDS:
            object.__setattr__(self, name, value)
        else:
            raise AttributeError(f"RouteRecord has no editable field {name!r}; editable: "
                                 + ", ".join(sorted(ROUTE_EDITABLE_FIELDS)))

    def commit(self, time_to_live: int = C.INFINITE, route_list: int | None = None) -> int:
        """``update_and_unlock_route`` of this view's route; returns the change flags."""
        flags = self._ent.update_and_unlock_route(self._route, time_to_live, route_list)
        object.__setattr__(self, "change_flags", flags)
        return flags

    def abandon(self) -> None:
        """Unlock without committing (``lock_route(route, exclusive, lock=False)``)."""
        lock = self._lock
        if lock is None:
            raise E.InvalidParameter("a route pointer is not a lock")
        self._ent.lock_route(self._route, lock.exclusive, lock=False)

    def __enter__(self) -> RouteRecord:
        return self

    def __exit__(self, exc_type, exc, tb) -> Literal[False]:
        lock = self._lock
        if lock is None or not lock.active:
            return False
        if exc_type is not None:
            try:
                self.abandon()
            except E.RtmError:
                pass                      # the block's own exception is the one to see
            return False
        if lock.exclusive and lock.edits:
            try:
                self.commit()
            except BaseException:
                if lock.active:
                    try:
                        self.abandon()
                    except E.RtmError:
                        pass
                raise
        else:
            self.abandon()
        return False

    def __repr__(self) -> str:
        lock = self._lock
        kind = ("locked " + ("exclusive" if lock.exclusive else "shared")
                if lock is not None and lock.active else "pointer" if lock is None else "unlocked")
        try:
            v = self._read()
        except E.RtmError as exc:
            return f"<RouteRecord {self._route:#x} ({kind}): {exc}>"
        return (f"<RouteRecord {self._route:#x} ({kind}) metric={v['metric']} "
                f"preference={v['preference']} views={v['belongs_to_views']:#x} "
                f"next_hops={tuple(hex(h) for h in v['next_hops'])} state={v['state']}>")


_NH_WRITABLE = {
    "flags": lambda v: _uint(v, _U16, "flags"),
    "entity_specific_info": lambda v: _uint(v, _U64, "entity_specific_info"),
    "remote_next_hop": lambda v: 0 if v is None else _uint(v, _U64, "remote_next_hop"),
}
_NH_FIELDS = ("next_hop_address", "interface_index", "flags", "entity_specific_info",
              "remote_next_hop", "next_hop_owner", "state")


def _nh_field(name: str):
    def fget(self):
        return getattr(self._read(), name)

    def fset(self, value):
        self._write(name, value)

    return property(fget, fset, doc=f"``{name}`` of the next hop (live).")


class NextHopRecord:
    """A live view of a next hop's ``RTM_NEXTHOP_INFO`` (the direct pointer of
    ``RtmLockNextHop`` / ``RtmGetNextHopPointer``).

    Reads ask the manager.  From :meth:`EntityExtras.lock_next_hop`, while the
    owner holds an exclusive lock on the next hop, ``flags``,
    ``entity_specific_info`` and ``remote_next_hop`` may be assigned and take
    effect at once; ``next_hop_address`` and ``interface_index`` never.
    """

    __slots__ = ("_ent", "_from_lock", "_nh")
    _ent: EntityExtras
    _nh: int
    _from_lock: bool

    def __init__(self, ent: EntityExtras, nh: int, from_lock: bool):
        object.__setattr__(self, "_ent", ent)
        object.__setattr__(self, "_nh", nh)
        object.__setattr__(self, "_from_lock", from_lock)

    def _read(self):
        ent = self._ent
        with ent.core:
            ent._live()
            return ent._nh_info(ent.core.nh_check(self._nh), False)

    next_hop_address = _nh_field("next_hop_address")
    interface_index = _nh_field("interface_index")
    flags = _nh_field("flags")
    entity_specific_info = _nh_field("entity_specific_info")
    remote_next_hop = _nh_field("remote_next_hop")
    next_hop_owner = _nh_field("next_hop_owner")
    state = _nh_field("state")

    @property
    def handle(self) -> int:
        return self._nh

    @property
    def locked(self) -> bool:
        """True while the owner holds an exclusive lock on the next hop and
        this view came from a lock (i.e. assignments are allowed)."""
        ent = self._ent
        with ent.core:
            counts = _state(ent.manager).nh_locks.get((ent.handle, self._nh))
            return self._from_lock and bool(counts and counts[1])

    def to_next_hop_info(self):
        """A ``NextHopInfo`` copy (no references)."""
        return self._read()

    def _write(self, name: str, value) -> None:
        ent = self._ent
        core = ent.core
        with core:
            ent._live()
            s = core.nh_check(self._nh)
            if name not in _NH_WRITABLE:
                raise E.InvalidParameter(
                    f"{name} of a next hop cannot be changed in place (writable: flags, "
                    "entity_specific_info, remote_next_hop)")
            if not self._from_lock:
                raise E.InvalidParameter("a next-hop pointer from get_next_hop_pointer is "
                                         "read-only; lock the next hop to change it")
            counts = _state(ent.manager).nh_locks.get((ent.handle, self._nh))
            if not counts or not counts[1]:
                raise E.InvalidParameter(f"next hop {self._nh:#x} is not locked exclusive by "
                                         "its owner: lock_next_hop(nh, exclusive=True) first")
            v = _NH_WRITABLE[name](value)
            info = ent._nh_info(s, False)
            if info.state != C.RTM_NEXTHOP_STATE_CREATED:
                raise E.NotFound("the next hop was deleted")
            fields = {"flags": info.flags, "entity_specific_info": info.entity_specific_info,
                      "remote_next_hop": info.remote_next_hop, name: v}
            core.nh_set(s, fields["flags"], fields["entity_specific_info"],
                        fields["remote_next_hop"])

    def __setattr__(self, name, value):
        if name in _NH_FIELDS:
            object.__setattr__(self, name, value)
        else:
            raise AttributeError(f"NextHopRecord has no field {name!r}")

    def __repr__(self) -> str:
        try:
            i = self._read()
        except E.RtmError as exc:
            return f"<NextHopRecord {self._nh:#x}: {exc}>"
        return (f"<NextHopRecord {self._nh:#x} {i.next_hop_address} if={i.interface_index} "
                f"flags={i.flags:#x} state={i.state}>")


class DestinationLock:
    """What :meth:`EntityExtras.lock_destination` returns: the lock is already
    held; as a context manager it unlocks (same mode) when the block ends."""

    __slots__ = ("_ent", "_held", "dest_handle", "exclusive")

    def __init__(self, ent, dest_handle: int, exclusive: bool):
        self._ent = ent
        self.dest_handle = dest_handle
        self.exclusive = exclusive
        self._held = True

    @property
    def held(self) -> bool:
        return self._held

    def unlock(self) -> None:
        """Unlock (once); ``InvalidParameter`` if this lock object was unlocked already."""
        if not self._held:
            raise E.InvalidParameter("this destination lock was already unlocked")
        self._ent.lock_destination(self.dest_handle, self.exclusive, lock=False)
        self._held = False

    def __enter__(self) -> DestinationLock:
        return self

    def __exit__(self, exc_type, exc, tb) -> Literal[False]:
        if self._held:
            try:
                self.unlock()
            except E.RtmError:
                if exc_type is None:
                    raise
        return False

    def __repr__(self) -> str:
        mode = "exclusive" if self.exclusive else "shared"
        return f"<DestinationLock {self.dest_handle:#x} {mode}{'' if self._held else ' (released)'}>"


class OpaqueSlot:
    """An entity's opaque-pointer slot in one destination (the ``PVOID*`` of
    ``RtmGetOpaqueInformationPointer``): ``value`` reads and writes it.

    It starts as ``None`` and is private to (entity, destination).  Once the
    destination is gone (or the entity deregistered) every access raises
    ``InvalidHandle``.
    """

    __slots__ = ("_ent", "dest_handle")

    def __init__(self, ent, dest_handle: int):
        self._ent = ent
        self.dest_handle = dest_handle

    def _key(self):
        ent = self._ent
        ent._live()
        ent.core.dest_check(self.dest_handle)
        return ent.handle, self.dest_handle

    @property
    def value(self):
        ent = self._ent
        with ent.core:
            return _state(ent.manager).opaque.get(self._key())

    @value.setter
    def value(self, v) -> None:
        ent = self._ent
        with ent.core:
            key = self._key()
            st = _state(ent.manager)
            if v is None:
                st.opaque.pop(key, None)
            else:
                st.opaque[key] = v
                _purge_opaque(st, ent.core)

    def __eq__(self, other):
        if not isinstance(other, OpaqueSlot):
            return NotImplemented
        return (self._ent is other._ent) and self.dest_handle == other.dest_handle

    def __hash__(self):
        return hash((id(self._ent), self.dest_handle))

    def __repr__(self) -> str:
        return f"<OpaqueSlot entity={self._ent.handle:#x} dest={self.dest_handle:#x}>"


def _purge_opaque(st: _ExtrasState, core) -> None:
    """Forget the slot values of destinations that are gone (amortised O(1))."""
    if len(st.opaque) <= st.purge_at:
        return
    for key in list(st.opaque):
        try:
            core.dest_check(key[1])
        except E.InvalidHandle:
            del st.opaque[key]
    st.purge_at = max(64, 2 * len(st.opaque))


class MethodOutput(NamedTuple):
    """One ``RTM_ENTITY_METHOD_OUTPUT`` record of :meth:`EntityExtras.invoke_method`."""

    method_type: int          # the bit of the method that produced the record
    method_status: int        # its Win32 status (NO_ERROR = 0)
    output_data: bytes        # its output


def _method_output(bit: int, result) -> MethodOutput:
    if result is None:
        return MethodOutput(bit, E.NO_ERROR, b"")
    if isinstance(result, (bytes, bytearray, memoryview)):
        return MethodOutput(bit, E.NO_ERROR, bytes(result))
    if isinstance(result, tuple) and len(result) == 2:
        status, data = result
        if isinstance(status, int) and not isinstance(status, bool) and 0 <= status <= _U32:
            if data is None:
                return MethodOutput(bit, status, b"")
            if isinstance(data, (bytes, bytearray, memoryview)):
                return MethodOutput(bit, status, bytes(data))
    return MethodOutput(bit, E.ERROR_INVALID_DATA, b"")


def _exported(ent) -> list[int]:
    return [i for i, m in enumerate(getattr(ent, "export_methods", None) or ()) if callable(m)]


# -- the mixin ------------------------------------------------------------------------
class EntityExtras:
    """Locks and direct pointers, opaque pointers and entity methods of an
    :class:`rtmcore.Entity` (see the module docstring for every decision)."""

    __slots__ = ()

    # What the methods use of the entity class they are part of (rtmcore.Entity).
    core: Core
    slot: int
    handle: int
    manager: RoutingTableManager
    _live: Callable[[], None]
    _nh_info: Callable[[int, bool], NextHopInfo]

    # -- destination locks (spec 1.17, 2.2) -------------------------------------------
    def lock_destination(self, dest: int, exclusive: bool = True,
                         lock: bool = True) -> DestinationLock | None:
        """Lock or unlock a destination (``RtmLockDestination``).

        Parameters
        ----------
        dest : int
            Destination handle (any entity may lock any destination, U26).
        exclusive : bool
            Write (True) or read (False) mode; the unlock passes the same mode.
        lock : bool
            True locks, False unlocks.

        Returns
        -------
        DestinationLock or None
            On lock, an object that unlocks when used as a context manager
            (``with ent.lock_destination(d): ...``); on unlock, None.

        Raises
        ------
        InvalidHandle
            Stale destination handle, or the entity is deregistered.
        InvalidParameter
            Unlocking a destination this entity has not locked in that mode.
        """
        core = self.core
        with core:
            self._live()
            h = core.dest_handle(core.dest_check(_handle_arg(dest)))
            st = _state(self.manager)
            _counted_lock(core, st.dest_locks, (self.handle, h), bool(exclusive), bool(lock),
                          "destination")
            return DestinationLock(self, h, bool(exclusive)) if lock else None

    # -- route locks and pointers (spec 1.17, 2.5) ------------------------------------
    def lock_route(self, route: int, exclusive: bool = True,
                   lock: bool = True) -> RouteRecord | None:
        """Lock a route and get a live view of it, or unlock it without
        committing (``RtmLockRoute``).

        Owner only.  With ``lock=True`` returns a :class:`RouteRecord`; under
        an exclusive lock its U8 fields may be assigned, and
        :meth:`update_and_unlock_route` commits them.  ``lock=False``
        abandons the pending edits and unlocks (pass the lock's mode).

        Raises
        ------
        AccessDenied
            The route belongs to another entity.
        NotFound
            Locking a deleted route.
        InvalidParameter
            Locking a route that is already locked; unlocking one that is not
            locked (in that mode).
        InvalidHandle
            Stale route handle, or the entity is deregistered.
        """
        core = self.core
        with core:
            self._live()
            r = core.route_check(_handle_arg(route))
            if core.route_owner(r) != self.slot:
                raise E.AccessDenied("only the route's owner may lock it")
            h = core.route_handle(r)
            st = _state(self.manager)
            held = st.route_locks.get(h)
            if lock:
                if held is not None:
                    raise E.InvalidParameter(f"route {h:#x} is already locked; unlock it (or "
                                             "update_and_unlock_route) first")
                if core.route_state(r) != C.RTM_ROUTE_STATE_CREATED:
                    raise E.NotFound("the route was deleted")
                core.reference_handles([h])
                lk = _RouteLock(h, bool(exclusive))
                st.route_locks[h] = lk
                return RouteRecord(self, h, lk)
            if held is None or held.exclusive != bool(exclusive):
                raise E.InvalidParameter(
                    f"route {h:#x} is not locked {'exclusive' if exclusive else 'shared'}"
                    + ("" if held is None else
                       f" (it is locked {'exclusive' if held.exclusive else 'shared'})"))
            _end_route_lock(core, st, held)
            return None

    def update_and_unlock_route(self, route: int, time_to_live: int = C.INFINITE,
                                route_list: int | None = None, notify_type: int = 0,
                                notify_handle: int | None = None) -> int:
        """Commit the edits made through a route lock, then unlock
        (``RtmUpdateAndUnlockRoute``).

        The route is updated as by ``add_route_to_dest`` with its handle:
        repositioned, best routes recomputed, changes notified, its timer set
        from ``time_to_live`` (``INFINITE``: never expires), moved into
        ``route_list`` if given.  ``notify_type`` / ``notify_handle`` are
        reserved (0 / None).

        Returns
        -------
        int
            Change flags: ``RTM_ROUTE_CHANGE_BEST`` if the best route of some
            view changed.

        Raises
        ------
        InvalidParameter
            The route is not locked (or a reserved argument is set, a next hop
            is deleted, ...).
        AccessDenied
            Not the owner (or a next hop of another entity was put in).
        NotFound
            The route was deleted while locked.

        On any failure the route stays locked with its pending edits.
        """
        core = self.core
        with core:
            self._live()
            r = core.route_check(_handle_arg(route))
            if core.route_owner(r) != self.slot:
                raise E.AccessDenied("only the route's owner may update it")
            h = core.route_handle(r)
            st = _state(self.manager)
            lk = st.route_locks.get(h)
            if lk is None:
                raise E.InvalidParameter(f"route {h:#x} is not locked: lock_route() it first")
            v = dict(zip(_ROUTE_FIELDS, core.route_info(r, False)))
            v.update(lk.edits)
            dest = core.dest_address(core.route_dest(r))
            _, flags = cast("EntityCore", self).add_route_to_dest(
                dest, route=h, neighbour=v["neighbour"], next_hops=v["next_hops"],
                metric=v["metric"], preference=v["preference"], views=v["belongs_to_views"],
                flags=v["flags"], flags1=v["flags1"],
                entity_specific_info=v["entity_specific_info"], time_to_live=time_to_live,
                route_list=route_list, notify_type=notify_type, notify_handle=notify_handle)
            if lk.active and st.route_locks.get(h) is lk:
                _end_route_lock(core, st, lk)
            return flags

    def get_route_pointer(self, route: int) -> RouteRecord:
        """A read-only live view of one of the caller's routes
        (``RtmGetRoutePointer``); ``AccessDenied`` for another entity's route."""
        core = self.core
        with core:
            self._live()
            r = core.route_check(_handle_arg(route))
            if core.route_owner(r) != self.slot:
                raise E.AccessDenied("only the route's owner may get a pointer to it")
            return RouteRecord(self, core.route_handle(r), None)

    # -- next-hop locks and pointers (spec 1.17, 2.7) ---------------------------------
    def lock_next_hop(self, next_hop: int, exclusive: bool = True,
                      lock: bool = True) -> NextHopRecord | None:
        """Lock (and get a live view of) or unlock one of the caller's next
        hops (``RtmLockNextHop``).

        While the caller holds an exclusive lock, the view's ``flags``,
        ``entity_specific_info`` and ``remote_next_hop`` may be assigned and
        apply at once.  Locks are counted per mode; the unlock passes the
        lock's mode.

        Raises
        ------
        AccessDenied
            The next hop belongs to another entity.
        NotFound
            Locking a deleted next hop.
        InvalidParameter
            Unlocking a next hop not locked in that mode.
        """
        core = self.core
        with core:
            self._live()
            s = core.nh_check(_handle_arg(next_hop))
            if core.nh_owner(s) != self.slot:
                raise E.AccessDenied("only the next hop's owner may lock it")
            h = core.nh_slot_handle(s)
            if lock and self._nh_info(s, False).state != C.RTM_NEXTHOP_STATE_CREATED:
                raise E.NotFound("the next hop was deleted")
            _counted_lock(core, _state(self.manager).nh_locks, (self.handle, h),
                          bool(exclusive), bool(lock), "next hop")
            return NextHopRecord(self, h, True) if lock else None

    def get_next_hop_pointer(self, next_hop: int) -> NextHopRecord:
        """A read-only live view of one of the caller's next hops
        (``RtmGetNextHopPointer``); ``AccessDenied`` for another entity's."""
        core = self.core
        with core:
            self._live()
            s = core.nh_check(_handle_arg(next_hop))
            if core.nh_owner(s) != self.slot:
                raise E.AccessDenied("only the next hop's owner may get a pointer to it")
            return NextHopRecord(self, core.nh_slot_handle(s), False)

    # -- opaque pointers (spec 1.14, 2.2) ---------------------------------------------
    def get_opaque_information_pointer(self, dest: int) -> OpaqueSlot:
        """The caller's opaque slot in a destination
        (``RtmGetOpaqueInformationPointer``).

        Raises ``NotFound`` if the entity registered without
        ``reserve_opaque_pointer=True``, ``InvalidHandle`` for a stale
        destination handle.
        """
        core = self.core
        with core:
            self._live()
            h = core.dest_handle(core.dest_check(_handle_arg(dest)))
            if not getattr(self, "reserve_opaque_pointer", False):
                raise E.NotFound("this entity reserved no opaque pointer at registration")
            _purge_opaque(_state(self.manager), core)
            return OpaqueSlot(self, h)

    # -- entity methods (spec 1.15, 2.3) ----------------------------------------------
    def get_entity_methods(self, entity_handle: int) -> list[int]:
        """The method type bits an entity exports (``RtmGetEntityMethods``),
        ascending.  The methods themselves are reached only through
        :meth:`invoke_method`.  ``InvalidHandle`` if the entity is not
        registered.  The handle is not consumed (U29)."""
        core = self.core
        with core:
            self._live()
            e = core.ent_check(_handle_arg(entity_handle))
            target = self.manager._entities.get(e)
            return [1 << i for i in _exported(target)] if target is not None else []

    def invoke_method(self, entity_handle: int, method_type: int,
                      input_data: bytes = b"") -> list[MethodOutput]:
        """Run methods another (or this) entity exports (``RtmInvokeMethod``).

        Parameters
        ----------
        entity_handle : int
            The target entity.
        method_type : int
            Bit mask of the methods to run (``METHOD_TYPE_ALL_METHODS``: all).
        input_data : bytes
            Passed to every method run.

        Returns
        -------
        list of MethodOutput
            ``(method_type, method_status, output_data)`` per method run, in
            ascending bit order (U23).

        Raises
        ------
        InvalidHandle
            The target is not registered (or deregisters while this call
            waits for it).
        InvalidParameter
            Bad arguments; or the target's methods are blocked and this call
            cannot wait for them (it is made by the thread that blocked them,
            or from inside the manager: an exported method or a callback).
        """
        mask = _uint(method_type, _U32, "method_type")
        if not isinstance(input_data, (bytes, bytearray, memoryview)):
            raise E.InvalidParameter("input_data must be bytes")
        data = bytes(input_data)
        core = self.core
        st = _state(self.manager)
        while True:
            with core:
                self._live()
                e = core.ent_check(_handle_arg(entity_handle))
                target = self.manager._entities[e]
                blockers = st.blocked.get(target.handle)
                if not blockers:
                    return self._run_methods(target, mask, data)
                if threading.get_ident() in blockers:
                    raise E.InvalidParameter(
                        "the target's methods are blocked by this thread: waiting would "
                        "deadlock (block_methods(False) first)")
                if _depth() or getattr(self.manager, "_dispatching", False):
                    raise E.InvalidParameter(
                        "the target's methods are blocked, and this call runs inside the "
                        "manager (an exported method or a callback), where waiting would "
                        "deadlock")
                ticket = st.version
            st.wait(ticket)          # the manager lock is free while waiting

    def _run_methods(self, target, mask: int, data: bytes) -> list[MethodOutput]:
        """Run the selected methods in bit order (manager lock held)."""
        out = []
        methods = list(target.export_methods or ())
        for i, method in enumerate(methods):
            bit = 1 << i
            if not mask & bit or not callable(method):
                continue
            try:
                self.core.ent_check(target.handle)
            except E.InvalidHandle:
                break                                  # deregistered by an earlier method
            try:
                with _INSIDE:
                    result = method(self.handle, target.handle, bit, data)
            except E.RtmError as exc:
                out.append(MethodOutput(bit, exc.winerror or E.ERROR_INVALID_DATA, b""))
                continue
            except Exception:  # noqa: BLE001 - recorded as the method's status (module doc)
                out.append(MethodOutput(bit, E.ERROR_INVALID_DATA, b""))
                continue
            out.append(_method_output(bit, result))
        return out

    def block_methods(self, blocking_flag: int = C.RTM_BLOCK_METHODS, target_handle=None,
                      target_type: int = 0) -> None:
        """Block (``RTM_BLOCK_METHODS`` / True) or resume (``RTM_RESUME_METHODS``
        / False) all of the caller's methods (``RtmBlockMethods``).

        While blocked, invocations from other threads wait; resuming lets them
        run.  Blocking a particular destination, route or next hop
        (``target_handle`` / ``target_type``) is ``NotSupported`` (spec 2.3).
        """
        core = self.core
        with core:
            self._live()
            if target_handle or target_type:
                raise E.NotSupported("blocking methods per destination, route or next hop is "
                                     "not supported; pass no target to block all methods")
            if isinstance(blocking_flag, bool):
                flag = int(blocking_flag)
            else:
                flag = _uint(blocking_flag, _U32, "blocking_flag")
            if flag not in (C.RTM_BLOCK_METHODS, C.RTM_RESUME_METHODS):
                raise E.InvalidParameter(f"blocking_flag {blocking_flag!r}: RTM_BLOCK_METHODS "
                                         "or RTM_RESUME_METHODS")
            st = _state(self.manager)
            if flag == C.RTM_BLOCK_METHODS:
                st.blocked.setdefault(self.handle, set()).add(threading.get_ident())
            elif st.blocked.pop(self.handle, None) is not None:
                st.changed()


def _counted_lock(core, table: dict, key: tuple, exclusive: bool, lock: bool, what: str) -> None:
    """Count a lock (taking a reference on the object) or an unlock (dropping it)."""
    mode = 1 if exclusive else 0
    name = "exclusive" if exclusive else "shared"
    if lock:
        core.reference_handles([key[1]])
        table.setdefault(key, [0, 0])[mode] += 1
        return
    counts = table.get(key)
    if not counts or not counts[mode]:
        raise E.InvalidParameter(f"{what} {key[1]:#x} is not locked {name} by this entity")
    counts[mode] -= 1
    if not any(counts):
        del table[key]
    _unref(core, key[1])


def _end_route_lock(core, st: _ExtrasState, lk: _RouteLock) -> None:
    lk.active = False
    lk.edits = {}
    st.route_locks.pop(lk.route, None)
    _unref(core, lk.route)


def _forget_entity(core, st: _ExtrasState, ent) -> None:
    """Deregistration (U4): drop the entity's locks (and their references),
    opaque slot values and method block."""
    h = ent.handle
    for table in (st.dest_locks, st.nh_locks):
        for key in [k for k in table if k[0] == h]:
            for _ in range(sum(table.pop(key))):
                _unref(core, key[1])
    for lk in list(st.route_locks.values()):
        try:
            mine = core.route_owner(core.route_check(lk.route)) == ent.slot
        except E.InvalidHandle:
            mine = True
        if mine:
            _end_route_lock(core, st, lk)
    for key in [k for k in st.opaque if k[0] == h]:
        del st.opaque[key]
    st.blocked.pop(h, None)


# -- wiring ---------------------------------------------------------------------------
_WRAPPED = "_rtmcore_extras_wrapper"


def _opaque_limit(manager) -> int:
    return getattr(manager, "max_opaque_pointers", DEFAULT_MAX_OPAQUE_POINTERS)


def _check_max_opaque(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or \
            not 0 <= value <= _MAX_OPAQUE_POINTERS_LIMIT:
        raise E.BadConfiguration(
            f"max_opaque_pointers must be within 0..{_MAX_OPAQUE_POINTERS_LIMIT}")
    return value


def _wrap(cls, name: str, make: Callable[[Callable], Callable]) -> None:
    orig = cls.__dict__.get(name) or getattr(cls, name)
    if getattr(orig, _WRAPPED, False):
        return
    new = functools.wraps(orig)(make(orig))
    setattr(new, _WRAPPED, True)
    setattr(cls, name, new)


def install(entity_cls, manager_cls) -> None:
    """Wire the extras into the entity and manager classes (idempotent).

    * ``entity_cls`` gains the :class:`EntityExtras` methods (unless it
      already derives from it, or defines a method of the same name itself);
    * ``manager_cls(max_opaque_pointers=...)`` is accepted (unless its
      constructor takes it already) and stored as ``max_opaque_pointers``;
    * ``manager_cls.register_entity`` refuses one reservation of an opaque
      pointer past ``max_opaque_pointers`` with ``NoSystemResources`` (U22);
    * ``manager_cls._deregister`` drops the entity's locks, opaque slot
      values and method block, and wakes invocations waiting for it;
    * ``manager_cls._broadcast`` and ``process_timers`` mark the calling
      thread as running callbacks (so ``invoke_method`` refuses to wait there).
    """
    if not issubclass(entity_cls, EntityExtras):
        for name, value in vars(EntityExtras).items():
            if name.startswith("__") or name in vars(entity_cls):
                continue
            setattr(entity_cls, name, value)

    init_params = inspect.signature(manager_cls.__init__).parameters
    if "max_opaque_pointers" not in init_params:
        def make_init(orig):
            def __init__(self, *args, max_opaque_pointers: int = DEFAULT_MAX_OPAQUE_POINTERS,
                         **kwargs):
                limit = _check_max_opaque(max_opaque_pointers)
                orig(self, *args, **kwargs)
                self.max_opaque_pointers = limit
            return __init__
        _wrap(manager_cls, "__init__", make_init)

    reg_sig = inspect.signature(manager_cls.register_entity)

    def make_register(orig):
        def register_entity(self, *args, **kwargs):
            with self._core:
                try:
                    bound = reg_sig.bind(self, *args, **kwargs)
                except TypeError:
                    return orig(self, *args, **kwargs)       # let it report the bad call
                if bound.arguments.get("reserve_opaque_pointer", False):
                    limit = _opaque_limit(self)
                    used = sum(1 for e in self._entities.values()
                               if getattr(e, "reserve_opaque_pointer", False))
                    if used >= limit:
                        raise E.NoSystemResources(
                            f"all {limit} opaque pointers are reserved (max_opaque_pointers)")
                return orig(self, *args, **kwargs)
        return register_entity
    _wrap(manager_cls, "register_entity", make_register)

    def make_deregister(orig):
        def _deregister(self, ent):
            with self._core:
                st = self.__dict__.get("_extras_state")
                if st is not None:
                    _forget_entity(self._core, st, ent)
                try:
                    return orig(self, ent)
                finally:
                    if st is not None:
                        st.changed()
        return _deregister
    _wrap(manager_cls, "_deregister", make_deregister)

    def make_inside(orig):
        def inside(self, *args, **kwargs):
            with _INSIDE:
                return orig(self, *args, **kwargs)
        return inside
    for name in ("_broadcast", "process_timers"):
        if hasattr(manager_cls, name):
            _wrap(manager_cls, name, make_inside)
