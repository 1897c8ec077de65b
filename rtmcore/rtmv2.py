"""RTMv2 functions under their C names, returning Win32 status codes.

This module is for porting C code that calls RTMv2 line by line.  Each
``RtmXxx`` function does what the :class:`rtmcore.Entity` method of the same
name (``RtmAddRouteToDest`` -> ``Entity.add_route_to_dest``) does, but speaks
the C calling convention instead of the Pythonic one.

Mapping rules
-------------
Status first, outputs after
    Every function returns the Win32 status first: ``NO_ERROR`` (0) on
    success, otherwise the code the failure carries (an
    :class:`rtmcore.RtmError`'s ``.winerror``).  RTMv2 failures are never
    raised.  A function with output parameters returns a tuple
    ``(status, out1, out2, ...)`` with the outputs in the order of the C
    prototype; a function without outputs returns the bare ``status``::

        status, route_handle, change_flags = RtmAddRouteToDest(reg, NEW_HANDLE, ...)
        status = RtmReleaseRoutes(reg, 1, [route_handle])

Outputs on failure
    C leaves its output buffers untouched when a call fails.  Here an
    ``[in/out]`` parameter comes back as it was passed in (``NEW_HANDLE``
    comes back as 0, the NULL handle it points to) and a pure ``[out]``
    parameter comes back as ``None``.  The one exception is the capacity
    protocol of ``RtmGetRegisteredEntities`` (see there).

Handles
    Handles are integers.  The registration handle may be the
    :class:`rtmcore.Entity` object ``RtmRegisterEntity`` returns or its integer
    ``.handle``; integers are resolved among the entities of the managers this
    module has seen (a manager passed to ``RtmRegisterEntity``, or the manager
    of any ``Entity`` object passed in); passing the object is the
    unambiguous form.  Anything that is not a valid handle
    (stale, forged, of another manager, not an integer) gives
    ``ERROR_INVALID_HANDLE``.

The three handle modes of ``RtmAddRouteToDest`` and ``RtmAddNextHop``
    The C ``[in/out, opt]`` handle pointer becomes one argument:

    * a non-zero handle: update that object (no search); the same handle is
      returned, with no extra reference;
    * :data:`NEW_HANDLE` or ``0`` ("a pointer to a NULL handle"):
      find-or-create, and return a new referenced handle (release it with
      ``RtmReleaseRoutes`` / ``RtmReleaseNextHops``);
    * ``None`` ("a NULL pointer"): find-or-create, no handle (``None`` is
      returned in its place).

Optional outputs
    Where C accepts NULL for an optional output buffer (``RouteInfo`` and
    ``DestAddress`` of ``RtmGetRouteInfo``, ``RouteHandle`` of
    ``RtmGetExactMatchRoute``), pass ``None`` to skip it (its place in the
    result is then ``None`` and no reference is taken) or anything else
    (e.g. ``True`` or ``NEW_HANDLE``) to receive it.

Structures
    C structures are the Python objects of :mod:`rtmcore`: ``EntityInfo``,
    ``RegnProfile``, ``NetAddress`` (build it with the address macros,
    re-exported here), ``RouteInfo`` / ``PrefInfo``, ``NextHopInfo`` and
    ``DestInfo`` (its ``view_info`` is a list, one entry per requested view).
    Variable-length arrays are Python lists; the count arguments of the C
    calls are kept (``RtmReleaseRoutes(reg, num_routes, route_handles)``
    releases the first ``num_routes`` handles of the list; a count larger than
    the list is ``ERROR_INVALID_PARAMETER``, a count of 0 or a ``None`` list
    does nothing, a ``None`` count means the whole list).  Callers never
    allocate buffers: info structures are returned, not filled in.

Enumerations (spec 1.12)
    ``RtmGetEnumDests``, ``RtmGetEnumRoutes`` and ``RtmGetEnumNextHops``
    return ``(status, count, items)``: ``NO_ERROR`` while more items remain,
    ``ERROR_NO_MORE_ITEMS`` once the enumeration has reached the end of the
    table, possibly together with a last non-empty batch.  Process the count
    whatever the status, and loop while the status is ``NO_ERROR``, as the
    RTMv2 samples do.  (Enumerations are live cursors, decision U21: a
    destination added behind the cursor later is still returned by a further
    call.)  ``RtmGetListEnumRoutes`` always returns ``NO_ERROR`` on success;
    a batch shorter than asked for is the end.

Direct pointers, locks, opaque pointers
    The ``RTM_ROUTE_INFO*`` / ``RTM_NEXTHOP_INFO*`` pointers of
    ``RtmLockRoute``, ``RtmGetRoutePointer``, ``RtmLockNextHop`` and
    ``RtmGetNextHopPointer`` are live record views
    (:class:`rtmcore.extras.RouteRecord`, :class:`rtmcore.extras.NextHopRecord`):
    reads show the manager's record now; under an exclusive lock the owner
    assigns the editable fields and commits route edits with
    ``RtmUpdateAndUnlockRoute``.  The ``PVOID*`` of
    ``RtmGetOpaqueInformationPointer`` is an :class:`rtmcore.extras.OpaqueSlot`
    whose ``.value`` is the slot.  The rules are in :mod:`rtmcore.extras`.

Where the Python signature differs from C
    ``RtmRegisterEntity`` takes the :class:`RoutingTableManager` first (C
    reaches the RTM implicitly; ``RtmInstanceId`` must match the manager's
    ``instance_id``).  ``RtmFindNextHop`` returns the handle only (get the
    direct pointer with ``RtmGetNextHopPointer``).  ``RtmGetEntityMethods``
    returns method type bits, not entry points (methods are reached only
    through ``RtmInvokeMethod``); ``RtmInvokeMethod`` takes an
    :class:`EntityMethodInput` and returns its output records as a list of
    :data:`EntityMethodOutput`.  The two IPv6 conversion helpers of the SDK
    header take no registration handle.  A value out of the range of its C
    type (a negative ULONG, ...) or ``None`` for a required structure gives
    ``ERROR_INVALID_PARAMETER``; anything that is not a handle where a handle
    is expected gives ``ERROR_INVALID_HANDLE``.  Other arguments of a wrong
    Python type (a string for a view mask, ...) raise ``TypeError``, as in any
    Python function: in C they would not compile.

Every function of the spec (section 2) is defined here, and the two IPv6
conversion functions of the SDK header (spec 2.12).  The constants
(:mod:`rtmcore.constants`), the Win32 status codes (:mod:`rtmcore.errors`)
and the address macros (:mod:`rtmcore.addr`) are re-exported, so
``from rtmcore.rtmv2 import *`` gives a ported program every name it needs.

Example
-------
>>> from rtmcore.rtmv2 import *
>>> rtm = RoutingTableManager()
>>> status, profile, reg = RtmRegisterEntity(
...     rtm, EntityInfo(0, AF_INET, PROTO_IP_RIP, 1), None, None, False)
>>> status, nh, flags = RtmAddNextHop(
...     reg, NextHopInfo(RTM_IPV4_MAKE_NET_ADDRESS("192.0.2.1", 32), 1), NEW_HANDLE)
>>> status, route, flags = RtmAddRouteToDest(
...     reg, NEW_HANDLE, RTM_IPV4_MAKE_NET_ADDRESS("10.0.0.0", 8),
...     RouteInfo(neighbour=nh, next_hops=[nh], metric=3), INFINITE, None, 0, None, 0)
>>> status, flags == RTM_ROUTE_CHANGE_NEW | RTM_ROUTE_CHANGE_BEST
(0, True)
>>> RtmReleaseRoutes(reg, 1, [route]), RtmDeleteNextHop(reg, nh, None), RtmDeregisterEntity(reg)
(0, 0, 0)
>>> RtmDeregisterEntity(reg) == ERROR_INVALID_HANDLE
True
"""
from __future__ import annotations

import operator
import weakref
from dataclasses import dataclass

from . import constants as _C
from . import errors as _E
from .addr import *  # noqa: F401,F403
from .addr import RTM_IPV6_GET_ADDR_AND_LEN, RTM_IPV6_SET_ADDR_AND_LEN
from .addr import __all__ as _ADDR_ALL
from .constants import *  # noqa: F401,F403
from .constants import (INFINITE, IPV6_ADDRESS_LEN_IN_BYTES, RTM_BEST_PROTOCOL,
                        RTM_MATCH_NONE, RTM_VIEW_MASK_ALL)
from .errors import (ERROR_ACCESS_DENIED, ERROR_ALREADY_EXISTS,  # noqa: F401
                     ERROR_BAD_CONFIGURATION, ERROR_FILE_NOT_FOUND, ERROR_INSUFFICIENT_BUFFER,
                     ERROR_INVALID_DATA, ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER,
                     ERROR_NO_MORE_ITEMS, ERROR_NO_SYSTEM_RESOURCES, ERROR_NOT_ENOUGH_MEMORY,
                     ERROR_NOT_FOUND, ERROR_NOT_SUPPORTED, ERROR_SUCCESS, NO_ERROR, RtmError)
from .extras import MethodOutput
from .manager import (DestInfo, DestViewInfo, Entity, EntityInfo, NetAddress,  # noqa: F401
                      NextHopInfo, PrefInfo, RegnProfile, RouteInfo, RoutingTableManager)


class _NewHandle:
    """Type of :data:`NEW_HANDLE`."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NEW_HANDLE"

    def __reduce__(self):
        return (_NewHandle, ())


NEW_HANDLE = _NewHandle()
"""A pointer to a NULL handle: find-or-create and return a referenced handle
(``RtmAddRouteToDest``, ``RtmAddNextHop``).  ``0`` means the same."""

_STATUS_NAMES = [n for n in dir(_E) if n == "NO_ERROR" or n == "ERROR_SUCCESS"
                 or n.startswith("ERROR_")]

_FUNCTIONS = [
    "RtmRegisterEntity", "RtmDeregisterEntity", "RtmGetRegisteredEntities", "RtmReleaseEntities",
    "RtmGetEntityInfo", "RtmReleaseEntityInfo",
    "RtmAddNextHop", "RtmFindNextHop", "RtmGetNextHopInfo", "RtmDeleteNextHop",
    "RtmReleaseNextHops", "RtmReleaseNextHopInfo",
    "RtmAddRouteToDest", "RtmDeleteRouteToDest", "RtmGetRouteInfo", "RtmReleaseRouteInfo",
    "RtmReleaseRoutes", "RtmIsBestRoute", "RtmGetExactMatchRoute",
    "RtmGetDestInfo", "RtmReleaseDestInfo", "RtmReleaseDests", "RtmGetExactMatchDestination",
    "RtmGetMostSpecificDestination", "RtmGetLessSpecificDestination",
    "RtmReferenceHandles",
    "RtmRegisterForChangeNotification", "RtmDeregisterFromChangeNotification",
    "RtmGetChangedDests", "RtmReleaseChangedDests", "RtmIgnoreChangedDests",
    "RtmGetChangeStatus", "RtmMarkDestForChangeNotification", "RtmIsMarkedForChangeNotification",
    # opaque pointers and destination locks (2.2), methods (2.3)
    "RtmLockDestination", "RtmGetOpaqueInformationPointer",
    "RtmGetEntityMethods", "RtmInvokeMethod", "RtmBlockMethods",
    # hold-down, route pointers and locks (2.5), next-hop pointers and locks (2.7)
    "RtmHoldDestination", "RtmGetRoutePointer", "RtmLockRoute", "RtmUpdateAndUnlockRoute",
    "RtmGetNextHopPointer", "RtmLockNextHop",
    # enumerations (2.8)
    "RtmCreateDestEnum", "RtmGetEnumDests", "RtmCreateRouteEnum", "RtmGetEnumRoutes",
    "RtmCreateNextHopEnum", "RtmGetEnumNextHops", "RtmDeleteEnumHandle",
    # route lists (2.10)
    "RtmCreateRouteList", "RtmInsertInRouteList", "RtmCreateRouteListEnum",
    "RtmGetListEnumRoutes", "RtmDeleteRouteList",
    # IPv6 conversions of the SDK header (2.12)
    "RtmConvertNetAddressToIpv6AddressAndLength", "RtmConvertIpv6AddressAndLengthToNetAddress",
]

__all__ = (_FUNCTIONS + ["NEW_HANDLE", "RoutingTableManager", "Entity", "EntityInfo",
                         "RegnProfile", "NetAddress", "PrefInfo", "RouteInfo", "NextHopInfo",
                         "DestInfo", "DestViewInfo", "RtmError", "EntityMethodInput",
                         "EntityMethodOutput"]
           + [n for n in dir(_C) if not n.startswith("_")] + list(_ADDR_ALL)
           + _STATUS_NAMES)

_U64 = (1 << 64) - 1


# ---------------------------------------------------------------------------
# Registration handles: Entity objects, or integers resolved through managers
# ---------------------------------------------------------------------------
_managers: "weakref.WeakSet[RoutingTableManager]" = weakref.WeakSet()
_by_handle: "weakref.WeakValueDictionary[int, Entity]" = weakref.WeakValueDictionary()


def _remember(ent: Entity) -> None:
    _by_handle[ent.handle] = ent
    mgr = getattr(ent, "manager", None)
    if mgr is not None:
        _managers.add(mgr)


def _registered(ent: Entity) -> bool:
    """``ent`` is the live Entity object of a registered slot (O(1))."""
    return ent.manager._views.get(ent.slot) is ent


def _entity(reg_handle) -> Entity:
    """The live Entity a registration handle names; InvalidHandle otherwise."""
    ent = _lookup(reg_handle)
    ent._live()             # deregistered: ERROR_INVALID_HANDLE, even for no-op calls
    return ent


def _lookup(reg_handle) -> Entity:
    if isinstance(reg_handle, Entity):
        _remember(reg_handle)
        return reg_handle
    h = _handle(reg_handle)
    ent = _by_handle.get(h)
    if ent is not None and ent.handle == h and _registered(ent):
        return ent
    for mgr in list(_managers):
        with mgr.core:
            try:
                slot = mgr.core.ent_check(h)          # this manager's, and registered
            except _E.InvalidHandle:
                continue
            e = mgr._entity(slot)
            _by_handle[h] = e
            return e
    if ent is not None:
        return ent          # deregistered
    raise _E.InvalidHandle(f"not a registration handle: {reg_handle!r}")


# ---------------------------------------------------------------------------
# Argument helpers
# ---------------------------------------------------------------------------
def _handle(obj) -> int:
    """A handle argument as an int; InvalidHandle for non-integers and values
    outside 0..2**64-1 (U46: never a crash, never a TypeError)."""
    if isinstance(obj, Entity):
        return obj.handle
    if isinstance(obj, bool) or obj is None:
        raise _E.InvalidHandle(f"not a handle: {obj!r}")
    try:
        h = operator.index(obj)
    except TypeError:
        raise _E.InvalidHandle(f"not a handle: {obj!r}") from None
    if not 0 <= h <= _U64:
        raise _E.InvalidHandle(f"not a handle: {obj!r}")
    return h


def _count(n, items, what: str) -> list:
    """The first ``n`` items of a C (count, array) pair.  U45: a zero count or a
    NULL (None) array is a no-op."""
    if n is None:
        n = 0 if items is None else len(items)
    try:
        n = operator.index(n)
    except TypeError:
        raise _E.InvalidParameter(f"{what}: count {n!r} is not an integer") from None
    if n < 0:
        raise _E.InvalidParameter(f"{what}: negative count {n}")
    if n == 0 or items is None:
        return []
    items = list(items)
    if n > len(items):
        raise _E.InvalidParameter(f"{what}: count {n} but only {len(items)} items")
    return items[:n]


def _handles(n, items, what: str) -> list[int]:
    return [_handle(h) for h in _count(n, items, what)]


def _status(exc: BaseException) -> int:
    """Win32 status of an exception raised by the Pythonic layer.  Re-raises
    what is not an RTMv2 failure (a bug, a KeyboardInterrupt, ...)."""
    if isinstance(exc, RtmError) and exc.winerror:
        return exc.winerror
    if isinstance(exc, OverflowError):   # a C unsigned field given a negative / huge value
        return ERROR_INVALID_PARAMETER
    raise exc


def _required(obj, cls, what: str):
    if obj is None:
        raise _E.InvalidParameter(f"{what} is required (NULL given)")
    if not isinstance(obj, cls):
        raise _E.InvalidParameter(f"{what} must be a {cls.__name__}, not {type(obj).__name__}")
    return obj


def _echo_handle(h):
    """An [in/out] handle as C would leave it after a failure."""
    return 0 if h is NEW_HANDLE else h


def _capacity(n, what: str) -> int:
    """A UINT capacity ([in/out] count): an integer, else InvalidParameter.  The
    range (0..MaxHandlesInEnum for enumerations) is checked by the callee."""
    try:
        n = operator.index(n)
    except TypeError:
        raise _E.InvalidParameter(f"{what}: capacity {n!r} is not an integer") from None
    if n < 0:
        raise _E.InvalidParameter(f"{what}: negative capacity {n}")
    return n


def _ulong(value, what: str, limit: int = INFINITE) -> int:
    """An unsigned C value (ULONG, DWORD, UCHAR with ``limit``): InvalidParameter
    outside 0..limit; a non-integer raises TypeError (it would not compile)."""
    v = operator.index(value)
    if not 0 <= v <= limit:
        raise _E.InvalidParameter(f"{what} {value!r} is out of range 0..{limit:#x}")
    return v


def _opt_handle(h):
    """An optional handle: None or 0 (NULL) gives None, anything else the handle."""
    if h is None:
        return None
    return _handle(h) or None


# ---------------------------------------------------------------------------
# 2.1 Registration
# ---------------------------------------------------------------------------
def RtmRegisterEntity(rtm_manager, entity_info, export_methods=None, event_callback=None,
                      reserve_opaque_pointer=False):
    """``RtmRegisterEntity(RtmEntityInfo, ExportMethods, EventCallback,
    ReserveOpaquePointer, RtmRegProfile [out], RtmRegHandle [out])``.

    ``rtm_manager`` (a :class:`RoutingTableManager`) stands for the RTM the C
    call reaches implicitly; ``entity_info.rtm_instance_id`` must be its
    ``instance_id`` (otherwise ``ERROR_INVALID_PARAMETER``).
    ``export_methods``: a sequence of callables (at most 32) or ``None``;
    ``event_callback(reg_handle, event_type, context1, context2)`` or ``None``.

    Returns ``(status, profile, reg_handle)``; ``reg_handle`` is the
    :class:`Entity` (its ``.handle`` is the integer handle).
    ``ERROR_ALREADY_EXISTS`` if the identity is registered already.
    """
    try:
        if not isinstance(rtm_manager, RoutingTableManager):
            raise _E.InvalidParameter("rtm_manager must be a RoutingTableManager")
        if entity_info is None:
            raise _E.InvalidParameter("entity_info is required")
        try:
            instance = entity_info.rtm_instance_id
            family = entity_info.address_family
            protocol_id = entity_info.entity_protocol_id
            instance_id = entity_info.entity_instance_id
        except AttributeError:
            raise _E.InvalidParameter("entity_info must be an EntityInfo") from None
        if instance != rtm_manager.instance_id:
            raise _E.InvalidParameter(
                f"entity_info names RTM instance {instance}; the manager is instance "
                f"{rtm_manager.instance_id}")
        _managers.add(rtm_manager)
        ent = rtm_manager.register_entity(protocol_id, instance_id, family,
                                          export_methods=export_methods,
                                          event_callback=event_callback,
                                          reserve_opaque_pointer=bool(reserve_opaque_pointer))
        _remember(ent)
        return NO_ERROR, ent.profile, ent
    except Exception as exc:
        return _status(exc), None, None


def RtmDeregisterEntity(rtm_reg_handle):
    """``RtmDeregisterEntity(RtmRegHandle)``; returns the status.  The
    entity's routes and next hops are deleted (U4); the handle is dead
    afterwards (``ERROR_INVALID_HANDLE``)."""
    try:
        _entity(rtm_reg_handle).deregister_entity()
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmGetRegisteredEntities(rtm_reg_handle, num_entities):
    """``RtmGetRegisteredEntities(RtmRegHandle, NumEntities [in/out],
    EntityHandles [out], EntityInfos [out, opt])``.

    ``num_entities`` is the capacity.  Returns ``(status, num_entities,
    entity_handles, entity_infos)``: the entities of the caller's instance and
    family, the caller included (U3).  Every returned handle holds a reference
    (``RtmReleaseEntities``).  Capacity semantics (U25): if the capacity is
    smaller than the number of entities, the first ``capacity`` handles and
    infos are returned, ``num_entities`` is the total and the status is
    ``ERROR_INSUFFICIENT_BUFFER`` (capacity 0 is the counting call); callers
    use ``min(capacity, total)`` items.  On any other failure the outputs are
    ``None``.
    """
    try:
        ent = _entity(rtm_reg_handle)
        try:
            cap = operator.index(num_entities)
        except TypeError:
            raise _E.InvalidParameter(f"capacity {num_entities!r} is not an integer") from None
        if cap < 0:
            raise _E.InvalidParameter(f"negative capacity {cap}")
        handles, infos = ent.get_registered_entities()
        total = len(handles)
        if cap >= total:
            return NO_ERROR, total, handles, infos
        ent.release_entities(handles[cap:])
        return ERROR_INSUFFICIENT_BUFFER, total, handles[:cap], infos[:cap]
    except Exception as exc:
        return _status(exc), None, None, None


def RtmReleaseEntities(rtm_reg_handle, num_entities, entity_handles):
    """``RtmReleaseEntities(RtmRegHandle, NumEntities, EntityHandles)``;
    releases the first ``num_entities`` handles.  Returns the status."""
    try:
        ent = _entity(rtm_reg_handle)
        hs = _handles(num_entities, entity_handles, "entity handles")
        if hs:
            ent.release_entities(hs)
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmGetEntityInfo(rtm_reg_handle, entity_handle):
    """``RtmGetEntityInfo(RtmRegHandle, EntityHandle, EntityInfo [out])``.
    Returns ``(status, entity_info)``."""
    try:
        return NO_ERROR, _entity(rtm_reg_handle).get_entity_info(_handle(entity_handle))
    except Exception as exc:
        return _status(exc), None


def RtmReleaseEntityInfo(rtm_reg_handle, entity_info):
    """``RtmReleaseEntityInfo(RtmRegHandle, EntityInfo)``.  Returns the status."""
    try:
        _entity(rtm_reg_handle).release_entity_info(entity_info)
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


# ---------------------------------------------------------------------------
# 2.7 Next hops
# ---------------------------------------------------------------------------
def RtmAddNextHop(rtm_reg_handle, next_hop_info, next_hop_handle=NEW_HANDLE):
    """``RtmAddNextHop(RtmRegHandle, NextHopInfo, NextHopHandle [in/out, opt],
    ChangeFlags [out])``.

    ``next_hop_handle``: a handle = update that next hop; ``NEW_HANDLE`` / 0 =
    find by (address, interface index), update or create, return a referenced
    handle; ``None`` = the same without a handle.  Returns ``(status,
    next_hop_handle, change_flags)``; ``change_flags`` is
    ``RTM_NEXTHOP_CHANGE_NEW`` if a next hop was created, else 0.
    """
    try:
        ent = _entity(rtm_reg_handle)
        nhi = _required(next_hop_info, NextHopInfo, "next_hop_info")
        if next_hop_handle is None:
            _, flags = ent.add_next_hop(nhi, return_handle=False)
            return NO_ERROR, None, flags
        if next_hop_handle is NEW_HANDLE or _handle(next_hop_handle) == 0:
            h, flags = ent.add_next_hop(nhi, return_handle=True)
            return NO_ERROR, h, flags
        h = _handle(next_hop_handle)
        _, flags = ent.add_next_hop(nhi, next_hop=h, return_handle=False)
        return NO_ERROR, next_hop_handle, flags
    except Exception as exc:
        return _status(exc), _echo_handle(next_hop_handle), None


def RtmFindNextHop(rtm_reg_handle, next_hop_info):
    """``RtmFindNextHop(RtmRegHandle, NextHopInfo, NextHopHandle [out],
    NextHopPointer [out, opt])``.

    Looks up (``next_hop_address``, ``interface_index``) in the caller's
    next-hop table.  Returns ``(status, next_hop_handle)``; the handle holds a
    reference (``RtmReleaseNextHops``).  ``ERROR_NOT_FOUND`` if there is no such
    next hop.  The direct-pointer output is not returned here: pass the handle
    to ``RtmGetNextHopPointer``.
    """
    try:
        ent = _entity(rtm_reg_handle)
        nhi = _required(next_hop_info, NextHopInfo, "next_hop_info")
        return NO_ERROR, ent.find_next_hop(nhi)
    except Exception as exc:
        return _status(exc), None


def RtmGetNextHopInfo(rtm_reg_handle, next_hop_handle):
    """``RtmGetNextHopInfo(RtmRegHandle, NextHopHandle, NextHopInfo [out])``.
    Returns ``(status, next_hop_info)``; release it with
    ``RtmReleaseNextHopInfo``."""
    try:
        return NO_ERROR, _entity(rtm_reg_handle).get_next_hop_info(_handle(next_hop_handle))
    except Exception as exc:
        return _status(exc), None


def RtmDeleteNextHop(rtm_reg_handle, next_hop_handle, next_hop_info=None):
    """``RtmDeleteNextHop(RtmRegHandle, NextHopHandle [opt], NextHopInfo)``.

    By handle (consumed: do not release it afterwards) or, with a NULL handle
    (``None`` / 0), by (address, interface index) from ``next_hop_info``.
    Returns the status.
    """
    try:
        ent = _entity(rtm_reg_handle)
        h = 0 if next_hop_handle is None else _handle(next_hop_handle)
        if h:
            ent.delete_next_hop(h)
        else:
            ent.delete_next_hop(None, _required(next_hop_info, NextHopInfo, "next_hop_info"))
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmReleaseNextHops(rtm_reg_handle, num_next_hops, next_hop_handles):
    """``RtmReleaseNextHops(RtmRegHandle, NumNextHops, NextHopHandles)``.
    Returns the status."""
    try:
        ent = _entity(rtm_reg_handle)
        hs = _handles(num_next_hops, next_hop_handles, "next-hop handles")
        if hs:
            ent.release_next_hops(hs)
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmReleaseNextHopInfo(rtm_reg_handle, next_hop_info):
    """``RtmReleaseNextHopInfo(RtmRegHandle, NextHopInfo)``.  Returns the status."""
    try:
        _entity(rtm_reg_handle).release_next_hop_info(next_hop_info)
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmGetNextHopPointer(rtm_reg_handle, next_hop_handle):
    """``RtmGetNextHopPointer(RtmRegHandle, NextHopHandle, NextHopPointer [out])``
    (spec 2.7).

    Returns ``(status, next_hop_pointer)``: a read-only live view of the next
    hop (:class:`rtmcore.extras.NextHopRecord`), valid while the next hop
    exists; it needs no release.  ``ERROR_ACCESS_DENIED`` for another
    entity's next hop, ``ERROR_INVALID_HANDLE`` for a stale handle.
    """
    try:
        return NO_ERROR, _entity(rtm_reg_handle).get_next_hop_pointer(_handle(next_hop_handle))
    except Exception as exc:
        return _status(exc), None


def RtmLockNextHop(rtm_reg_handle, next_hop_handle, exclusive, lock_next_hop,
                   next_hop_pointer=True):
    """``RtmLockNextHop(RtmRegHandle, NextHopHandle, Exclusive, LockNextHop,
    NextHopPointer [out, opt])`` (spec 2.7).

    The owner locks (``lock_next_hop`` true) or unlocks (false) one of its
    next hops, shared or exclusive; the unlock passes the lock's mode.  Returns
    ``(status, next_hop_pointer)``: on a lock, unless ``next_hop_pointer`` is
    ``None`` (C's NULL), a live view (:class:`rtmcore.extras.NextHopRecord`)
    whose ``flags``, ``entity_specific_info`` and ``remote_next_hop`` may be
    assigned while the exclusive lock is held; ``None`` otherwise.
    ``ERROR_ACCESS_DENIED`` for another entity's next hop, ``ERROR_NOT_FOUND``
    when locking a deleted one, ``ERROR_INVALID_PARAMETER`` for an unlock
    without a lock in that mode.
    """
    try:
        ent = _entity(rtm_reg_handle)
        rec = ent.lock_next_hop(_handle(next_hop_handle), bool(exclusive), bool(lock_next_hop))
        return NO_ERROR, (rec if next_hop_pointer is not None else None)
    except Exception as exc:
        return _status(exc), None


# ---------------------------------------------------------------------------
# 2.5 Routes
# ---------------------------------------------------------------------------
def RtmAddRouteToDest(rtm_reg_handle, route_handle, dest_address, route_info,
                      time_to_live=INFINITE, route_list_handle=None, notify_type=0,
                      notify_handle=None, change_flags=0):
    """``RtmAddRouteToDest(RtmRegHandle, RouteHandle [in/out, opt], DestAddress,
    RouteInfo, TimeToLive, RouteListHandle [opt], NotifyType, NotifyHandle [opt],
    ChangeFlags [in/out])``.

    ``route_handle``: a handle = update that route (input change flags
    ignored; the destination must be the route's); ``NEW_HANDLE`` / 0 =
    find-or-create by the identity rule of the input ``change_flags`` (0,
    ``RTM_ROUTE_CHANGE_NEW``, ``RTM_ROUTE_CHANGE_FIRST``) and return a
    referenced handle (``RtmReleaseRoutes``); ``None`` = the same, no handle.

    Returns ``(status, route_handle, change_flags)``; the output flags carry
    ``RTM_ROUTE_CHANGE_NEW`` if a route was created and
    ``RTM_ROUTE_CHANGE_BEST`` if a best route changed.  ``notify_type`` /
    ``notify_handle`` are reserved (0 / None, else ``ERROR_INVALID_PARAMETER``).
    ``time_to_live`` is a ULONG in ms (``INFINITE`` = never expires).
    ``route_list_handle`` (``None`` / 0 = none): a list of the caller's from
    ``RtmCreateRouteList``; the route is moved into it (``ERROR_INVALID_HANDLE``
    for a stale list or another entity's).
    """
    try:
        ent = _entity(rtm_reg_handle)
        ri = _required(route_info, RouteInfo, "route_info")
        if dest_address is None:
            raise _E.InvalidParameter("dest_address is required (NULL given)")
        try:
            ttl = operator.index(time_to_live)
        except TypeError:
            ttl = -1
        if not 0 <= ttl <= INFINITE:
            raise _E.InvalidParameter(f"time to live {time_to_live!r} is not a ULONG")
        route_list = None
        if route_list_handle is not None and _handle(route_list_handle):
            route_list = route_list_handle
        kw = dict(time_to_live=ttl, route_list=route_list, notify_type=notify_type,
                  notify_handle=notify_handle, change_flags=change_flags)
        if route_handle is None:
            _, flags = ent.add_route_to_dest(dest_address, ri, return_handle=False, **kw)
            return NO_ERROR, None, flags
        if route_handle is NEW_HANDLE or _handle(route_handle) == 0:
            h, flags = ent.add_route_to_dest(dest_address, ri, return_handle=True, **kw)
            return NO_ERROR, h, flags
        _, flags = ent.add_route_to_dest(dest_address, ri, route=_handle(route_handle),
                                         return_handle=False, **kw)
        return NO_ERROR, route_handle, flags
    except Exception as exc:
        return _status(exc), _echo_handle(route_handle), change_flags


def RtmDeleteRouteToDest(rtm_reg_handle, route_handle):
    """``RtmDeleteRouteToDest(RtmRegHandle, RouteHandle, ChangeFlags [out])``.

    Deletes one of the caller's routes and consumes ``route_handle``.  Returns
    ``(status, change_flags)`` (``RTM_ROUTE_CHANGE_BEST`` if a best route
    changed).  ``ERROR_ACCESS_DENIED`` for another entity's route,
    ``ERROR_NOT_FOUND`` if it is already deleted.
    """
    try:
        return NO_ERROR, _entity(rtm_reg_handle).delete_route_to_dest(_handle(route_handle))
    except Exception as exc:
        return _status(exc), None


def RtmGetRouteInfo(rtm_reg_handle, route_handle, route_info=True, dest_address=True):
    """``RtmGetRouteInfo(RtmRegHandle, RouteHandle, RouteInfo [out, opt],
    DestAddress [out, opt])``.

    Pass ``None`` for an output you do not want (C's NULL).  Returns
    ``(status, route_info, dest_address)``; a returned route info holds
    references (``RtmReleaseRouteInfo``).  Works on a deleted route still
    referenced (``state`` = ``RTM_ROUTE_STATE_DELETED``).
    """
    try:
        ent = _entity(rtm_reg_handle)
        ri, addr = ent.get_route_info(_handle(route_handle))
        if route_info is None:
            ent.release_route_info(ri)
            ri = None
        return NO_ERROR, ri, (None if dest_address is None else addr)
    except Exception as exc:
        return _status(exc), None, None


def RtmReleaseRouteInfo(rtm_reg_handle, route_info):
    """``RtmReleaseRouteInfo(RtmRegHandle, RouteInfo)``.  Returns the status."""
    try:
        _entity(rtm_reg_handle).release_route_info(route_info)
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmReleaseRoutes(rtm_reg_handle, num_routes, route_handles):
    """``RtmReleaseRoutes(RtmRegHandle, NumRoutes, RouteHandles)``.  Returns the status."""
    try:
        ent = _entity(rtm_reg_handle)
        hs = _handles(num_routes, route_handles, "route handles")
        if hs:
            ent.release_routes(hs)
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmIsBestRoute(rtm_reg_handle, route_handle):
    """``RtmIsBestRoute(RtmRegHandle, RouteHandle, BestInViews [out])``.
    Returns ``(status, best_in_views)`` (a view mask, 0 if best nowhere)."""
    try:
        return NO_ERROR, _entity(rtm_reg_handle).is_best_route(_handle(route_handle))
    except Exception as exc:
        return _status(exc), None


def RtmGetExactMatchRoute(rtm_reg_handle, dest_address, matching_flags, route_info,
                          interface_index=0, target_views=RTM_VIEW_MASK_ALL,
                          route_handle=NEW_HANDLE):
    """``RtmGetExactMatchRoute(RtmRegHandle, DestAddress, MatchingFlags,
    RouteInfo [in/out], InterfaceIndex, TargetViews, RouteHandle [out, opt])``.

    ``route_info`` carries the criteria selected by ``matching_flags`` (it may
    be ``None`` with ``RTM_MATCH_NONE`` / ``RTM_MATCH_INTERFACE``).  Pass
    ``route_handle=None`` (C's NULL) to get no handle.  Returns ``(status,
    route_info, route_handle)``: the found route (holding references:
    ``RtmReleaseRouteInfo``) and a referenced handle (``RtmReleaseRoutes``).
    ``ERROR_NOT_FOUND`` if nothing matches; the input ``route_info`` then comes
    back unchanged.
    """
    try:
        ent = _entity(rtm_reg_handle)
        if dest_address is None:
            raise _E.InvalidParameter("dest_address is required (NULL given)")
        if route_info is not None and not isinstance(route_info, RouteInfo):
            raise _E.InvalidParameter("route_info must be a RouteInfo")
        found, h = ent.get_exact_match_route(dest_address, matching_flags, route_info,
                                             interface_index, target_views)
        if route_handle is None:
            ent.release_routes([h])
            h = None
        return NO_ERROR, found, h
    except Exception as exc:
        return _status(exc), route_info, None


def RtmHoldDestination(rtm_reg_handle, dest_handle, target_views, hold_time):
    """``RtmHoldDestination(RtmRegHandle, DestHandle, TargetViews, HoldTime)``
    (spec 2.5, 1.9).

    Marks the destination for hold-down in ``target_views`` (0 or
    ``RTM_VIEW_MASK_ALL``: every view): when its last route of such a view is
    deleted, that route becomes the view's ``hold_route`` for ``hold_time``
    ms (the largest hold time asked for on the destination, U14).  Returns
    the status: ``ERROR_INVALID_PARAMETER`` for ``hold_time`` 0,
    ``ERROR_INVALID_HANDLE`` for a stale destination handle,
    ``ERROR_NOT_SUPPORTED`` for an unsupported view.
    """
    try:
        ent = _entity(rtm_reg_handle)
        ent.hold_destination(_handle(dest_handle), _ulong(target_views, "target views"),
                             _ulong(hold_time, "hold time"))
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmGetRoutePointer(rtm_reg_handle, route_handle):
    """``RtmGetRoutePointer(RtmRegHandle, RouteHandle, RoutePointer [out])``
    (spec 2.5).

    Returns ``(status, route_pointer)``: a read-only live view of one of the
    caller's routes (:class:`rtmcore.extras.RouteRecord`; assigning to it is
    refused), valid while the route is referenced; it needs no release.
    ``ERROR_ACCESS_DENIED`` for another entity's route,
    ``ERROR_INVALID_HANDLE`` for a stale handle.
    """
    try:
        return NO_ERROR, _entity(rtm_reg_handle).get_route_pointer(_handle(route_handle))
    except Exception as exc:
        return _status(exc), None


def RtmLockRoute(rtm_reg_handle, route_handle, exclusive, lock_route, route_pointer=True):
    """``RtmLockRoute(RtmRegHandle, RouteHandle, Exclusive, LockRoute,
    RoutePointer [out, opt])`` (spec 2.5, 1.17).

    The owner locks (``lock_route`` true) or unlocks (false) one of its
    routes.  Returns ``(status, route_pointer)``: on a lock, unless
    ``route_pointer`` is ``None`` (C's NULL), the live route record
    (:class:`rtmcore.extras.RouteRecord`); under an exclusive lock its
    editable fields (U8: ``neighbour``, ``flags``, ``flags1``, ``metric``,
    ``preference``, ``pref_info``, ``belongs_to_views``,
    ``entity_specific_info``, ``next_hops``) may be assigned, and
    ``RtmUpdateAndUnlockRoute`` commits them.  An unlock (pass the lock's
    mode) abandons uncommitted edits; its pointer output is ``None``.
    ``ERROR_ACCESS_DENIED`` for another entity's route, ``ERROR_NOT_FOUND``
    when locking a deleted route, ``ERROR_INVALID_PARAMETER`` when locking a
    locked route or unlocking one not locked in that mode.
    """
    try:
        ent = _entity(rtm_reg_handle)
        rec = ent.lock_route(_handle(route_handle), bool(exclusive), bool(lock_route))
        return NO_ERROR, (rec if route_pointer is not None else None)
    except Exception as exc:
        return _status(exc), None


def RtmUpdateAndUnlockRoute(rtm_reg_handle, route_handle, time_to_live=INFINITE,
                            route_list_handle=None, notify_type=0, notify_handle=None):
    """``RtmUpdateAndUnlockRoute(RtmRegHandle, RouteHandle, TimeToLive,
    RouteListHandle [opt], NotifyType, NotifyHandle [opt], ChangeFlags [out])``
    (spec 2.5).

    Commits the edits made through the ``RtmLockRoute`` pointer (the route is
    repositioned, best routes recomputed, changes notified, its timer set
    from ``time_to_live``, ``INFINITE`` = never expires), moves it into
    ``route_list_handle`` if one is given (``None`` / 0 = none), then
    unlocks.  Returns ``(status, change_flags)``: ``RTM_ROUTE_CHANGE_BEST``
    if a best route changed.  On failure the route stays locked with its
    edits (unlock it with ``RtmLockRoute(..., FALSE)``):
    ``ERROR_ACCESS_DENIED`` (not the owner), ``ERROR_INVALID_PARAMETER`` (the
    route is not locked, a reserved argument is set, a bad TTL or next hop),
    ``ERROR_NOT_FOUND`` (the route was deleted meanwhile).
    """
    try:
        ent = _entity(rtm_reg_handle)
        h = _handle(route_handle)
        try:
            ttl = operator.index(time_to_live)
        except TypeError:
            ttl = -1
        if not 0 <= ttl <= INFINITE:
            raise _E.InvalidParameter(f"time to live {time_to_live!r} is not a ULONG")
        flags = ent.update_and_unlock_route(h, ttl, _opt_handle(route_list_handle),
                                            notify_type, notify_handle)
        return NO_ERROR, flags
    except Exception as exc:
        return _status(exc), None


# ---------------------------------------------------------------------------
# 2.4 / 2.6 Destinations
# ---------------------------------------------------------------------------
def RtmGetDestInfo(rtm_reg_handle, dest_handle, protocol_id=RTM_BEST_PROTOCOL,
                   target_views=RTM_VIEW_MASK_ALL):
    """``RtmGetDestInfo(RtmRegHandle, DestHandle, ProtocolId, TargetViews,
    DestInfo [out])``.  Returns ``(status, dest_info)``; release it with
    ``RtmReleaseDestInfo``."""
    try:
        ent = _entity(rtm_reg_handle)
        return NO_ERROR, ent.get_dest_info(_handle(dest_handle), protocol_id, target_views)
    except Exception as exc:
        return _status(exc), None


def RtmReleaseDestInfo(rtm_reg_handle, dest_info):
    """``RtmReleaseDestInfo(RtmRegHandle, DestInfo)``.  Returns the status."""
    try:
        _entity(rtm_reg_handle).release_dest_info(dest_info)
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmReleaseDests(rtm_reg_handle, num_dests, dest_infos):
    """``RtmReleaseDests(RtmRegHandle, NumDests, DestInfos)``: release the first
    ``num_dests`` destination infos.  Returns the status.  All infos are
    checked before any is released."""
    try:
        ent = _entity(rtm_reg_handle)
        infos = _count(num_dests, dest_infos, "destination infos")
        seen = set()
        for info in infos:
            if not isinstance(info, DestInfo) or not getattr(info, "_refs_held", False):
                ent.release_dest_info(info)     # raises what RtmReleaseDestInfo reports
            if id(info) in seen:
                raise _E.InvalidParameter("a destination info is listed twice")
            seen.add(id(info))
        if infos:
            ent.release_dests(infos)
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmGetExactMatchDestination(rtm_reg_handle, dest_address,
                                protocol_id=RTM_BEST_PROTOCOL,
                                target_views=RTM_VIEW_MASK_ALL):
    """``RtmGetExactMatchDestination(RtmRegHandle, DestAddress, ProtocolId,
    TargetViews, DestInfo [out])``.  Returns ``(status, dest_info)``;
    ``ERROR_NOT_FOUND`` if no destination has exactly that prefix."""
    try:
        ent = _entity(rtm_reg_handle)
        if dest_address is None:
            raise _E.InvalidParameter("dest_address is required (NULL given)")
        return NO_ERROR, ent.get_exact_match_destination(dest_address, protocol_id, target_views)
    except Exception as exc:
        return _status(exc), None


def RtmGetMostSpecificDestination(rtm_reg_handle, dest_address,
                                  protocol_id=RTM_BEST_PROTOCOL,
                                  target_views=RTM_VIEW_MASK_ALL):
    """``RtmGetMostSpecificDestination(RtmRegHandle, DestAddress, ProtocolId,
    TargetViews, DestInfo [out])``: longest-prefix match.  Returns ``(status,
    dest_info)``; ``ERROR_NOT_FOUND`` if nothing covers the address."""
    try:
        ent = _entity(rtm_reg_handle)
        if dest_address is None:
            raise _E.InvalidParameter("dest_address is required (NULL given)")
        return NO_ERROR, ent.get_most_specific_destination(dest_address, protocol_id,
                                                           target_views)
    except Exception as exc:
        return _status(exc), None


def RtmGetLessSpecificDestination(rtm_reg_handle, dest_handle,
                                  protocol_id=RTM_BEST_PROTOCOL,
                                  target_views=RTM_VIEW_MASK_ALL):
    """``RtmGetLessSpecificDestination(RtmRegHandle, DestHandle, ProtocolId,
    TargetViews, DestInfo [out])``: the next shorter destination covering
    ``dest_handle``.  Returns ``(status, dest_info)``; ``ERROR_NOT_FOUND`` past
    the default route."""
    try:
        ent = _entity(rtm_reg_handle)
        return NO_ERROR, ent.get_less_specific_destination(_handle(dest_handle), protocol_id,
                                                           target_views)
    except Exception as exc:
        return _status(exc), None


# ---------------------------------------------------------------------------
# 2.9 Change notification
# ---------------------------------------------------------------------------
def RtmRegisterForChangeNotification(rtm_reg_handle, target_views, notify_flags,
                                     notify_context=None):
    """``RtmRegisterForChangeNotification(RtmRegHandle, TargetViews, NotifyFlags,
    NotifyContext, NotifyHandle [out])``.

    ``notify_flags``: OR of ``RTM_CHANGE_TYPE_ALL`` / ``_BEST`` /
    ``_FORWARDING``, optionally ``RTM_NOTIFY_ONLY_MARKED_DESTS``;
    ``target_views`` 0 means every view.  ``notify_context`` (any object)
    comes back as Context2 of every ``RTM_CHANGE_NOTIFICATION`` call of the
    entity's event callback for this registration.  Returns ``(status,
    notify_handle)``.  ``ERROR_NO_SYSTEM_RESOURCES`` past the manager's
    ``max_notifications``, ``ERROR_NOT_SUPPORTED`` for an unsupported view,
    ``ERROR_INVALID_PARAMETER`` for bad flags or a call from inside a
    change-notification callback.
    """
    try:
        ent = _entity(rtm_reg_handle)
        return NO_ERROR, ent.register_for_change_notification(target_views, notify_flags,
                                                              notify_context)
    except Exception as exc:
        return _status(exc), None


def RtmDeregisterFromChangeNotification(rtm_reg_handle, notify_handle):
    """``RtmDeregisterFromChangeNotification(RtmRegHandle, NotifyHandle)``.

    Ends the registration (the handle is consumed); its pending changes and
    marks are dropped.  Returns the status.
    """
    try:
        _entity(rtm_reg_handle).deregister_from_change_notification(_handle(notify_handle))
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmGetChangedDests(rtm_reg_handle, notify_handle, num_dests):
    """``RtmGetChangedDests(RtmRegHandle, NotifyHandle, NumDests [in/out],
    ChangedDests [out])``.

    ``num_dests`` is the capacity (at most ``MaxHandlesInEnum``, else
    ``ERROR_INVALID_PARAMETER``).  Takes up to that many changed
    destinations off the registration's queue, oldest change first, with
    their current information.  Returns ``(status, num_dests, dest_infos)``;
    release the infos with ``RtmReleaseChangedDests`` (only).  The status is
    ``NO_ERROR`` while changes remain queued and ``ERROR_NO_MORE_ITEMS``
    once the queue is empty after this call, possibly together with a last
    non-empty batch (spec 1.12): loop while the count is non-zero::

        while True:
            status, n, infos = RtmGetChangedDests(reg, notify, max_handles)
            if n:
                process(infos)
                RtmReleaseChangedDests(reg, notify, n, infos)
            if status != NO_ERROR:
                break
    """
    try:
        ent = _entity(rtm_reg_handle)
        h = _handle(notify_handle)
        try:
            cap = operator.index(num_dests)
        except TypeError:
            raise _E.InvalidParameter(f"capacity {num_dests!r} is not an integer") from None
        infos = ent.get_changed_dests(h, cap)
        left = ent.core.notify_pending(ent.core.notify_check(h, ent.slot))
        return (NO_ERROR if left else ERROR_NO_MORE_ITEMS), len(infos), infos
    except Exception as exc:
        return _status(exc), num_dests, None


def RtmReleaseChangedDests(rtm_reg_handle, notify_handle, num_dests, changed_dests):
    """``RtmReleaseChangedDests(RtmRegHandle, NotifyHandle, NumDests, ChangedDests)``:
    release the first ``num_dests`` infos from ``RtmGetChangedDests`` of that
    registration.  Returns the status (``ERROR_INVALID_HANDLE`` for an info
    of another registration or one already released).  All infos are checked
    before any is released."""
    try:
        ent = _entity(rtm_reg_handle)
        h = _handle(notify_handle)
        infos = _count(num_dests, changed_dests, "changed destination infos")
        seen = set()
        for info in infos:
            if id(info) in seen:
                raise _E.InvalidParameter("a destination info is listed twice")
            seen.add(id(info))
            if not isinstance(info, DestInfo) or not getattr(info, "_refs_held", False):
                raise _E.InvalidHandle("not a changed-destination info holding references")
        ent.release_changed_dests(h, infos)     # validates the handle even for no infos
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmIgnoreChangedDests(rtm_reg_handle, notify_handle, num_dests, changed_dests):
    """``RtmIgnoreChangedDests(RtmRegHandle, NotifyHandle, NumDests, ChangedDests)``.

    ``changed_dests`` are destination handles: the pending change of each is
    dropped, so ``RtmGetChangedDests`` does not return it unless it changes
    again.  The handles are not consumed (U39).  Returns the status.
    """
    try:
        ent = _entity(rtm_reg_handle)
        h = _handle(notify_handle)
        ent.ignore_changed_dests(h, _handles(num_dests, changed_dests, "destination handles"))
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmGetChangeStatus(rtm_reg_handle, notify_handle, dest_handle):
    """``RtmGetChangeStatus(RtmRegHandle, NotifyHandle, DestHandle,
    ChangeStatus [out])``.  Returns ``(status, change_status)``:
    ``change_status`` is True while the destination has a change not yet
    retrieved on this registration."""
    try:
        ent = _entity(rtm_reg_handle)
        return NO_ERROR, ent.get_change_status(_handle(notify_handle), _handle(dest_handle))
    except Exception as exc:
        return _status(exc), None


def RtmMarkDestForChangeNotification(rtm_reg_handle, notify_handle, dest_handle, mark_dest):
    """``RtmMarkDestForChangeNotification(RtmRegHandle, NotifyHandle, DestHandle,
    MarkDest)``: mark (True) or unmark (False) the destination for this
    registration (matters with ``RTM_NOTIFY_ONLY_MARKED_DESTS``).  Returns
    the status."""
    try:
        ent = _entity(rtm_reg_handle)
        ent.mark_dest_for_change_notification(_handle(notify_handle), _handle(dest_handle),
                                              bool(mark_dest))
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmIsMarkedForChangeNotification(rtm_reg_handle, notify_handle, dest_handle):
    """``RtmIsMarkedForChangeNotification(RtmRegHandle, NotifyHandle, DestHandle,
    DestMarked [out])``.  Returns ``(status, dest_marked)``."""
    try:
        ent = _entity(rtm_reg_handle)
        return NO_ERROR, ent.is_marked_for_change_notification(_handle(notify_handle),
                                                               _handle(dest_handle))
    except Exception as exc:
        return _status(exc), None


# ---------------------------------------------------------------------------
# 2.11 Handle management
# ---------------------------------------------------------------------------
def RtmReferenceHandles(rtm_reg_handle, num_handles, rtm_handles):
    """``RtmReferenceHandles(RtmRegHandle, NumHandles, RtmHandles)``: one more
    reference on each of the first ``num_handles`` handles (any kind).  Returns
    the status."""
    try:
        ent = _entity(rtm_reg_handle)
        hs = _handles(num_handles, rtm_handles, "handles")
        if hs:
            ent.reference_handles(hs)
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


# ---------------------------------------------------------------------------
# 2.2 Opaque pointers and destination locks
# ---------------------------------------------------------------------------
def RtmLockDestination(rtm_reg_handle, dest_handle, exclusive, lock_dest):
    """``RtmLockDestination(RtmRegHandle, DestHandle, Exclusive, LockDest)``
    (spec 2.2, 1.17).

    Locks (``lock_dest`` true) or unlocks (false) the destination and its
    routes, shared (``exclusive`` false) or exclusive; the unlock passes the
    lock's mode, and each lock needs its own unlock.  Returns the status:
    ``ERROR_INVALID_HANDLE`` for a stale destination handle,
    ``ERROR_INVALID_PARAMETER`` for an unlock without a lock in that mode.
    Any entity may lock any destination: never ``ERROR_ACCESS_DENIED`` (U26).
    """
    try:
        _entity(rtm_reg_handle).lock_destination(_handle(dest_handle), bool(exclusive),
                                                 bool(lock_dest))
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmGetOpaqueInformationPointer(rtm_reg_handle, dest_handle):
    """``RtmGetOpaqueInformationPointer(RtmRegHandle, DestHandle,
    OpaqueInfoPointer [out])`` (spec 2.2, 1.14).

    Returns ``(status, opaque_info_pointer)``: the caller's slot in the
    destination, an :class:`rtmcore.extras.OpaqueSlot` whose ``.value`` is
    read and written (it starts as ``None``; write it under an exclusive
    destination lock, read it under a shared one).  ``ERROR_NOT_FOUND`` if
    the caller registered without ``ReserveOpaquePointer``,
    ``ERROR_INVALID_HANDLE`` for a stale destination handle.
    """
    try:
        ent = _entity(rtm_reg_handle)
        return NO_ERROR, ent.get_opaque_information_pointer(_handle(dest_handle))
    except Exception as exc:
        return _status(exc), None


# ---------------------------------------------------------------------------
# 2.3 Entity methods
# ---------------------------------------------------------------------------
@dataclass
class EntityMethodInput:
    """``RTM_ENTITY_METHOD_INPUT`` of ``RtmInvokeMethod``.

    ``method_type``: bit mask of the methods to run
    (``METHOD_TYPE_ALL_METHODS`` = all); ``input_data``: bytes passed to every
    method run; ``input_size``: how many bytes of ``input_data`` to pass
    (``None`` = all of them; more than ``len(input_data)`` is
    ``ERROR_INVALID_PARAMETER``).
    """

    method_type: int = 0
    input_data: bytes = b""
    input_size: int | None = None


EntityMethodOutput = MethodOutput
"""``RTM_ENTITY_METHOD_OUTPUT``: one ``(method_type, method_status,
output_data)`` record of ``RtmInvokeMethod``."""

_METHOD_OUTPUT_HEADER = 12      # MethodType, MethodStatus, OutputSize: three 32-bit fields


def _method_output_size(record) -> int:
    """Bytes one output record takes in the C output area (U23): the header
    and the data, padded to a multiple of 4."""
    return (_METHOD_OUTPUT_HEADER + len(record.output_data) + 3) & ~3


def RtmGetEntityMethods(rtm_reg_handle, entity_handle, num_methods):
    """``RtmGetEntityMethods(RtmRegHandle, EntityHandle, NumMethods [in/out],
    ExptMethods [out])`` (spec 2.3).

    ``num_methods`` is the capacity.  Returns ``(status, num_methods,
    methods)``: ``methods`` are the method type bits the entity exports, in
    ascending order (the methods themselves are reached only through
    ``RtmInvokeMethod``), and ``num_methods`` is how many it exports.
    Capacity semantics (U25): capacity 0 is the counting call (``NO_ERROR``,
    no entries); a capacity below the total gives the first ``capacity`` bits
    and ``ERROR_INSUFFICIENT_BUFFER``.  ``ERROR_INVALID_HANDLE`` if the entity
    is not registered.  The entity handle is not consumed (U29).
    """
    try:
        ent = _entity(rtm_reg_handle)
        cap = _capacity(num_methods, "methods")
        bits = ent.get_entity_methods(_handle(entity_handle))
        total = len(bits)
        if cap == 0:
            return NO_ERROR, total, []
        if cap < total:
            return ERROR_INSUFFICIENT_BUFFER, total, bits[:cap]
        return NO_ERROR, total, bits
    except Exception as exc:
        return _status(exc), num_methods, None


def RtmInvokeMethod(rtm_reg_handle, entity_handle, method_input, output_size):
    """``RtmInvokeMethod(RtmRegHandle, EntityHandle, Input, OutputSize [in/out],
    Output [out])`` (spec 2.3, U23).

    Runs the methods of the entity selected by ``method_input.method_type``
    (an :class:`EntityMethodInput`), in ascending bit order, each with
    ``method_input.input_data``.  ``output_size`` is the size in bytes of the
    C output area (``None``: no limit); a record takes 12 bytes plus its
    data, padded to a multiple of 4.  Returns ``(status, output_size,
    output)``: ``output`` is the list of :data:`EntityMethodOutput` records,
    ``output_size`` the bytes they take.  If the records do not all fit, the
    ones that fit are returned with ``ERROR_INSUFFICIENT_BUFFER`` (every
    selected method has run all the same).  ``ERROR_INVALID_HANDLE`` if the
    entity is not registered; ``ERROR_INVALID_PARAMETER`` for a bad input, or
    when the target's methods are blocked and this call cannot wait (see
    :mod:`rtmcore.extras`); otherwise a call on a blocked target waits until
    it resumes.

    Exported methods are Python callables ``method(caller_handle,
    callee_handle, method_type_bit, input_data)`` returning ``bytes``,
    ``(status, bytes)`` or ``None``.
    """
    try:
        ent = _entity(rtm_reg_handle)
        inp = _required(method_input, EntityMethodInput, "method_input")
        data = inp.input_data
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise _E.InvalidParameter("input_data must be bytes")
        data = bytes(data)
        if inp.input_size is not None:
            size = _capacity(inp.input_size, "input size")
            if size > len(data):
                raise _E.InvalidParameter(f"input size {size} but only {len(data)} bytes")
            data = data[:size]
        cap = None if output_size is None else _capacity(output_size, "output size")
        records = ent.invoke_method(_handle(entity_handle), inp.method_type, data)
        used, out = 0, []
        for rec in records:
            size = _method_output_size(rec)
            if cap is not None and used + size > cap:
                return ERROR_INSUFFICIENT_BUFFER, used, out
            used += size
            out.append(rec)
        return NO_ERROR, used, out
    except Exception as exc:
        return _status(exc), output_size, None


def RtmBlockMethods(rtm_reg_handle, target_handle, target_type, blocking_flag):
    """``RtmBlockMethods(RtmRegHandle, TargetHandle [opt], TargetType [opt],
    BlockingFlag)`` (spec 2.3).

    ``blocking_flag``: ``RTM_BLOCK_METHODS`` blocks all of the caller's
    methods (invocations from other threads wait), ``RTM_RESUME_METHODS``
    resumes them.  ``target_handle`` must be ``None`` / 0 and
    ``target_type`` 0: blocking one destination, route or next hop is
    ``ERROR_NOT_SUPPORTED``.  Returns the status (``ERROR_INVALID_PARAMETER``
    for another flag value).
    """
    try:
        ent = _entity(rtm_reg_handle)
        target = _opt_handle(target_handle)
        ttype = _ulong(target_type or 0, "target type", 0xFF)
        ent.block_methods(blocking_flag, target, ttype)
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


# ---------------------------------------------------------------------------
# 2.8 Enumerations
# ---------------------------------------------------------------------------
def RtmCreateDestEnum(rtm_reg_handle, target_views, enum_flags, net_address=None,
                      protocol_id=RTM_BEST_PROTOCOL):
    """``RtmCreateDestEnum(RtmRegHandle, TargetViews, EnumFlags, NetAddress,
    ProtocolId, RtmEnumHandle [out])`` (spec 2.8).

    ``enum_flags``: ``RTM_ENUM_START`` (whole table, ``net_address`` ignored),
    ``RTM_ENUM_NEXT`` (from ``net_address`` on, inclusive) or
    ``RTM_ENUM_RANGE`` (``net_address`` and its more-specifics), optionally
    OR ``RTM_ENUM_OWN_DESTS``.  ``target_views`` 0 enumerates every
    destination (hold-only ones included) without per-view information.
    Returns ``(status, enum_handle)``; end it with ``RtmDeleteEnumHandle``.
    ``ERROR_INVALID_PARAMETER`` for bad flags or a missing address,
    ``ERROR_NOT_SUPPORTED`` for an unsupported view.
    """
    try:
        ent = _entity(rtm_reg_handle)
        return NO_ERROR, ent.create_dest_enum(_ulong(target_views, "target views"),
                                              _ulong(enum_flags, "enum flags"), net_address,
                                              _ulong(protocol_id, "protocol id"))
    except Exception as exc:
        return _status(exc), None


def _enum_batch(ent, h, kind: str, get, cap: int):
    """One batch of an enumeration, and ``ERROR_NO_MORE_ITEMS`` with the
    batch that reaches the end (read under the lock the batch was taken in)."""
    with ent.core:
        items = get(h, cap)
        end = ent._enum(h, kind).exhausted
    return (ERROR_NO_MORE_ITEMS if end else NO_ERROR), len(items), items


def RtmGetEnumDests(rtm_reg_handle, enum_handle, num_dests):
    """``RtmGetEnumDests(RtmRegHandle, EnumHandle, NumDests [in/out],
    DestInfos [out])`` (spec 2.8, 1.12).

    ``num_dests`` is the capacity (at most ``MaxHandlesInEnum``, else
    ``ERROR_INVALID_PARAMETER``).  Returns ``(status, num_dests,
    dest_infos)``; release the infos with ``RtmReleaseDests``.  The status is
    ``ERROR_NO_MORE_ITEMS`` once the end of the table is reached, possibly
    with a last non-empty batch; ``ERROR_INVALID_HANDLE`` for a stale
    enumeration handle or one of another kind or entity.
    """
    try:
        ent = _entity(rtm_reg_handle)
        h = _handle(enum_handle)
        return _enum_batch(ent, h, "dest", ent.get_enum_dests,
                           _capacity(num_dests, "destination infos"))
    except Exception as exc:
        return _status(exc), num_dests, None


def RtmCreateRouteEnum(rtm_reg_handle, dest_handle, target_views, enum_flags,
                       start_dest=None, matching_flags=RTM_MATCH_NONE, criteria_route=None,
                       criteria_interface=0):
    """``RtmCreateRouteEnum(RtmRegHandle, DestHandle [opt], TargetViews,
    EnumFlags, StartDest [opt], MatchingFlags, CriteriaRoute [opt],
    CriteriaInterface, RtmEnumHandle [out])`` (spec 2.8).

    The routes of one destination (``dest_handle``; the range flags are then
    ignored) or, with ``dest_handle`` ``None`` / 0, of the table (range flags
    as in ``RtmCreateDestEnum``, from ``start_dest``); ``RTM_ENUM_OWN_ROUTES``
    keeps only the caller's.  ``matching_flags`` / ``criteria_route`` /
    ``criteria_interface`` select routes as ``RtmGetExactMatchRoute`` does.
    Hold-down routes are enumerated only with ``target_views`` 0.  Returns
    ``(status, enum_handle)``.  ``ERROR_INVALID_PARAMETER`` for bad flags or
    missing criteria, ``ERROR_NOT_SUPPORTED`` for an unsupported view,
    ``ERROR_INVALID_HANDLE`` for a stale destination handle.
    """
    try:
        ent = _entity(rtm_reg_handle)
        if criteria_route is not None and not isinstance(criteria_route, RouteInfo):
            raise _E.InvalidParameter("criteria_route must be a RouteInfo")
        return NO_ERROR, ent.create_route_enum(
            _opt_handle(dest_handle), _ulong(target_views, "target views"),
            _ulong(enum_flags, "enum flags"), start_dest,
            _ulong(matching_flags, "matching flags"), criteria_route,
            _ulong(criteria_interface or 0, "criteria interface"))
    except Exception as exc:
        return _status(exc), None


def RtmGetEnumRoutes(rtm_reg_handle, enum_handle, num_routes):
    """``RtmGetEnumRoutes(RtmRegHandle, EnumHandle, NumRoutes [in/out],
    RouteHandles [out])`` (spec 2.8, 1.12).

    ``num_routes`` is the capacity (at most ``MaxHandlesInEnum``).  Returns
    ``(status, num_routes, route_handles)``, each handle referenced
    (``RtmReleaseRoutes``), in destination order then selection order;
    ``ERROR_NO_MORE_ITEMS`` once the end is reached, possibly with a last
    non-empty batch.
    """
    try:
        ent = _entity(rtm_reg_handle)
        h = _handle(enum_handle)
        return _enum_batch(ent, h, "route", ent.get_enum_routes,
                           _capacity(num_routes, "route handles"))
    except Exception as exc:
        return _status(exc), num_routes, None


def RtmCreateNextHopEnum(rtm_reg_handle, enum_flags, net_address=None):
    """``RtmCreateNextHopEnum(RtmRegHandle, EnumFlags, NetAddress,
    RtmEnumHandle [out])`` (spec 2.8).

    The caller's own next hops (U38) by address: ``RTM_ENUM_START`` (all),
    ``RTM_ENUM_NEXT`` (from ``net_address`` on) or ``RTM_ENUM_RANGE`` (next-hop
    addresses inside ``net_address``).  Returns ``(status, enum_handle)``;
    ``ERROR_INVALID_PARAMETER`` for bad flags or a missing address.
    """
    try:
        ent = _entity(rtm_reg_handle)
        return NO_ERROR, ent.create_next_hop_enum(_ulong(enum_flags, "enum flags"), net_address)
    except Exception as exc:
        return _status(exc), None


def RtmGetEnumNextHops(rtm_reg_handle, enum_handle, num_next_hops):
    """``RtmGetEnumNextHops(RtmRegHandle, EnumHandle, NumNextHops [in/out],
    NextHopHandles [out])`` (spec 2.8, 1.12).

    ``num_next_hops`` is the capacity (at most ``MaxHandlesInEnum``).  Returns
    ``(status, num_next_hops, next_hop_handles)``, each handle referenced
    (``RtmReleaseNextHops``); ``ERROR_NO_MORE_ITEMS`` once no next hop is
    left, possibly with a last non-empty batch.
    """
    try:
        ent = _entity(rtm_reg_handle)
        h = _handle(enum_handle)
        return _enum_batch(ent, h, "nexthop", ent.get_enum_next_hops,
                           _capacity(num_next_hops, "next-hop handles"))
    except Exception as exc:
        return _status(exc), num_next_hops, None


def RtmDeleteEnumHandle(rtm_reg_handle, enum_handle):
    """``RtmDeleteEnumHandle(RtmRegHandle, EnumHandle)`` (spec 2.8): ends an
    enumeration of any kind (destinations, routes, next hops, route list) and
    consumes its handle.  Returns the status (``ERROR_INVALID_HANDLE`` for an
    unknown handle or one of another entity)."""
    try:
        _entity(rtm_reg_handle).delete_enum_handle(_handle(enum_handle))
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


# ---------------------------------------------------------------------------
# 2.10 Route lists
# ---------------------------------------------------------------------------
def RtmCreateRouteList(rtm_reg_handle):
    """``RtmCreateRouteList(RtmRegHandle, RouteListHandle [out])`` (spec 2.10).
    Returns ``(status, route_list_handle)``: a new, empty list of the
    caller's (delete it with ``RtmDeleteRouteList``)."""
    try:
        return NO_ERROR, _entity(rtm_reg_handle).create_route_list()
    except Exception as exc:
        return _status(exc), None


def RtmInsertInRouteList(rtm_reg_handle, route_list_handle, num_routes, route_handles):
    """``RtmInsertInRouteList(RtmRegHandle, RouteListHandle [opt], NumRoutes,
    RouteHandles)`` (spec 2.10).

    Moves the first ``num_routes`` routes into the list, out of any list they
    were in; with ``route_list_handle`` ``None`` / 0, takes them out of their
    lists.  The caller keeps its handle references.  Returns the status; all
    routes are checked before any moves: ``ERROR_INVALID_HANDLE`` (stale list
    or route handle, another entity's list), ``ERROR_ACCESS_DENIED`` (a route
    of another entity, U40), ``ERROR_NOT_FOUND`` (a deleted route).  A count
    of 0 moves nothing (the list handle is still checked).
    """
    try:
        ent = _entity(rtm_reg_handle)
        lst = _opt_handle(route_list_handle)
        hs = _handles(num_routes, route_handles, "route handles")
        ent.insert_in_route_list(lst, hs)
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


def RtmCreateRouteListEnum(rtm_reg_handle, route_list_handle):
    """``RtmCreateRouteListEnum(RtmRegHandle, RouteListHandle,
    RtmEnumHandle [out])`` (spec 2.10).  Returns ``(status, enum_handle)``:
    an enumeration of the routes in the list when it is created (routes that
    leave the list meanwhile are skipped, U21); end it with
    ``RtmDeleteEnumHandle``."""
    try:
        ent = _entity(rtm_reg_handle)
        return NO_ERROR, ent.create_route_list_enum(_handle(route_list_handle))
    except Exception as exc:
        return _status(exc), None


def RtmGetListEnumRoutes(rtm_reg_handle, enum_handle, num_routes):
    """``RtmGetListEnumRoutes(RtmRegHandle, EnumHandle, NumRoutes [in/out],
    RouteHandles [out])`` (spec 2.10).

    ``num_routes`` is the capacity (at most ``MaxHandlesInEnum``, else
    ``ERROR_INVALID_PARAMETER``).  Returns ``(status, num_routes,
    route_handles)``, each handle referenced (``RtmReleaseRoutes``).  The
    status is ``NO_ERROR`` on success, at the end too: a batch shorter than
    the capacity is the end.
    """
    try:
        ent = _entity(rtm_reg_handle)
        handles = ent.get_list_enum_routes(_handle(enum_handle),
                                           _capacity(num_routes, "route handles"))
        return NO_ERROR, len(handles), handles
    except Exception as exc:
        return _status(exc), num_routes, None


def RtmDeleteRouteList(rtm_reg_handle, route_list_handle):
    """``RtmDeleteRouteList(RtmRegHandle, RouteListHandle)`` (spec 2.10):
    empties the list (its routes stay in the table), frees it and consumes
    its handle.  Returns the status (``ERROR_INVALID_HANDLE`` for a stale
    list or another entity's)."""
    try:
        _entity(rtm_reg_handle).delete_route_list(_handle(route_list_handle))
        return NO_ERROR
    except Exception as exc:
        return _status(exc)


# ---------------------------------------------------------------------------
# 2.12 IPv6 conversions of the SDK header (no registration handle)
# ---------------------------------------------------------------------------
def _ipv6_size(address_size) -> None:
    if _ulong(address_size, "address size") != IPV6_ADDRESS_LEN_IN_BYTES:
        raise _E.InvalidParameter(f"address size {address_size!r}: an IPv6 address has "
                                  f"{IPV6_ADDRESS_LEN_IN_BYTES} bytes")


def RtmConvertNetAddressToIpv6AddressAndLength(net_address,
                                               address_size=IPV6_ADDRESS_LEN_IN_BYTES):
    """``RtmConvertNetAddressToIpv6AddressAndLength(pNetAddress, pAddress [out],
    pLength [out], dwAddressSize)`` (spec 2.12, SDK header only).

    Returns ``(status, address, length)``: the ``ipaddress.IPv6Address`` and
    prefix length of an IPv6 ``NetAddress``.  ``ERROR_INVALID_PARAMETER`` for
    ``None``, an address of another family, or an ``address_size`` other
    than ``IPV6_ADDRESS_LEN_IN_BYTES`` (16).
    """
    try:
        if not isinstance(net_address, NetAddress):
            raise _E.InvalidParameter("net_address must be a NetAddress")
        _ipv6_size(address_size)
        address, length = RTM_IPV6_GET_ADDR_AND_LEN(net_address)
        return NO_ERROR, address, length
    except Exception as exc:
        return _status(exc), None, None


def RtmConvertIpv6AddressAndLengthToNetAddress(address, length,
                                               address_size=IPV6_ADDRESS_LEN_IN_BYTES):
    """``RtmConvertIpv6AddressAndLengthToNetAddress(pNetAddress [out], Address,
    dwLength, dwAddressSize)`` (spec 2.12, SDK header only).

    ``address``: an ``ipaddress.IPv6Address``, a string or an integer.
    Returns ``(status, net_address)``: the ``AF_INET6`` ``NetAddress``.
    ``ERROR_INVALID_PARAMETER`` for a bad address, a length over 128, host
    bits set beyond the length (U5), or an ``address_size`` other than 16.
    """
    try:
        _ipv6_size(address_size)
        return NO_ERROR, RTM_IPV6_SET_ADDR_AND_LEN(address,
                                                   _ulong(length, "length", 0xFFFF))
    except Exception as exc:
        return _status(exc), None
