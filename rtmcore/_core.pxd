# Declarations of the rtmcore engine: C records, handle layout and the Core
# class layout.  Declared once here and shared by everything that cimports it.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t

# ---------------------------------------------------------------------------
# Handles
#
#   63   60 59        48 47          32 31                             0
#  +-------+------------+--------------+--------------------------------+
#  | kind  | manager tag|  generation  |              slot              |
#  +-------+------------+--------------+--------------------------------+
#
# Slot 0 is never allocated, so the handle 0 means "none".  The generation is
# bumped every time a slot is freed, so a handle kept past the life of its
# object no longer matches and is refused (ERROR_INVALID_HANDLE).  The manager
# tag (1..4095) refuses handles of another manager.
# ---------------------------------------------------------------------------
cdef enum HandleKind:
    KIND_ENTITY = 1
    KIND_DEST = 2
    KIND_ROUTE = 3
    KIND_NEXTHOP = 4
    KIND_ENUM = 5
    KIND_LIST = 6
    KIND_NOTIFY = 7

cdef enum:
    MAX_NH_HARD = 64          # hard cap of next hops in one route (config <= this)
    MAX_VIEWS_HARD = 32

# Node flags (Node.flags)
cdef enum:
    NF_USED = 0x01            # slot allocated (trie node)
    NF_DEST = 0x02            # node is a destination (in the exact-match hash); else glue
    NF_V6 = 0x04              # IPv6 table
    NF_HELD = 0x08            # destination marked for hold-down
    NF_LINKED = 0x10          # node is linked into its trie (a new destination is not,
                              # until the next query that needs the trie: see trie_flush)
    NF_INV0 = 0x20            # the destination has a route in the first supported view
    NF_INV1 = 0x40            # ... in the second supported view (lets a walk test views
                              # without reading the best-route array)

# Route internal flags (RouteRec.iflags)
cdef enum:
    RI_USED = 0x01            # slot allocated
    RI_DESTREF = 0x02         # deleted-but-referenced: holds one reference on its dest
    RI_HELD = 0x04            # a hold-down route of its destination (kept until the hold ends)
    RI_STATE_SHIFT = 4        # RTM_ROUTE_STATE_* (0..2) in bits 4-5 of iflags
    RI_STATE_MASK = 0x30
    TIMER_ROUTE = 0
    TIMER_HOLD = 1

cdef struct Node:
    # The key and the trie links come first: a hash probe or a trie step reads
    # bytes 0..35 only (prefetch_node fetches the one or two lines they span).
    # A node's generation and reference count, read and written off the add
    # path, live in the per-node arrays Core.ngen and Core.drefs.
    uint64_t hi               # prefix bits 127..64 (IPv4: address << 32), host bits 0
    uint64_t lo               # prefix bits 63..0 (IPv4: 0)
    uint8_t plen              # prefix length
    uint8_t flags             # NF_*
    uint16_t changed_hi       # ms timestamp of the last change (manager clock): bits 47..32
    uint32_t parent           # parent node; 0 at the root (and next free slot when free)
    uint32_t child[2]         # children by the bit after plen; 0 = none
    uint32_t routes           # head of the route list, best first; 0 = no routes
    uint32_t changed_lo       # ... bits 31..0 (48 bits: 8,900 years; 40 bytes in all)

cdef struct Best:
    uint32_t route            # best route of the view; 0 = the destination is not in the view
    uint32_t nh               # its first next hop (what a forwarder needs), 0 = none

cdef enum:
    RT_END = 0x80000000       # RouteRec.next of the last route of a destination's list (and
                              # of a route out of the list: deleted, held): RT_END | its node

cdef struct RouteRec:
    uint32_t next             # next route of the dest in selection order; RT_END | the dest's
                              # node after the last one (see Core.rdest); next free slot
    uint32_t neighbour        # next-hop slot of the advertising peer; 0 = none
    uint32_t nh               # n_nh == 1: next-hop slot; n_nh > 1: block in the pool
    uint32_t pref             # PrefInfo.Preference, lower is better
    uint32_t metric           # PrefInfo.Metric, compared between equal preferences
    uint32_t views            # BelongsToViews mask (a subset of the supported views)
    uint16_t owner            # entity slot
    uint8_t n_nh              # number of next hops
    uint8_t iflags            # RI_*, and the RTM_ROUTE_STATE_* in bits 4-5 (28 bytes in all)
    # Kept beside the record, in per-route arrays of Core: the generation
    # (rgen, bumped on free), RTM_ROUTE_FLAGS_* (rflags), the RTMv1 Flags1 byte
    # (rflags1), EntitySpecificInfo (rinfo) and the outstanding handles (rrefs).

cdef struct NhRec:
    uint64_t hi               # NextHopAddress bits (left-aligned like prefixes)
    uint64_t lo
    uint64_t info             # EntitySpecificInfo
    uint64_t remote           # RemoteNextHop: a destination handle value, 0 = none
    uint32_t ifindex          # InterfaceIndex
    uint32_t refcnt           # all references: owner's table + handles + routes using it
    uint32_t hrefs            # the part of refcnt held as handles by callers
    uint16_t owner            # entity slot
    uint16_t gen
    uint16_t flags            # RTM_NEXTHOP_FLAGS_*
    uint8_t plen              # NextHopAddress.NumBits
    uint8_t state             # 0 CREATED, 1 DELETED; 255 = free slot
    uint8_t v6

cdef struct EntRec:
    uint32_t protocol_id      # EntityId.EntityProtocolId
    uint32_t instance_id      # EntityId.EntityInstanceId
    uint32_t refcnt           # all references: registration + handles + its routes and next hops
    uint32_t hrefs            # the part of refcnt held as handles by callers
    uint16_t gen
    uint8_t v6                # address family of the registration
    uint8_t state             # 0 free, 1 registered, 2 deregistered (kept while referenced)

cdef enum:
    MAX_NOTIFY_REGS = 32      # notification registrations per manager (a bit each per node)

cdef struct NotifyReg:
    uint32_t* q               # FIFO of destination nodes, q[head:tail]; an entry whose
    size_t head               #   pending bit was cleared (ignored) is skipped when popped
    size_t tail
    size_t cap
    size_t n_pending          # destinations pending (pending bit set) on this registration
    size_t n_stale            # queue entries of ignored destinations (stale bit set)
    uint32_t views            # target views (clipped to the supported ones)
    uint32_t types            # RTM_CHANGE_TYPE_* bits
    uint32_t only_marked      # RTM_NOTIFY_ONLY_MARKED_DESTS given
    uint16_t owner            # entity slot
    uint16_t gen              # bumped when the registration ends
    uint8_t used
    uint8_t v6                # the family of the owner's table

cdef struct RouteList:
    uint32_t head             # first route (insertion order); 0 = empty
    uint32_t tail
    uint32_t count
    uint16_t owner            # entity slot
    uint16_t gen              # bumped when the list is deleted
    uint8_t used

cdef enum:
    HOLD_VIEWS = 8            # views (by index) a hold-down record covers

cdef struct HoldRec:
    uint64_t expiry           # when the hold routes are dropped (ms); 0 = no hold route
    uint32_t hold_time        # ms: the largest HoldTime requested (U14)
    uint32_t views            # held views (mask of view ids)
    uint32_t route[HOLD_VIEWS] # hold route per view index; 0 = none
    uint32_t dest             # the destination; 0 on the free list (next free in hold_time)

cdef struct TimerEnt:
    uint64_t t                # expiry time, ms of the manager clock
    uint32_t r                # route slot
    uint16_t gen              # the route's generation when armed (a freed slot is stale)
    uint16_t kind             # TIMER_ROUTE (r = route) or TIMER_HOLD (r = destination node)

cdef enum:
    PF_RING_SIZE = 16

cdef struct PfRing:
    # rows in flight in the prefetch pipeline of a bulk loop (index: row % size)
    uint64_t tag[PF_RING_SIZE]     # hash tag of the row
    uint32_t node[PF_RING_SIZE]    # its destination node, 0 = none found

cdef struct RouteSpec:
    uint64_t info
    uint32_t neighbour        # next-hop slot
    uint32_t pref
    uint32_t metric
    uint32_t views
    uint16_t flags
    uint8_t flags1
    uint8_t n_nh
    uint32_t nh[MAX_NH_HARD]  # next-hop slots
