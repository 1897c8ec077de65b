# cython: freethreading_compatible = False
"""The rtmcore engine: destinations in a radix trie, routes in packed records.

Built for update speed: adding or updating a route is one hash probe to find
its destination, a short walk of that destination's route list, and a
re-selection of the best route per view among those few routes.  Nothing on
that path allocates a Python object.

Structure
---------
* **Nodes** (``Node``): one array holds the path-compressed binary radix
  tries of both families (``root[0]`` IPv4, ``root[1]`` IPv6).  Keys are
  128-bit and left-aligned (IPv4 ``a.b.c.d`` is ``hi = a.b.c.d << 32``), so one
  set of bit helpers serves both.  A node is a *destination* (``NF_DEST``) or
  a *glue* node that only joins two subtrees.  Invariants: a glue node has two
  children; a child's prefix extends its parent's; ``parent`` is exact.
* **Exact-match hash** (``htab``): open addressing with linear probing and
  backward-shift deletion, mapping (family, prefix, length) to the node of
  every destination.  Adds and updates never walk the trie.  A per-call
  add or update first tries the node slot after the destination it found
  last: destinations take slots in the order they were first added, so a
  stream in that order (a peer re-announcing its table) skips the hash's
  random read.
* **Deferred linking**: a new destination enters the hash at once but is linked
  into the trie only when something needs the trie (a prefix query, an
  enumeration, the lookup index, a removal): ``trie_flush`` sorts the pending
  destinations and links them in prefix order, which walks the trie
  sequentially instead of at random.  A bulk load therefore never walks the
  trie per route, and glue nodes are made once, in order.
* **Routes** (``RouteRec``): a singly linked list per destination in
  *selection order*: preference ascending, then metric ascending, then the
  order in which routes reached their current cost (stable: a route whose
  cost changes goes after the routes it now ties with).  The best route of
  view ``v`` is the first route of the list in ``v``; it is cached per
  destination in ``bestv[v]`` (O(1) to read).  A record does not store its
  destination: the last route of the list (and a route out of it) holds
  ``RT_END | node`` in ``next``, and ``rdest`` walks there.
* **Side arrays**: what the add and compare path does not read lives beside
  the records, one array per field indexed by slot: generations (``ngen``,
  ``rgen``), destination references (``drefs``), route flags, Flags1,
  EntitySpecificInfo, handle counts.  A node is then 40 bytes and a route
  28; the pages of a side array that only ever holds zeros for a table (no
  handle held, no flag set) are never written, so they take no memory.
* **Next hops** (``NhRec``) per entity, keyed by (address, interface) in a
  dict (few objects, not on the per-route path).  Routes with more than one
  next hop keep them in fixed-size blocks of ``nhpool``.
* **Entities** (``EntRec``): the registrations.
* **Memory**: every array is a block of ``rtm_malloc``; from 1 MiB up a
  block is its own mapping, grown in place or moved by ``mremap``, so a
  doubling array never leaves its outgrown copies resident.  Freed mappings
  are kept (up to ``memory_cache()['limit']``) for the next manager, whose
  tables then skip the page faults of fresh memory.  Bulk loops hide the
  random reads of a row (hash slot, node, route) behind a three-stage
  prefetch ring.

References (spec 1.16): an object's slot is reused only when it is deleted
*and* its reference count is 0; the generation in every handle then changes.
A deleted route that is still referenced stays readable (state DELETED) and
holds one reference on its destination.  Routes hold references on their
next hops (and neighbour) and on their owner entity.

Every mutating method leaves the structure consistent on every return path,
including errors; validation happens before the first mutation.
"""
cimport cython
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t, int16_t
from libc.string cimport memset, memcpy, memmove
from cpython.unicode cimport PyUnicode_AsUTF8AndSize
cdef extern from "Python.h":
    # Declared without an exception clause: the caller tests and clears the error.
    long PyLong_AsLong_raw "PyLong_AsLong"(object o) noexcept
    void* PyErr_Occurred_raw "PyErr_Occurred"() noexcept
    void PyErr_Clear_raw "PyErr_Clear"() noexcept
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.pythread cimport (PyThread_type_lock, PyThread_allocate_lock, PyThread_free_lock,
                               PyThread_acquire_lock, PyThread_release_lock,
                               PyThread_get_thread_ident, NOWAIT_LOCK, WAIT_LOCK)

import ipaddress as _ipaddress
import time as _time

import numpy as np
cimport numpy as cnp

from . import errors as _errors

cnp.import_array()

cdef extern from *:
    """
    #ifndef RTM_DEBUG
    #define RTM_DEBUG 0
    #endif
    #include <time.h>
    #ifdef Py_GIL_DISABLED
    #define RTM_GIL 0
    #else
    #define RTM_GIL 1
    #endif
    static inline int rtm_clz64(unsigned long long x) { return x ? __builtin_clzll(x) : 64; }
    /* The snapshot objects of the per-call queries, made through the types'
       C slots (as object.__new__(cls) does, and tuple.__new__(cls, items)
       without the items tuple), without looking methods up on every call. */
    static PyObject* rtm_new_instance(PyObject* cls) {
        PyObject* empty = PyTuple_New(0);
        PyObject* r;
        if (empty == NULL) return NULL;
        r = PyBaseObject_Type.tp_new((PyTypeObject*)cls, empty, NULL);
        Py_DECREF(empty);
        return r;
    }
    /* A DestViewInfo (a tuple subclass of six ints), filled in place. */
    static PyObject* rtm_view_info(PyObject* cls, unsigned int view_id, unsigned int count,
                                   unsigned long long route, unsigned long long owner,
                                   unsigned int flags, unsigned long long hold) {
        PyObject* r = ((PyTypeObject*)cls)->tp_alloc((PyTypeObject*)cls, 6);
        PyObject* v[6];
        int i;
        if (r == NULL) return NULL;
        v[0] = PyLong_FromUnsignedLong(view_id);
        v[1] = PyLong_FromUnsignedLong(count);
        v[2] = PyLong_FromUnsignedLongLong(route);
        v[3] = PyLong_FromUnsignedLongLong(owner);
        v[4] = PyLong_FromUnsignedLong(flags);
        v[5] = PyLong_FromUnsignedLongLong(hold);
        for (i = 0; i < 6; i++) {
            if (v[i] == NULL) {         /* items set so far go with r; the rest here */
                for (; i < 6; i++) Py_XDECREF(v[i]);
                Py_DECREF(r);
                return NULL;
            }
            PyTuple_SET_ITEM(r, i, v[i]);
        }
        return r;
    }
    static inline int rtm_popcount32(unsigned int x) { return __builtin_popcount(x); }
    #include <stdlib.h>
    #include <string.h>
    #include <sys/mman.h>
    #include <stdint.h>
    /* Every array of the engine is allocated here, behind a 64-byte header
       that records its size and kind.  Blocks from 1 MiB up are mapped
       directly: they grow with mremap (no copy, no page touched twice) and
       do not depend on the allocator's adaptive mmap threshold, which would
       otherwise keep every outgrown copy of a doubling array resident in the
       heap.  Blocks from 4 MiB up are advised onto 2 MiB pages
       (MADV_HUGEPAGE, where the system has it): a full-table load takes 512
       times fewer page faults, and the hash and node arrays, read at random,
       fewer TLB misses (bart IPv4, bulk add ready for queries: 234-282 ->
       152 ns a route in file order, 273-285 -> 188-204 shuffled).

       The mapped blocks of a freed manager are kept for the next one (the
       outgrown blocks of a live table are not: they would only add to the
       process's resident size), up to a limit
       (rtm_cache_limit bytes in all, set with rtmcore.memory_cache): a new
       table then fills pages that are already mapped instead of taking page
       faults and the kernel's zeroing.  Kept blocks stay resident: with
       MADV_FREE on them as well as 2 MiB pages, the tables built after the
       third one in a process took up to three times as long to link (the
       cause was not pinned down).  A mapped block reads as zeros past
       what the program wrote, like a fresh mapping: header word 2 is the
       length handed out so far, and bytes beyond it are cleared when a
       reused block is handed out or grows. */
    #include <pthread.h>
    #define RTM_BIG ((size_t)1 << 20)
    #define RTM_HUGE ((size_t)4 << 20)
    static void rtm_advise_huge(char* b, size_t total) {
    #ifdef MADV_HUGEPAGE
        if (total >= RTM_HUGE) madvise(b, total, MADV_HUGEPAGE);
    #endif
    }
    #define RTM_HDR ((size_t)64)
    #define RTM_CACHE_SLOTS 32
    static char* rtm_cache_b[RTM_CACHE_SLOTS];
    static size_t rtm_cache_t[RTM_CACHE_SLOTS];
    static int rtm_cache_n = 0;
    static size_t rtm_cache_bytes = 0;
    static size_t rtm_cache_limit = (size_t)512 << 20;
    static pthread_mutex_t rtm_cache_mu = PTHREAD_MUTEX_INITIALIZER;
    static size_t rtm_map_size(size_t size) {
        return (size + RTM_HDR + 4095) & ~(size_t)4095;
    }
    static char* rtm_cache_take(size_t want, int any, size_t* total) {
        /* the smallest kept block of at least ``want`` bytes; else, with
           ``any``, the largest one (the caller grows it); its size in *total */
        char* b = NULL;
        int i, k = -1, big = -1;
        pthread_mutex_lock(&rtm_cache_mu);
        for (i = 0; i < rtm_cache_n; i++) {
            if (rtm_cache_t[i] >= want && (k < 0 || rtm_cache_t[i] < rtm_cache_t[k])) k = i;
            if (big < 0 || rtm_cache_t[i] > rtm_cache_t[big]) big = i;
        }
        if (k < 0 && any) k = big;
        if (k >= 0) {
            b = rtm_cache_b[k];
            *total = rtm_cache_t[k];
            rtm_cache_bytes -= rtm_cache_t[k];
            rtm_cache_n--;
            rtm_cache_b[k] = rtm_cache_b[rtm_cache_n];
            rtm_cache_t[k] = rtm_cache_t[rtm_cache_n];
        } else {
            *total = 0;
        }
        pthread_mutex_unlock(&rtm_cache_mu);
        return b;
    }
    static void rtm_cache_put(char* b, size_t total) {
        int kept = 0;
        pthread_mutex_lock(&rtm_cache_mu);
        if (rtm_cache_n < RTM_CACHE_SLOTS && rtm_cache_bytes + total <= rtm_cache_limit) {
            rtm_cache_b[rtm_cache_n] = b;
            rtm_cache_t[rtm_cache_n] = total;
            rtm_cache_n++;
            rtm_cache_bytes += total;
            kept = 1;
        }
        pthread_mutex_unlock(&rtm_cache_mu);
        if (!kept) munmap(b, total);
    }
    static void rtm_cache_set_limit(size_t limit) {
        /* a lower limit gives the blocks beyond it back now */
        char* b;
        size_t total;
        pthread_mutex_lock(&rtm_cache_mu);
        rtm_cache_limit = limit;
        pthread_mutex_unlock(&rtm_cache_mu);
        for (;;) {
            pthread_mutex_lock(&rtm_cache_mu);
            b = NULL;
            if (rtm_cache_bytes > rtm_cache_limit && rtm_cache_n > 0) {
                rtm_cache_n--;
                b = rtm_cache_b[rtm_cache_n];
                total = rtm_cache_t[rtm_cache_n];
                rtm_cache_bytes -= total;
            }
            pthread_mutex_unlock(&rtm_cache_mu);
            if (b == NULL) break;
            munmap(b, total);
        }
    }
    static void rtm_cache_stats(size_t* limit, size_t* bytes, size_t* blocks) {
        pthread_mutex_lock(&rtm_cache_mu);
        *limit = rtm_cache_limit;
        *bytes = rtm_cache_bytes;
        *blocks = (size_t)rtm_cache_n;
        pthread_mutex_unlock(&rtm_cache_mu);
    }
    static void* rtm_malloc(size_t size) {
        char* b;
        size_t total;
        if (size > SIZE_MAX / 2) return NULL;
        if (size >= RTM_BIG) {
            size_t kept, nt = rtm_map_size(size);
            b = rtm_cache_take(nt, 1, &kept);
            total = kept;
            if (b != NULL && kept < nt) {
    #ifdef MREMAP_MAYMOVE
                char* q = (char*)mremap(b, kept, nt, MREMAP_MAYMOVE);
                if (q == (char*)MAP_FAILED) { munmap(b, kept); b = NULL; }
                else { b = q; total = nt; rtm_advise_huge(b, total); }
    #else
                munmap(b, kept);
                b = NULL;
    #endif
            }
            if (b != NULL) {
                /* reads as a fresh mapping; pages mremap added are zeros already */
                memset(b + RTM_HDR, 0, kept - RTM_HDR < size ? kept - RTM_HDR : size);
            } else {
                total = nt;
                b = (char*)mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (b == (char*)MAP_FAILED) return NULL;
                rtm_advise_huge(b, total);
            }
            ((size_t*)b)[1] = 1;
            ((size_t*)b)[2] = size;
        } else {
            total = size + RTM_HDR;
            b = (char*)malloc(total);
            if (b == NULL) return NULL;
            ((size_t*)b)[1] = 0;
        }
        ((size_t*)b)[0] = total;
        return b + RTM_HDR;
    }
    static void* rtm_calloc(size_t n, size_t size) {
        void* p;
        if (size && n > SIZE_MAX / 2 / size) return NULL;
        p = rtm_malloc(n * size);
        if (p != NULL && n * size < RTM_BIG) memset(p, 0, n * size);   /* mapped: already 0 */
        return p;
    }
    static void rtm_release(void* p, int keep) {
        char* b;
        if (p == NULL) return;
        b = (char*)p - RTM_HDR;
        if (!((size_t*)b)[1]) free(b);
        else if (keep) rtm_cache_put(b, ((size_t*)b)[0]);
        else munmap(b, ((size_t*)b)[0]);
    }
    /* an outgrown array (or a buffer) of a live table: its pages go back to the system */
    static void rtm_free(void* p) { rtm_release(p, 0); }
    /* an array of a manager that is freed: kept for the next one */
    static void rtm_free_keep(void* p) { rtm_release(p, 1); }
    /* Grows (or makes) an array: the bytes past its old size read as zeros,
       whatever kind the block is, so a slot past an array's high-water mark
       is known to be clear (node_alloc and route_alloc rely on it). */
    static void* rtm_realloc(void* p, size_t size) {
        char* b;
        char* q;
        size_t total, have, nt, used, clear_to;
        void* r;
        if (p == NULL) return rtm_calloc(1, size);
        if (size > SIZE_MAX / 2) return NULL;
        b = (char*)p - RTM_HDR;
        total = ((size_t*)b)[0];
        if (((size_t*)b)[1] && size >= RTM_BIG) {
            used = ((size_t*)b)[2];
            nt = rtm_map_size(size);
            q = b;
            if (nt > total) {
                size_t kept;
                char* c = rtm_cache_take(nt, 0, &kept);
                if (c != NULL) {
                    /* move into a kept block that fits: copying what is used
                       costs less than faulting in fresh pages */
                    memcpy(c + RTM_HDR, p, used);
                    memset(c + RTM_HDR + used, 0, size - used);
                    ((size_t*)c)[0] = kept;
                    ((size_t*)c)[1] = 1;
                    ((size_t*)c)[2] = size;
                    munmap(b, total);
                    return c + RTM_HDR;
                }
    #ifdef MREMAP_MAYMOVE
                q = (char*)mremap(b, total, nt, MREMAP_MAYMOVE);
                if (q == (char*)MAP_FAILED) return NULL;
                rtm_advise_huge(q, nt);
                ((size_t*)q)[0] = nt;
    #else
                goto move;
    #endif
            }
            /* bytes past what was handed out may hold an earlier table's data
               (a kept block); pages mremap added are fresh zeros */
            clear_to = total - RTM_HDR < size ? total - RTM_HDR : size;
            if (clear_to > used) memset(q + RTM_HDR + used, 0, clear_to - used);
            ((size_t*)q)[2] = size;
            return q + RTM_HDR;
        } else if (!((size_t*)b)[1] && size < RTM_BIG) {
            have = total - RTM_HDR;
            q = (char*)realloc(b, size + RTM_HDR);
            if (q == NULL) return NULL;
            ((size_t*)q)[0] = size + RTM_HDR;
            if (size > have) memset(q + RTM_HDR + have, 0, size - have);
            return q + RTM_HDR;
        }
    #ifndef MREMAP_MAYMOVE
    move:
    #endif
        r = rtm_malloc(size);               /* the block changes kind (or no mremap) */
        if (r == NULL) return NULL;
        have = ((size_t*)b)[1] ? ((size_t*)b)[2] : total - RTM_HDR;
        memcpy(r, p, have < size ? have : size);
        rtm_free(p);
        return r;
    }
    #define rtm_prefetch(p) __builtin_prefetch((const void*)(p), 0, 3)
    static inline unsigned long long rtm_now_ms(void) {
        struct timespec ts; clock_gettime(CLOCK_REALTIME_COARSE, &ts);  /* ms-level stamps */
        return (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)(ts.tv_nsec / 1000000);
    }
    """
    const int RTM_DEBUG
    const int RTM_GIL
    int rtm_clz64(uint64_t x) noexcept nogil
    object rtm_new_instance(object cls)
    object rtm_view_info(object cls, uint32_t view_id, uint32_t count, uint64_t route,
                         uint64_t owner, uint32_t flags, uint64_t hold)
    int rtm_popcount32(uint32_t x) noexcept nogil
    uint64_t rtm_now_ms() noexcept nogil
    void rtm_prefetch(const void* p) noexcept nogil
    void* rtm_malloc(size_t size) noexcept nogil
    void* rtm_realloc(void* p, size_t size) noexcept nogil
    void* rtm_calloc(size_t n, size_t size) noexcept nogil
    void rtm_free(void* p) noexcept nogil
    void rtm_free_keep(void* p) noexcept nogil
    void rtm_cache_set_limit(size_t limit) noexcept nogil
    void rtm_cache_stats(size_t* limit, size_t* nbytes, size_t* blocks) noexcept nogil

# ---------------------------------------------------------------------------
# Constants shared with the facade (values from the RTMv2 headers)
# ---------------------------------------------------------------------------
DEF_INFINITE = 0xFFFFFFFFU

cdef enum:
    NO_ERROR = 0
    ERROR_ACCESS_DENIED = 5
    ERROR_INVALID_HANDLE = 6
    ERROR_NOT_SUPPORTED = 50
    ERROR_INVALID_PARAMETER = 87
    ERROR_INSUFFICIENT_BUFFER = 122
    ERROR_ALREADY_EXISTS = 183
    ERROR_NO_MORE_ITEMS = 259
    ERROR_NOT_FOUND = 1168
    ERROR_NO_SYSTEM_RESOURCES = 1450

cdef enum:
    CHANGE_FIRST = 0x01
    CHANGE_NEW = 0x02
    CHANGE_BEST = 0x00010000
    MATCH_OWNER = 0x01               # RTM_MATCH_* (RtmGetExactMatchRoute)
    MATCH_NEIGHBOUR = 0x02
    MATCH_PREF = 0x04
    MATCH_NEXTHOP = 0x08
    MATCH_INTERFACE = 0x10
    MATCH_FULL = 0xFFFF
    ROUTE_STATE_CREATED = 0
    ROUTE_STATE_DELETING = 1
    ROUTE_STATE_DELETED = 2
    NH_STATE_CREATED = 0
    NH_STATE_DELETED = 1
    NH_STATE_FREE = 255
    ROUTE_FLAGS_FORWARDING = 0x000F

cdef uint32_t _next_tag = 0
cdef set _live_tags = set()      # tags of the managers alive now: a tag is never shared

cdef enum:
    NOTIFY_ALL = 0x1             # RTM_CHANGE_TYPE_ALL
    NOTIFY_BEST = 0x2            # RTM_CHANGE_TYPE_BEST
    NOTIFY_FORWARDING = 0x4      # RTM_CHANGE_TYPE_FORWARDING
    NOTIFY_ONLY_MARKED = 0x10000 # RTM_NOTIFY_ONLY_MARKED_DESTS

cdef enum:
    LANES = 16                   # walks advanced together by lpm_batch
    F6_LANES = 32                # lookups advanced together by f6_lpm_batch
    PF_FAR = 24                  # rows ahead for single-level prefetches (lookups)
    PF_LINK = 8                  # trie_flush: nodes ahead whose lines are fetched
    PF_HASH = 8                  # bulk loops: rows ahead where a row's hash slot is fetched,
    PF_NODE = 4                  #   where its destination node is (the slot now cached),
    PF_ROUTE = 2                 #   and where its first route and best routes are

cdef enum:
    FWD_EXT = 0x80000000         # lookup-index entry refers to a block below it
    F6_BLOCKS_PER_DEST = 1       # IPv6 index: blocks allowed per IPv6 destination,
    F6_BLOCKS_SLACK = 4096       #   plus these (see f6_split)
    NO_FWD = 0xFFFFFFFF          # fwd_lpm: the indexes cannot answer
    DELETE_NOT_FOUND = 0x80000000  # bulk delete: no such route


# ---------------------------------------------------------------------------
# 128-bit left-aligned key helpers
# ---------------------------------------------------------------------------
cdef inline void key_mask(int plen, uint64_t* mhi, uint64_t* mlo) noexcept nogil:
    """Mask with the top ``plen`` bits of 128 set (no shift by 64: that is UB in C)."""
    if plen <= 0:
        mhi[0] = 0
        mlo[0] = 0
    elif plen < 64:
        mhi[0] = (<uint64_t>0xFFFFFFFFFFFFFFFFULL) << (64 - plen)
        mlo[0] = 0
    elif plen == 64:
        mhi[0] = 0xFFFFFFFFFFFFFFFFULL
        mlo[0] = 0
    elif plen < 128:
        mhi[0] = 0xFFFFFFFFFFFFFFFFULL
        mlo[0] = (<uint64_t>0xFFFFFFFFFFFFFFFFULL) << (128 - plen)
    else:
        mhi[0] = 0xFFFFFFFFFFFFFFFFULL
        mlo[0] = 0xFFFFFFFFFFFFFFFFULL


cdef inline int key_bit(uint64_t hi, uint64_t lo, int i) noexcept nogil:
    """Bit ``i`` of the key, 0 = most significant."""
    if i < 64:
        return <int>((hi >> (63 - i)) & 1)
    return <int>((lo >> (127 - i)) & 1)


cdef inline uint32_t f6_bits(uint64_t hi, uint64_t lo, int depth) noexcept nogil:
    """The 8 key bits after bit ``depth`` (16, 24, ..., 120): an index into
    a block of the IPv6 lookup index."""
    if depth < 64:
        return <uint32_t>(hi >> (56 - depth)) & 0xFF
    return <uint32_t>(lo >> (120 - depth)) & 0xFF


cdef inline bint key_covers(uint64_t phi, uint64_t plo, int plen,
                            uint64_t hi, uint64_t lo) noexcept nogil:
    """True if the prefix (phi, plo)/plen contains the key (hi, lo): they
    share at least ``plen`` leading bits."""
    cdef uint64_t x = phi ^ hi
    if x:
        return rtm_clz64(x) >= plen
    return plen <= 64 or 64 + rtm_clz64(plo ^ lo) >= plen


cdef inline int key_common(uint64_t ahi, uint64_t alo, uint64_t bhi, uint64_t blo) noexcept nogil:
    """Number of leading bits two keys share (0..128)."""
    cdef uint64_t x = ahi ^ bhi
    if x:
        return rtm_clz64(x)
    return 64 + rtm_clz64(alo ^ blo)


cdef inline uint64_t key_hash(uint64_t hi, uint64_t lo, int plen, int v6) noexcept nogil:
    cdef uint64_t x = hi ^ (lo * <uint64_t>0x9E3779B97F4A7C15) ^ \
        ((<uint64_t>plen | (<uint64_t>v6 << 8)) * <uint64_t>0xC2B2AE3D27D4EB4F)
    x ^= x >> 33
    x *= <uint64_t>0xFF51AFD7ED558CCD
    x ^= x >> 33
    x *= <uint64_t>0xC4CEB9FE1A85EC53
    x ^= x >> 33
    return x


cdef inline bint node_is(const Node* n, uint64_t hi, uint64_t lo, int plen, uint8_t mask,
                         uint8_t want) noexcept nogil:
    """Node n has the prefix (hi, lo)/plen and ``flags & mask == want``."""
    return n.hi == hi and n.lo == lo and n.plen == plen and (n.flags & mask) == want


cdef inline bint mem_is_zero(const void* p, size_t n) noexcept nogil:
    cdef const uint8_t* b = <const uint8_t*>p
    cdef size_t k
    for k in range(n):
        if b[k]:
            return 0
    return 1


cdef inline uint64_t node_changed(const Node* n) noexcept nogil:
    """LastChanged of a destination, ms."""
    return (<uint64_t>n.changed_hi << 32) | n.changed_lo


cdef inline void node_set_changed(Node* n, uint64_t ms) noexcept nogil:
    n.changed_lo = <uint32_t>ms
    n.changed_hi = <uint16_t>(ms >> 32)


cdef inline bint timer_before(const TimerEnt* a, const TimerEnt* b) noexcept nogil:
    """Timer order: by time; at one instant hold-downs end before routes
    expire (as the reference model does), so a hold route whose time to live
    ends at the same moment goes with its hold, not through an expiry."""
    return a.t < b.t or (a.t == b.t and a.kind > b.kind)


cdef inline int rstate(const RouteRec* rr) noexcept nogil:
    """RTM_ROUTE_STATE_* of a route record."""
    return (rr.iflags & RI_STATE_MASK) >> RI_STATE_SHIFT


cdef inline void set_rstate(RouteRec* rr, int state) noexcept nogil:
    rr.iflags = <uint8_t>((rr.iflags & ~RI_STATE_MASK) | (state << RI_STATE_SHIFT))


include "_prefix.pxi"

cdef enum:
    PARSE_FAMILY = -4        # parsed, but not the family the caller needs
    PARSE_TYPE = -5          # not a prefix-like object


cdef extern from "stdlib.h":
    void qsort(void* base, size_t nmemb, size_t size,
               int (*compar)(const void*, const void*) noexcept nogil) nogil


cdef struct SortKey:
    uint64_t hi
    uint64_t lo
    uint32_t plen
    uint32_t node


# ---------------------------------------------------------------------------
# Lookup-index blocks (shared by the IPv4 and IPv6 indexes): an entry is 0, a
# destination node, or FWD_EXT | b where block b (256 entries) splits its range
# ---------------------------------------------------------------------------
cdef uint32_t index_block(uint32_t** blocks, uint32_t* used, uint32_t* cap,
                          uint32_t fill) noexcept nogil:
    """A new block of 256 entries, all ``fill``, at the end of ``blocks[0]``
    (grown by doubling); its number, or 0xFFFFFFFFU when out of memory."""
    cdef uint32_t b, j
    cdef uint32_t* p
    if used[0] >= cap[0]:
        p = <uint32_t*>rtm_realloc(blocks[0], <size_t>cap[0] * 2 * 256 * sizeof(uint32_t))
        if p == NULL:
            return 0xFFFFFFFFU
        blocks[0] = p
        cap[0] *= 2
    b = used[0]
    used[0] += 1
    p = &blocks[0][<size_t>b * 256]
    for j in range(256):
        p[j] = fill
    return b


cdef void index_set(const Node* nodes, uint32_t* blocks, uint32_t* tab, uint32_t count,
                    uint32_t d, int plen, uint32_t repl, bint added) noexcept nogil:
    """Destination d (of length plen) entered (added) the ``count`` entries
    from ``tab``, and the blocks below them, where no longer destination is;
    or it left them and ``repl`` (the destination covering it) takes its place."""
    cdef uint32_t i, e
    for i in range(count):
        e = tab[i]
        if e & FWD_EXT:
            index_set(nodes, blocks, &blocks[<size_t>(e & ~FWD_EXT) * 256], 256,
                      d, plen, repl, added)
        elif added:
            if e == 0 or nodes[e].plen <= plen:
                tab[i] = d
        elif e == d:
            tab[i] = repl


cdef inline uint32_t fwd4_entry(const uint32_t* t24, const uint32_t* t8, uint32_t a) noexcept nogil:
    """The DIR-24-8 entry of IPv4 address ``a``: its /24, or the address in
    the block that splits it."""
    cdef uint32_t e = t24[a >> 8]
    if e & FWD_EXT:
        e = t8[<size_t>(e & ~FWD_EXT) * 256 + (a & 0xFF)]
    return e


cdef enum:
    PACK_NODE_BITS = 26       # node index bits in a packed IPv4 sort row

cdef struct RadixKey:
    uint64_t v                # IPv4 row: (address << 6 | length) << 26 | node: the 38-bit
                              # prefix-order key above a node index below 2**26

ctypedef fused SortRow:       # the rows _radix_sort orders: packed IPv4 rows are 8 bytes,
    RadixKey                  # others (IPv6, or a table of 2**26 nodes or more) 24
    SortKey


cdef inline uint32_t _digit(const SortRow* r, int d) noexcept nogil:
    """Digit ``d`` (10 bits, least significant first) of a prefix-order sort
    key.  IPv4: 4 digits of the key.  IPv6: the length, then the low and the
    high half of the prefix, in 15 digits."""
    if SortRow is RadixKey:
        return <uint32_t>(r.v >> (PACK_NODE_BITS + 10 * d)) & 1023
    else:
        if d == 0:
            return r.plen
        if d <= 7:
            return <uint32_t>(r.lo >> (10 * (d - 1))) & 1023
        return <uint32_t>(r.hi >> (10 * (d - 8))) & 1023


cdef inline bint _row_after(const SortRow* a, const SortRow* b) noexcept nogil:
    """Row a sorts after row b (prefix order)."""
    if SortRow is RadixKey:
        return a.v > b.v
    else:
        return _cmp_keys(a, b) > 0


cdef SortRow* _radix_sort(SortRow* a, SortRow* tmp, size_t n) noexcept nogil:
    """Sort rows in prefix order (as _cmp_keys), stable; returns ``a`` or
    ``tmp``.  One read counts every digit and finds rows already in order,
    which stay as they are; a pass whose digit is the same in every row is
    skipped (the low half of most IPv6 prefixes is zero).  ``n`` < 2**32."""
    cdef uint32_t cnt[15 * 1024]
    cdef uint32_t pos, c
    cdef size_t i
    cdef int d, nd = 4 if SortRow is RadixKey else 15
    cdef bint in_order = 1
    cdef SortRow* t
    memset(cnt, 0, <size_t>nd * 1024 * sizeof(uint32_t))
    for i in range(n):
        if i and in_order and _row_after(&a[i - 1], &a[i]):
            in_order = 0
        for d in range(nd):
            cnt[d * 1024 + _digit(&a[i], d)] += 1
    if in_order:
        return a
    for d in range(nd):
        if cnt[d * 1024 + _digit(&a[0], d)] == n:
            continue
        pos = 0
        for i in range(1024):
            c = cnt[d * 1024 + i]
            cnt[d * 1024 + i] = pos
            pos += c
        for i in range(n):
            c = _digit(&a[i], d)
            tmp[cnt[d * 1024 + c]] = a[i]
            cnt[d * 1024 + c] += 1
        t = a
        a = tmp
        tmp = t
    return a


cdef SortKey* _sort_keys(SortKey* a, SortKey* tmp, size_t n) noexcept nogil:
    """Sort 128-bit rows in prefix order (as _radix_sort); returns ``a`` or
    ``tmp``.  The few prefixes longer than /64 (those with low bits) are
    sorted apart and merged in: the others then have a zero low half, which
    _radix_sort skips, so a table with a handful of such prefixes is not
    sorted over all 15 digits (bart IPv6: 83 of 160,147)."""
    cdef size_t i, j = 0, m = 0, n1, o = 0
    cdef SortKey* p1
    cdef SortKey* p2
    cdef SortKey* out
    for i in range(n):
        if a[i].lo:
            m += 1
    if m == 0 or m == n:
        return _radix_sort(a, tmp, n)
    n1 = n - m
    for i in range(n):                  # stable partition into tmp: zero low half first
        if a[i].lo:
            tmp[n1 + j] = a[i]
            j += 1
        else:
            tmp[o] = a[i]
            o += 1
    p1 = _radix_sort(tmp, a, n1)
    p2 = _radix_sort(tmp + n1, a + n1, m)
    # Merge into the buffer that does not hold the first part: the second
    # part may sit at that buffer's tail, where output index i + j never
    # passes the unread row n1 + j.
    out = tmp if p1 == a else a
    i = j = o = 0
    while i < n1 and j < m:
        if _cmp_keys(&p2[j], &p1[i]) < 0:
            out[o] = p2[j]
            j += 1
        else:
            out[o] = p1[i]
            i += 1
        o += 1
    while i < n1:
        out[o] = p1[i]
        i += 1
        o += 1
    while j < m:
        out[o] = p2[j]
        j += 1
        o += 1
    return out


cdef int _cmp_keys(const void* a, const void* b) noexcept nogil:
    """Prefix order (address, then length): trie pre-order."""
    cdef SortKey* x = <SortKey*>a
    cdef SortKey* y = <SortKey*>b
    if x.hi != y.hi:
        return -1 if x.hi < y.hi else 1
    if x.lo != y.lo:
        return -1 if x.lo < y.lo else 1
    return <int>x.plen - <int>y.plen


cdef inline size_t grown_cap(size_t cap, size_t need, size_t first) noexcept nogil:
    """Capacity after doubling ``cap`` (or starting at ``first``) until it holds ``need``."""
    if cap == 0:
        cap = first
    while cap < need:
        cap *= 2
    return cap


cdef void* grow_block(void* p, size_t old_cap, size_t new_cap, size_t elem,
                      const char* what) except NULL nogil:
    """realloc to ``new_cap`` elements; slot 0 is zeroed on the first growth.
    Slots are addressed by 32-bit indices, so capacities stop below 2**32."""
    cdef void* q
    if new_cap > 0xFFFFFFF0U:
        with gil:
            raise MemoryError(f"too many {what.decode()}")
    q = rtm_realloc(p, new_cap * elem)
    if q == NULL:
        with gil:
            raise MemoryError(f"{what.decode()}: {new_cap} slots")
    if old_cap == 0:
        memset(q, 0, elem)
    return q


cdef inline uint64_t mkhandle(uint64_t kind, uint64_t tag, uint64_t gen, uint64_t slot) noexcept nogil:
    return (kind << 60) | (tag << 48) | (gen << 32) | slot


cdef object _PARSE_MESSAGES = {
    PARSE_SYNTAX: "malformed address",
    PARSE_LENGTH: "prefix length out of range",
    PARSE_HOSTBITS: "host bits set beyond the prefix length",
}


cdef object _IPv4Network = _ipaddress.IPv4Network
cdef object _IPv6Network = _ipaddress.IPv6Network
cdef object _IPv4Address = _ipaddress.IPv4Address
cdef object _IPv6Address = _ipaddress.IPv6Address
cdef object _IPv4Interface = _ipaddress.IPv4Interface
cdef object _IPv6Interface = _ipaddress.IPv6Interface


# ---------------------------------------------------------------------------
# NetAddress: RTM_NET_ADDRESS
# ---------------------------------------------------------------------------
cdef class NetAddress:
    """An address or prefix (``RTM_NET_ADDRESS``): family, length, bits.

    Parameters
    ----------
    prefix : str, ipaddress network/address, NetAddress or (int, length)
        ``"10.1.0.0/16"``, ``"2001:db8::/32"``, ``IPv4Network(...)``, or an
        integer address with a length.  A bare address is a host prefix.
    family : int, optional
        4 or 6; needed only for the ``(int, length)`` form when the integer
        alone is ambiguous (defaults to IPv4 for values below 2**32).
    strict : bool, default True
        Reject host bits set beyond the length (``InvalidParameter``); with
        ``strict=False`` they are masked off.

    Examples
    --------
    >>> a = NetAddress("10.1.0.0/16")
    >>> a.family, a.num_bits, str(a)
    (4, 16, '10.1.0.0/16')
    >>> NetAddress((0x0A000000, 8)) == NetAddress("10.0.0.0/8")
    True
    """
    cdef readonly uint64_t hi        # key bits 127..64 (IPv4: address << 32)
    cdef readonly uint64_t lo        # key bits 63..0
    cdef readonly int family         # 4 or 6
    cdef readonly int plen           # prefix length

    def __init__(self, prefix, family=None, strict=True):
        cdef ParsedPrefix p
        cdef int rc = to_key(prefix, 0 if family is None else int(family), strict, &p)
        if rc:
            _raise_parse(rc, prefix)
        self.hi = p.hi
        self.lo = p.lo
        self.family = p.family
        self.plen = p.plen

    @staticmethod
    cdef NetAddress make(uint64_t hi, uint64_t lo, int plen, int family):
        cdef NetAddress a = NetAddress.__new__(NetAddress)
        a.hi = hi
        a.lo = lo
        a.plen = plen
        a.family = family
        return a

    @property
    def address_family(self):
        """RTMv2 ``AddressFamily`` value: ``AF_INET`` (2) or ``AF_INET6`` (23)."""
        return 2 if self.family == 4 else 23

    @property
    def num_bits(self):
        """Prefix length (``NumBits``)."""
        return self.plen

    @property
    def addr_bits(self):
        """The 16 address bytes, most significant first (``AddrBits``)."""
        return self.hi.to_bytes(8, "big") + self.lo.to_bytes(8, "big")

    @property
    def value(self):
        """The address as an integer (32-bit for IPv4, 128-bit for IPv6)."""
        if self.family == 4:
            return int(self.hi >> 32)
        return (int(self.hi) << 64) | int(self.lo)

    @property
    def network(self):
        """The prefix as an ``ipaddress`` network object."""
        if self.family == 4:
            return _IPv4Network((int(self.hi >> 32), self.plen))
        return _IPv6Network(((int(self.hi) << 64) | int(self.lo), self.plen))

    @property
    def address(self):
        """The address part as an ``ipaddress`` address object."""
        if self.family == 4:
            return _IPv4Address(int(self.hi >> 32))
        return _IPv6Address((int(self.hi) << 64) | int(self.lo))

    def key(self):
        """``(family, hi, lo, length)``: the internal 128-bit left-aligned key."""
        return (self.family, self.hi, self.lo, self.plen)

    def __str__(self):
        return f"{self.address}/{self.plen}"

    def __repr__(self):
        return f"NetAddress('{self}')"

    def __eq__(self, other):
        if not isinstance(other, NetAddress):
            return NotImplemented
        cdef NetAddress o = other
        return (self.family == o.family and self.plen == o.plen and self.hi == o.hi
                and self.lo == o.lo)

    def __hash__(self):
        return hash((self.family, self.hi, self.lo, self.plen))

    def __lt__(self, other):
        cdef NetAddress o = other
        return (self.family, self.hi, self.lo, self.plen) < (o.family, o.hi, o.lo, o.plen)

    def __reduce__(self):
        return (NetAddress, (str(self),))


cdef void _raise_parse(int rc, object prefix) except *:
    if rc == PARSE_FAMILY:
        raise _errors.InvalidParameter(f"{prefix!r}: address family does not match the table")
    if rc == PARSE_TYPE:
        raise _errors.InvalidParameter(
            f"{prefix!r}: expected a prefix string, ipaddress object, NetAddress or (int, length)")
    raise _errors.InvalidParameter(f"{prefix!r}: {_PARSE_MESSAGES.get(rc, 'invalid prefix')}")


cdef int to_key(object obj, int family, bint strict, ParsedPrefix* out) except? -100:
    """Any accepted prefix form -> 128-bit key.  ``family`` 0 = any, else 4 or 6.

    The one place where user prefixes are parsed.  Returns 0 or a PARSE_* code.
    """
    cdef const char* s
    cdef Py_ssize_t n
    cdef int rc, plen
    cdef NetAddress na
    cdef object v
    cdef uint64_t mhi, mlo
    if type(obj) is str:
        s = PyUnicode_AsUTF8AndSize(obj, &n)
        rc = parse_prefix_c(s, n, strict, out)
    elif type(obj) is NetAddress:
        na = <NetAddress>obj
        out.hi = na.hi
        out.lo = na.lo
        out.plen = na.plen
        out.family = na.family
        rc = 0
    elif type(obj) is tuple and len(<tuple>obj) == 2:
        v = (<tuple>obj)[0]
        plen = (<tuple>obj)[1]
        if not isinstance(v, int):
            if isinstance(v, (_IPv4Address, _IPv6Address)):
                return to_key(f"{v}/{plen}", family, strict, out)
            if isinstance(v, str):
                return to_key(f"{v}/{plen}", family, strict, out)
            return PARSE_TYPE
        if v < 0:
            return PARSE_SYNTAX
        if family == 6 or (family == 0 and v >= (1 << 32)):
            if v >= (1 << 128):
                return PARSE_SYNTAX
            out.family = 6
            out.hi = <uint64_t>(v >> 64)
            out.lo = <uint64_t>(v & 0xFFFFFFFFFFFFFFFFULL)
            if plen < 0 or plen > 128:
                return PARSE_LENGTH
        else:
            if v >= (1 << 32):
                return PARSE_SYNTAX
            out.family = 4
            out.hi = (<uint64_t>v) << 32
            out.lo = 0
            if plen < 0 or plen > 32:
                return PARSE_LENGTH
        out.plen = plen
        key_mask(plen, &mhi, &mlo)
        if (out.hi & ~mhi) or (out.lo & ~mlo):
            if strict:
                return PARSE_HOSTBITS
            out.hi &= mhi
            out.lo &= mlo
        rc = 0
    elif isinstance(obj, (_IPv4Interface, _IPv6Interface)):
        return to_key(str(obj), family, strict, out)     # "10.0.0.1/8": host bits are set
    elif isinstance(obj, (_IPv4Network, _IPv6Network)):
        v = int(obj.network_address)
        return to_key((v, obj.prefixlen), 4 if obj.version == 4 else 6, strict, out) \
            if family in (0, obj.version) else PARSE_FAMILY
    elif isinstance(obj, (_IPv4Address, _IPv6Address)):
        return to_key((int(obj), obj.max_prefixlen), obj.version, strict, out) \
            if family in (0, obj.version) else PARSE_FAMILY
    elif isinstance(obj, bytes):
        s = PyBytes_AS_STRING(obj)
        n = PyBytes_GET_SIZE(obj)
        rc = parse_prefix_c(s, n, strict, out)
    elif isinstance(obj, str):
        return to_key(str(obj), family, strict, out)
    else:
        return PARSE_TYPE
    if rc == 0 and family and out.family != family:
        return PARSE_FAMILY
    return rc


cdef inline uint64_t _as_handle(object h) except? 0:
    """A handle argument as uint64; 0 for None; InvalidHandle for anything
    that cannot be a handle (negative, too large, not an int)."""
    if h is None:
        return 0
    try:
        return <uint64_t>h
    except (OverflowError, TypeError):
        raise _errors.InvalidHandle(f"not a handle: {h!r}") from None


# (None, flags) results of add_route_to_dest without a handle, indexed by
# (BEST >> 15) | (NEW >> 1): no tuple and no int object made per call
cdef tuple _NO_HANDLE_RESULT = ((None, 0), (None, CHANGE_NEW), (None, CHANGE_BEST),
                                (None, CHANGE_NEW | CHANGE_BEST))
cdef object _DestInfo = None
cdef object _DestViewInfo = None


def _set_snapshot_types(dest_info, dest_view_info):
    """The facade's DestInfo / DestViewInfo classes, which the per-call
    queries of EntityCore build."""
    global _DestInfo, _DestViewInfo
    _DestInfo = dest_info
    _DestViewInfo = dest_view_info


def memory_cache(limit=None):
    """Freed table memory kept for the next manager: ``{'limit', 'bytes', 'blocks'}``.

    The arrays of a manager that is freed (from 1 MiB up; not the arrays a
    live table outgrows) are kept, up to ``limit`` bytes in all, and handed
    to the next manager's tables, which then fill pages already mapped
    instead of faulting in new ones.  Kept
    memory stays resident until a table takes it; pass ``limit`` (bytes) to
    change the limit, ``0`` to give every kept block back now and keep none
    from then on.  The default is 512 MiB.
    """
    cdef size_t lim, nbytes, blocks
    if limit is not None:
        if not isinstance(limit, int) or limit < 0:
            raise _errors.InvalidParameter(f"memory cache limit {limit!r}: bytes, >= 0")
        rtm_cache_set_limit(<size_t>min(limit, 1 << 62))
    rtm_cache_stats(&lim, &nbytes, &blocks)
    return {"limit": lim, "bytes": nbytes, "blocks": blocks}


def parse_prefix(prefix, family=None, strict=True):
    """Parse one prefix in any accepted form into a :class:`NetAddress`."""
    return NetAddress(prefix, family, strict)


# ---------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------
@cython.final                 # not subclassed: its C methods are called directly (and inlined)
cdef class Core:
    """One RTMv2 instance's tables (IPv4 and IPv6): the engine under the facade.

    It speaks integer handles and status codes; :mod:`rtmcore.manager` wraps it.
    Methods named ``*_c`` are C-level; Python-visible methods return a status
    (0 = NO_ERROR) and outputs as plain ints or tuples.
    """
    cdef readonly uint32_t tag            # manager tag in every handle (1..4095)
    cdef readonly uint32_t views_mask     # supported views (ViewsSupported)
    cdef readonly int nv                  # number of supported views
    cdef int view_index[32]               # view id -> index into per-view arrays; -1 = unsupported
    cdef int view_id[32]                  # index -> view id
    cdef readonly int max_nh              # MaxNextHopsInRoute
    # trie nodes / destinations
    cdef Node* nodes
    cdef Best* bestv[32]                  # per view index: [node] -> best route, its next hop
                                          # (an array per view: a view without routes is
                                          # never written, so its pages stay unmapped)
    cdef uint32_t n_used, n_cap, n_free   # high-water mark (slot 0 unused), capacity, free list
    cdef uint32_t root[2]                 # trie roots: [0] IPv4, [1] IPv6
    cdef uint32_t* pend[2]                # destinations not yet linked into the trie
    cdef size_t pend_n[2], pend_cap[2]
    cdef uint64_t n_dests[2]              # destinations per family
    # exact-match hash of destinations
    cdef uint64_t* htab                  # | tag 32 | node 32 |, 0 = empty
    cdef size_t h_cap, h_count
    cdef uint16_t* ngen                   # per node: generation, bumped when the slot stops
                                          # being its destination (stale dest handles)
    cdef uint32_t* drefs                  # per node: all references on the destination
                                          # (handles, deleted routes, queued notifications,
                                          # a hold-down ending); zero for nearly all, so
                                          # its pages are seldom written
    cdef uint32_t* dhrefs                 # per node: references held as handles by callers
                                          # (NULL until a destination handle is first held)
    cdef uint32_t seq_last                # the destination dest_get found last (see dest_get)
    # routes
    cdef RouteRec* routes
    cdef uint64_t* rinfo                  # EntitySpecificInfo per route; NULL until one is non-zero
    cdef uint16_t* rgen                   # generation per route slot, bumped on free
    cdef uint16_t* rflags                 # RTM_ROUTE_FLAGS_* per route; NULL until one is non-zero
    cdef uint8_t* rflags1                 # RTMv1 Flags1 per route; NULL until one is non-zero
    cdef uint32_t r_used, r_cap, r_free
    cdef uint32_t* rrefs                  # per route slot: outstanding route handles
                                          # (NULL until a route handle is first held)
    cdef uint64_t n_routes[2]             # live routes per family
    cdef uint64_t n_route_recs            # allocated route records (live + deleted-referenced)
    cdef uint32_t* nhpool                 # blocks of max_nh next-hop slots
    cdef uint32_t pool_used, pool_cap, pool_free
    # next hops and entities
    cdef NhRec* nhs
    cdef uint32_t nh_used, nh_cap, nh_free_head
    cdef dict nh_keys                     # (owner, v6, hi, lo, plen, ifindex) -> slot (live only)
    cdef EntRec* ents
    cdef uint32_t ent_used, ent_cap, ent_free
    cdef dict ent_keys                    # (v6, protocol_id, instance_id) -> slot (registered)
    # change notification (spec 1.11): per node a pending bit and a mark bit
    # per registration; both arrays exist once the first registration does
    cdef NotifyReg regs[MAX_NOTIFY_REGS]
    cdef readonly int max_regs            # configured limit (<= MAX_NOTIFY_REGS)
    cdef uint32_t regs_active             # bit g: registration g is live
    cdef uint32_t* pmask                  # [node] pending bits
    cdef uint32_t* mmask                  # [node] mark bits
    cdef uint32_t* smask                  # [node] stale bits: an ignored entry is still queued
    cdef uint32_t signal_mask             # registrations whose queue became non-empty
    # client route lists (spec 1.13): per route its list and neighbours in it;
    # the arrays exist once the first list does
    cdef RouteList* lists
    cdef uint32_t n_lists, lists_cap, lists_free
    cdef uint32_t* rl_of                  # [route] list index + 1; 0 = in no list
    cdef uint32_t* rl_prev
    cdef uint32_t* rl_next
    # hold-down (spec 1.9): per node its hold record (0 = none), lazily
    cdef uint32_t* hold_of
    cdef HoldRec* holds
    cdef uint32_t n_holds, holds_cap, holds_free
    # route aging (spec 1.10): per route its expiry, and a min-heap of timers
    cdef uint64_t* rexp                   # [route] expiry ms + 1; 0 = never (NULL until a TTL)
    cdef TimerEnt* heap
    cdef size_t heap_n, heap_cap
    # the manager lock: re-entrant for its owner thread; held by every API call
    cdef PyThread_type_lock _lk               # the waiters' gate (see lock())
    cdef unsigned long _owner
    cdef int _depth
    cdef bint _gate_closed
    # clock
    cdef uint64_t clock_ms
    cdef uint64_t stamp                   # time of the current API call (set once per call)
    cdef bint use_wall_clock
    # IPv4 lookup index per view index (DIR-24-8); NULL = not built
    cdef uint32_t* fwd24[2]
    cdef uint32_t* fwd8[2]
    cdef uint32_t fwd8_used[2], fwd8_cap[2]
    cdef bint fwd_on[2]
    # IPv6 lookup index per view index (16-8-8-...-8 multibit trie); NULL = not built
    cdef uint32_t* f6top[2]               # 2**16 entries, one per /16
    cdef uint32_t* f6blk[2]               # blocks of 256 entries
    cdef uint32_t f6_used[2], f6_cap[2]
    cdef bint f6_on[2]
    cdef uint64_t f6_refused[2]           # IPv6 destinations when a build last gave up; 0 = never
    cdef uint64_t n_inview[2][2]          # [family][view index < 2]: destinations in the view

    def __cinit__(self, uint32_t views=0x3, int max_next_hops=16, int max_notifications=16,
                  *args, **kwargs):
        global _next_tag
        cdef int i, vi = 0
        if max_next_hops < 1 or max_next_hops > MAX_NH_HARD:
            raise _errors.BadConfiguration(
                f"max_next_hops_in_route must be within 1..{MAX_NH_HARD}")
        if views == 0:
            raise _errors.BadConfiguration("a manager needs at least one view")
        if len(_live_tags) >= 4095:
            raise _errors.NoSystemResources("at most 4095 managers can be alive at once")
        while True:
            _next_tag = (_next_tag % 4095) + 1
            if _next_tag not in _live_tags:
                break
        _live_tags.add(_next_tag)
        self.tag = _next_tag
        self.views_mask = views
        for i in range(MAX_VIEWS_HARD):
            self.view_index[i] = -1
            if views & (1u << i):
                self.view_index[i] = vi
                self.view_id[vi] = i
                vi += 1
        self.nv = vi
        self.max_nh = max_next_hops
        if not 1 <= max_notifications <= MAX_NOTIFY_REGS:
            raise _errors.BadConfiguration(
                f"max_notifications must be within 1..{MAX_NOTIFY_REGS}")
        self.max_regs = max_notifications
        self.nh_keys = {}
        self.ent_keys = {}
        self.clock_ms = 0
        self.use_wall_clock = 1
        self.n_used = 1
        self.r_used = 1
        self.nh_used = 1
        self.ent_used = 1
        self.pool_used = 1
        self.grow_nodes(1024)
        self.grow_routes(1024)
        self.grow_nhs(64)
        self.grow_ents(16)
        self.grow_pool(16)
        self._lk = PyThread_allocate_lock()
        if self._lk == NULL:
            raise MemoryError("manager lock")
        self.h_cap = 1024
        self.htab = <uint64_t*>rtm_calloc(self.h_cap, sizeof(uint64_t))
        if self.htab == NULL:
            raise MemoryError()

    def __dealloc__(self):
        cdef int g, i
        _live_tags.discard(self.tag)
        if self._lk != NULL:
            PyThread_free_lock(self._lk)
        for g in range(MAX_NOTIFY_REGS):
            rtm_free_keep(self.regs[g].q)
        rtm_free_keep(self.pmask)
        rtm_free_keep(self.mmask)
        rtm_free_keep(self.smask)
        rtm_free_keep(self.lists)
        rtm_free_keep(self.rl_of)
        rtm_free_keep(self.rl_prev)
        rtm_free_keep(self.rl_next)
        rtm_free_keep(self.rexp)
        rtm_free_keep(self.heap)
        rtm_free_keep(self.hold_of)
        rtm_free_keep(self.dhrefs)
        rtm_free_keep(self.holds)
        rtm_free_keep(self.nodes)
        rtm_free_keep(self.ngen)
        rtm_free_keep(self.drefs)
        for i in range(self.nv):
            rtm_free_keep(self.bestv[i])
        rtm_free_keep(self.routes)
        rtm_free_keep(self.nhs)
        rtm_free_keep(self.ents)
        rtm_free_keep(self.nhpool)
        rtm_free_keep(self.htab)
        rtm_free_keep(self.rinfo)
        rtm_free_keep(self.rgen)
        rtm_free_keep(self.rflags)
        rtm_free_keep(self.rflags1)
        rtm_free_keep(self.rrefs)
        rtm_free_keep(self.pend[0])
        rtm_free_keep(self.pend[1])
        rtm_free_keep(self.fwd24[0])
        rtm_free_keep(self.fwd24[1])
        rtm_free_keep(self.fwd8[0])
        rtm_free_keep(self.fwd8[1])
        rtm_free_keep(self.f6top[0])
        rtm_free_keep(self.f6top[1])
        rtm_free_keep(self.f6blk[0])
        rtm_free_keep(self.f6blk[1])

    # -- locking --------------------------------------------------------------
    # Every API call holds the manager lock (re-entrant for the thread that
    # holds it, so callbacks may call the manager).  Bulk loops release the
    # GIL but keep the lock; a thread waiting for the lock waits without the
    # GIL, so the holder can always take the GIL back.
    #
    # lock() and unlock() always run with the GIL held, so the GIL guards
    # ``_owner`` / ``_depth`` and an uncontended call touches no OS lock.  The
    # OS lock ``_lk`` is only a gate for waiters: the first thread to find
    # the manager lock taken closes the gate (on the holder's behalf: a
    # PyThread lock has no owner) and every waiter blocks on it without the
    # GIL; the holder's last unlock() opens it.  A waiter that gets through
    # opens it again for the others and checks the manager lock afresh.
    # (Free-threaded builds have no GIL to lean on: they take ``_lk`` itself.)
    cdef int lock(self) except -1:
        cdef unsigned long me = PyThread_get_thread_ident()
        if self._depth and self._owner == me:
            self._depth += 1
            return 0
        if not RTM_GIL:
            if not PyThread_acquire_lock(self._lk, NOWAIT_LOCK):
                with nogil:
                    PyThread_acquire_lock(self._lk, WAIT_LOCK)
        else:
            while self._depth:
                if not self._gate_closed:
                    PyThread_acquire_lock(self._lk, NOWAIT_LOCK)   # open, as only lock() waits on it
                    self._gate_closed = 1
                with nogil:
                    PyThread_acquire_lock(self._lk, WAIT_LOCK)
                PyThread_release_lock(self._lk)                     # let the next waiter through
        self._owner = me
        self._depth = 1
        return 0

    cdef void unlock(self) noexcept:
        self._depth -= 1
        if self._depth == 0:
            self._owner = 0
            if not RTM_GIL:
                PyThread_release_lock(self._lk)
            elif self._gate_closed:
                self._gate_closed = 0
                PyThread_release_lock(self._lk)

    def __enter__(self):
        self.lock()
        return self

    def __exit__(self, *exc):
        self.unlock()
        return False

    # -- allocation ---------------------------------------------------------
    # Arrays grow by doubling through grow_block, which never frees and
    # leaves the array unchanged on failure (MemoryError).  Pointers into the
    # old arrays are dead afterwards: callers keep indices, not pointers.
    cdef int grow_nodes(self, size_t need) except -1 nogil:
        cdef size_t cap = grown_cap(self.n_cap, need, 1024)
        cdef int i
        if cap > RT_END:                # a node index must fit below RT_END (RouteRec.next)
            with gil:
                raise MemoryError("too many trie nodes")
        if cap > self.n_cap:
            self.nodes = <Node*>grow_block(self.nodes, self.n_cap, cap, sizeof(Node),
                                           "trie nodes")
            self.ngen = <uint16_t*>grow_block(self.ngen, self.n_cap, cap, sizeof(uint16_t),
                                              "trie nodes")
            self.drefs = <uint32_t*>grow_block(self.drefs, self.n_cap, cap, sizeof(uint32_t),
                                               "trie nodes")
            for i in range(self.nv):
                self.bestv[i] = <Best*>grow_block(self.bestv[i], self.n_cap, cap, sizeof(Best),
                                                  "trie nodes")
            if self.hold_of != NULL:
                self.hold_of = <uint32_t*>grow_block(self.hold_of, self.n_cap, cap,
                                                     sizeof(uint32_t), "trie nodes")
            if self.dhrefs != NULL:
                self.dhrefs = <uint32_t*>grow_block(self.dhrefs, self.n_cap, cap,
                                                    sizeof(uint32_t), "trie nodes")
            if self.pmask != NULL:
                self.pmask = <uint32_t*>grow_block(self.pmask, self.n_cap, cap,
                                                   sizeof(uint32_t), "trie nodes")
                self.mmask = <uint32_t*>grow_block(self.mmask, self.n_cap, cap,
                                                   sizeof(uint32_t), "trie nodes")
                self.smask = <uint32_t*>grow_block(self.smask, self.n_cap, cap,
                                                   sizeof(uint32_t), "trie nodes")
            self.n_cap = <uint32_t>cap
        return 0

    cdef int grow_routes(self, size_t need) except -1 nogil:
        cdef size_t cap = grown_cap(self.r_cap, need, 1024)
        if cap > RT_END:                # a route index must fit below RT_END (RouteRec.next)
            with gil:
                raise MemoryError("too many route records")
        if cap > self.r_cap:
            self.routes = <RouteRec*>grow_block(self.routes, self.r_cap, cap, sizeof(RouteRec),
                                                "route records")
            self.rgen = <uint16_t*>grow_block(self.rgen, self.r_cap, cap, sizeof(uint16_t),
                                              "route records")
            if self.rflags != NULL:
                self.rflags = <uint16_t*>grow_block(self.rflags, self.r_cap, cap,
                                                    sizeof(uint16_t), "route records")
            if self.rflags1 != NULL:
                self.rflags1 = <uint8_t*>grow_block(self.rflags1, self.r_cap, cap,
                                                    sizeof(uint8_t), "route records")
            if self.rinfo != NULL:
                self.rinfo = <uint64_t*>grow_block(self.rinfo, self.r_cap, cap,
                                                   sizeof(uint64_t), "route records")
            if self.rrefs != NULL:
                self.rrefs = <uint32_t*>grow_block(self.rrefs, self.r_cap, cap,
                                                   sizeof(uint32_t), "route records")
            if self.rl_of != NULL:
                self.rl_of = <uint32_t*>grow_block(self.rl_of, self.r_cap, cap,
                                                   sizeof(uint32_t), "route records")
                self.rl_prev = <uint32_t*>grow_block(self.rl_prev, self.r_cap, cap,
                                                     sizeof(uint32_t), "route records")
                self.rl_next = <uint32_t*>grow_block(self.rl_next, self.r_cap, cap,
                                                     sizeof(uint32_t), "route records")
            if self.rexp != NULL:
                self.rexp = <uint64_t*>grow_block(self.rexp, self.r_cap, cap,
                                                  sizeof(uint64_t), "route records")
            self.r_cap = <uint32_t>cap
        return 0

    cdef int grow_nhs(self, size_t need) except -1 nogil:
        cdef size_t cap = grown_cap(self.nh_cap, need, 64)
        if cap > self.nh_cap:
            self.nhs = <NhRec*>grow_block(self.nhs, self.nh_cap, cap, sizeof(NhRec), "next hops")
            self.nh_cap = <uint32_t>cap
        return 0

    cdef int grow_ents(self, size_t need) except -1 nogil:
        cdef size_t cap = grown_cap(self.ent_cap, need, 16)
        if cap > self.ent_cap:
            self.ents = <EntRec*>grow_block(self.ents, self.ent_cap, cap, sizeof(EntRec),
                                            "entities")
            self.ent_cap = <uint32_t>cap
        return 0

    cdef int grow_pool(self, size_t need) except -1 nogil:
        """Capacity in blocks of ``max_nh`` next-hop slots."""
        cdef size_t cap = grown_cap(self.pool_cap, need, 16)
        if cap > self.pool_cap:
            self.nhpool = <uint32_t*>grow_block(self.nhpool, self.pool_cap, cap,
                                                self.max_nh * sizeof(uint32_t), "next-hop pool")
            self.pool_cap = <uint32_t>cap
        return 0

    cdef int check_fresh_node(self, uint32_t x) except -1 nogil:
        """RTM_DEBUG: a node slot never used reads as zeros in every per-node array."""
        cdef int i
        cdef bint ok = mem_is_zero(&self.nodes[x], sizeof(Node))
        ok = ok and self.ngen[x] == 0 and self.drefs[x] == 0
        for i in range(self.nv):
            ok = ok and self.bestv[i][x].route == 0 and self.bestv[i][x].nh == 0
        if self.pmask != NULL:
            ok = ok and self.pmask[x] == 0 and self.mmask[x] == 0 and self.smask[x] == 0
        if self.hold_of != NULL:
            ok = ok and self.hold_of[x] == 0
        if self.dhrefs != NULL:
            ok = ok and self.dhrefs[x] == 0
        if not ok:
            with gil:
                raise AssertionError(f"node slot {x} past the high-water mark is not clear")
        return 0

    cdef int check_fresh_route(self, uint32_t r) except -1 nogil:
        """RTM_DEBUG: a route slot never used reads as zeros in every per-route array."""
        cdef bint ok = mem_is_zero(&self.routes[r], sizeof(RouteRec)) and self.rgen[r] == 0
        if self.rflags != NULL:
            ok = ok and self.rflags[r] == 0
        if self.rinfo != NULL:
            ok = ok and self.rinfo[r] == 0
        if self.rflags1 != NULL:
            ok = ok and self.rflags1[r] == 0
        if self.rrefs != NULL:
            ok = ok and self.rrefs[r] == 0
        if self.rl_of != NULL:
            ok = ok and self.rl_of[r] == 0 and self.rl_prev[r] == 0 and self.rl_next[r] == 0
        if self.rexp != NULL:
            ok = ok and self.rexp[r] == 0
        if not ok:
            with gil:
                raise AssertionError(f"route slot {r} past the high-water mark is not clear")
        return 0

    cdef uint32_t node_alloc(self) except 0 nogil:
        """A zeroed node slot (generation kept).  May move ``self.nodes``."""
        cdef uint32_t x = self.n_free
        cdef int g, i
        cdef Best* b
        if x == 0:
            # A slot past the high-water mark was never written, and every
            # per-node array reads as zeros there (rtm_realloc): nothing to clear.
            if self.n_used >= self.n_cap:
                self.grow_nodes(self.n_used + 1)
            x = self.n_used
            self.n_used += 1
            if RTM_DEBUG:
                self.check_fresh_node(x)
            self.nodes[x].flags = NF_USED
            return x
        self.n_free = self.nodes[x].parent
        memset(&self.nodes[x], 0, sizeof(Node))     # (a free slot's drefs is 0, its ngen kept)
        for i in range(self.nv):         # (tested first: the array of an unused view
            b = &self.bestv[i][x]         # stays unwritten)
            if b.route or b.nh:
                b.route = 0
                b.nh = 0
        if self.pmask != NULL:
            if self.smask[x]:
                # an ignored entry of the slot's previous destination is still
                # queued: drop it before the slot stands for a new destination
                for g in range(MAX_NOTIFY_REGS):
                    if self.smask[x] & (1u << g):
                        self.queue_compact(g)
            self.pmask[x] = 0
            self.mmask[x] = 0
            self.smask[x] = 0
        if self.hold_of != NULL:
            self.hold_of[x] = 0
        if self.dhrefs != NULL:
            self.dhrefs[x] = 0
        self.nodes[x].flags = NF_USED
        return x

    cdef void node_free(self, uint32_t x) noexcept nogil:
        self.ngen[x] += 1
        self.nodes[x].flags = 0
        self.nodes[x].parent = self.n_free
        self.n_free = x

    cdef uint32_t route_alloc(self) except 0 nogil:
        cdef uint32_t r = self.r_free
        if r == 0:
            # never written, and zeros in every per-route array (as in node_alloc)
            if self.r_used >= self.r_cap:
                self.grow_routes(self.r_used + 1)
            r = self.r_used
            self.r_used += 1
            if RTM_DEBUG:
                self.check_fresh_route(r)
            self.routes[r].iflags = RI_USED
            return r
        self.r_free = self.routes[r].next
        memset(&self.routes[r], 0, sizeof(RouteRec))   # (its rgen kept)
        self.routes[r].iflags = RI_USED
        if self.rflags != NULL:
            self.rflags[r] = 0
        if self.rinfo != NULL:
            self.rinfo[r] = 0
        if self.rflags1 != NULL:
            self.rflags1[r] = 0
        if self.rrefs != NULL:
            self.rrefs[r] = 0
        if self.rl_of != NULL:
            self.rl_of[r] = 0
        if self.rexp != NULL:
            self.rexp[r] = 0
        return r

    cdef void* route_side_array(self, size_t elem, const char* what) except NULL nogil:
        """A zeroed array of ``elem``-byte values, one per route slot."""
        cdef void* p = rtm_calloc(self.r_cap, elem)
        if p == NULL:
            with gil:
                raise MemoryError(what.decode())
        return p

    cdef inline uint64_t get_info(self, uint32_t r) noexcept nogil:
        return self.rinfo[r] if self.rinfo != NULL else 0

    cdef inline int route_sides_ready(self, const RouteSpec* sp) except -1 nogil:
        """Make the side arrays the non-zero fields of ``sp`` need: route
        flags, Flags1 and EntitySpecificInfo each get theirs at the first
        non-zero value (before a change begins: MemoryError leaves the table
        unchanged)."""
        if sp.flags and self.rflags == NULL:
            self.rflags = <uint16_t*>self.route_side_array(sizeof(uint16_t), "route flags")
        if sp.flags1 and self.rflags1 == NULL:
            self.rflags1 = <uint8_t*>self.route_side_array(sizeof(uint8_t), "route flags")
        if sp.info and self.rinfo == NULL:
            self.rinfo = <uint64_t*>self.route_side_array(sizeof(uint64_t), "route info")
        return 0

    cdef inline uint16_t get_flags(self, uint32_t r) noexcept nogil:
        """A route's RTM_ROUTE_FLAGS_* (0 for every route while none has any)."""
        return self.rflags[r] if self.rflags != NULL else 0

    cdef inline uint8_t get_flags1(self, uint32_t r) noexcept nogil:
        return self.rflags1[r] if self.rflags1 != NULL else 0

    cdef uint32_t pool_alloc(self) except 0 nogil:
        cdef uint32_t b = self.pool_free
        if b:
            self.pool_free = self.nhpool[<size_t>b * self.max_nh]
            return b
        if self.pool_used >= self.pool_cap:
            self.grow_pool(self.pool_used + 1)
        b = self.pool_used
        self.pool_used += 1
        return b

    cdef void pool_free_block(self, uint32_t b) noexcept nogil:
        self.nhpool[<size_t>b * self.max_nh] = self.pool_free
        self.pool_free = b

    # -- clock ----------------------------------------------------------------
    cdef inline uint64_t now(self) noexcept nogil:
        if self.use_wall_clock:
            return rtm_now_ms()
        return self.clock_ms

    cdef inline void tick(self) noexcept nogil:
        """Take the time stamp of the mutating call that starts now."""
        self.stamp = self.now()

    def set_virtual_time(self, uint64_t ms):
        """Switch to caller-driven time (VirtualClock) and set it.  Times are
        kept to 48 bits of milliseconds (LastChanged), about 8,900 years."""
        if ms >= (<uint64_t>1 << 48):
            raise _errors.InvalidParameter(f"virtual time {ms} ms is past 2**48 ms")
        self.use_wall_clock = 0
        self.clock_ms = ms

    def set_wall_clock(self):
        self.use_wall_clock = 1

    # -- handles --------------------------------------------------------------
    cdef inline uint64_t h_route(self, uint32_t r) noexcept nogil:
        return mkhandle(KIND_ROUTE, self.tag, self.rgen[r], r) if r else 0

    cdef inline uint64_t h_dest(self, uint32_t d) noexcept nogil:
        return mkhandle(KIND_DEST, self.tag, self.ngen[d], d) if d else 0

    cdef inline uint64_t h_nh(self, uint32_t s) noexcept nogil:
        return mkhandle(KIND_NEXTHOP, self.tag, self.nhs[s].gen, s) if s else 0

    cdef inline uint64_t h_ent(self, uint32_t e) noexcept nogil:
        return mkhandle(KIND_ENTITY, self.tag, self.ents[e].gen, e) if e else 0

    cdef inline bint h_ok(self, uint64_t h, uint64_t kind) noexcept nogil:
        return (h >> 60) == kind and ((h >> 48) & 0xFFF) == self.tag

    cdef uint32_t route_slot(self, uint64_t h) noexcept nogil:
        """Slot of a route handle that names an allocated record (live or
        deleted-but-referenced); 0 if stale, forged, wrong kind or foreign."""
        cdef uint32_t r = <uint32_t>(h & 0xFFFFFFFFU)
        if not self.h_ok(h, KIND_ROUTE) or r == 0 or r >= self.r_used:
            return 0
        if not (self.routes[r].iflags & RI_USED) or self.rgen[r] != ((h >> 32) & 0xFFFF):
            return 0
        return r

    cdef uint32_t dest_slot(self, uint64_t h) noexcept nogil:
        cdef uint32_t d = <uint32_t>(h & 0xFFFFFFFFU)
        if not self.h_ok(h, KIND_DEST) or d == 0 or d >= self.n_used:
            return 0
        if not (self.nodes[d].flags & NF_DEST) or self.ngen[d] != ((h >> 32) & 0xFFFF):
            return 0
        return d

    cdef uint32_t nh_slot(self, uint64_t h) noexcept nogil:
        cdef uint32_t s = <uint32_t>(h & 0xFFFFFFFFU)
        if not self.h_ok(h, KIND_NEXTHOP) or s == 0 or s >= self.nh_used:
            return 0
        if self.nhs[s].state == NH_STATE_FREE or self.nhs[s].gen != ((h >> 32) & 0xFFFF):
            return 0
        return s

    cdef uint32_t ent_slot(self, uint64_t h) noexcept nogil:
        cdef uint32_t e = <uint32_t>(h & 0xFFFFFFFFU)
        if not self.h_ok(h, KIND_ENTITY) or e == 0 or e >= self.ent_used:
            return 0
        if self.ents[e].state == 0 or self.ents[e].gen != ((h >> 32) & 0xFFFF):
            return 0
        return e

    # -- exact-match hash -------------------------------------------------------
    # Entries are 64-bit: | 32-bit tag | 32-bit node |, 0 = empty.  The tag is
    # the top half of the key's hash; the home slot is ``tag & (cap - 1)`` (cap
    # is a power of two, at most 2**32).  Probes compare tags and read a node
    # only on a tag match, and growing rehashes without reading any node.
    cdef inline uint64_t h_tag(self, uint32_t x) noexcept nogil:
        cdef Node* n = &self.nodes[x]
        return key_hash(n.hi, n.lo, n.plen, (n.flags & NF_V6) != 0) >> 32

    cdef inline uint32_t hash_probe(self, int v6, uint64_t hi, uint64_t lo, int plen,
                                    uint64_t tag, size_t* slot) noexcept nogil:
        """The node of the prefix (0 if absent); ``slot`` is where the probe
        stopped: the entry found, or the empty slot the prefix would take."""
        cdef size_t mask = self.h_cap - 1
        cdef size_t i = tag & mask
        cdef uint64_t e
        cdef uint32_t x
        cdef uint8_t want = NF_V6 if v6 else 0
        while True:
            e = self.htab[i]
            if e == 0:
                slot[0] = i
                return 0
            if (e >> 32) == tag:
                x = <uint32_t>e
                if node_is(&self.nodes[x], hi, lo, plen, NF_V6, want):
                    slot[0] = i
                    return x
            i = (i + 1) & mask

    cdef uint32_t hash_find(self, int v6, uint64_t hi, uint64_t lo, int plen) noexcept nogil:
        cdef size_t slot
        return self.hash_probe(v6, hi, lo, plen, key_hash(hi, lo, plen, v6) >> 32, &slot)

    cdef inline void prefetch_node(self, uint32_t x) noexcept nogil:
        """Prefetch the key and trie links of node x (bytes 0..35: one or two lines)."""
        cdef const char* p = <const char*>&self.nodes[x]
        rtm_prefetch(p)
        rtm_prefetch(p + 35)

    cdef inline void prefetch_rows(self, PfRing* ring, Py_ssize_t i, Py_ssize_t n, int v6,
                                   const uint64_t[:] hi, const uint64_t[:] lo,
                                   const uint8_t[:] plen) noexcept nogil:
        """Software pipeline of bulk loops, whose rows reach the table at random.

        While the loop works on row ``i`` it fetches, for three rows further
        on, the next line each of them will need: the hash slot of row
        ``i + PF_HASH`` (its tag is kept in ``ring``), the destination node of
        row ``i + PF_NODE`` (read from the slot fetched earlier), and the first
        route and best routes of row ``i + PF_ROUTE``.  Each stage reads only
        what an earlier stage brought in, so the loop itself never waits.
        Only hints: a stage that finds nothing fetches nothing, and every
        index is bounds-checked before it is followed."""
        cdef Py_ssize_t j
        cdef uint64_t tag, e
        cdef size_t slot, mask = self.h_cap - 1
        cdef uint32_t x, r
        cdef int k
        j = i + PF_HASH
        if j < n:
            tag = key_hash(hi[j], lo[j], plen[j], v6) >> 32
            ring.tag[j & (PF_RING_SIZE - 1)] = tag
            rtm_prefetch(&self.htab[tag & mask])
        j = i + PF_NODE
        if j < n:
            tag = ring.tag[j & (PF_RING_SIZE - 1)]
            slot = tag & mask
            x = 0
            for k in range(4):                  # the slot's line holds the usual probe
                e = self.htab[slot]
                if e == 0:
                    break
                if (e >> 32) == tag:
                    x = <uint32_t>e
                    break
                slot = (slot + 1) & mask
            if x >= self.n_used:
                x = 0
            ring.node[j & (PF_RING_SIZE - 1)] = x
            if x:
                self.prefetch_node(x)
        j = i + PF_ROUTE
        if j < n:
            x = ring.node[j & (PF_RING_SIZE - 1)]
            if x and x < self.n_used:
                r = self.nodes[x].routes
                if r and r < self.r_used:
                    rtm_prefetch(&self.routes[r])
                rtm_prefetch(&self.bestv[0][x])
                if self.nv > 1:
                    rtm_prefetch(&self.bestv[1][x])

    cdef int hash_reserve(self, size_t count) except -1 nogil:
        """Size the index for ``count`` destinations at once (one rehash, not one per doubling)."""
        cdef size_t cap = self.h_cap
        while count * 10 > cap * 6:
            cap *= 2
        if cap > self.h_cap:
            self.hash_grow(cap)
        return 0

    cdef int hash_grow(self, size_t new_cap) except -1 nogil:
        """Rehash into ``new_cap`` slots (a power of two, larger than now)."""
        cdef size_t old_cap = self.h_cap, i, j, mask
        cdef uint64_t* old = self.htab
        cdef uint64_t* t
        if new_cap > (<size_t>1 << 32):
            with gil:
                raise MemoryError("exact-match index is full")
        t = <uint64_t*>rtm_calloc(new_cap, sizeof(uint64_t))
        if t == NULL:
            with gil:
                raise MemoryError("exact-match index")
        mask = new_cap - 1
        for i in range(old_cap):
            if old[i]:
                j = (old[i] >> 32) & mask
                while t[j]:
                    j = (j + 1) & mask
                t[j] = old[i]
        self.htab = t
        self.h_cap = new_cap
        rtm_free(old)
        return 0

    cdef void hash_delete(self, uint32_t x) noexcept nogil:
        cdef size_t mask = self.h_cap - 1
        cdef uint64_t tag = self.h_tag(x)
        cdef size_t i = tag & mask, j, k
        while <uint32_t>self.htab[i] != x:
            if self.htab[i] == 0:
                return          # not present (caller bug); leave the table intact
            i = (i + 1) & mask
        j = i
        while True:
            j = (j + 1) & mask
            if self.htab[j] == 0:
                break
            k = (self.htab[j] >> 32) & mask
            # the entry at j may move to the hole at i unless its home lies in (i, j]
            if (i <= j and i < k and k <= j) or (i > j and (i < k or k <= j)):
                continue
            self.htab[i] = self.htab[j]
            i = j
        self.htab[i] = 0
        self.h_count -= 1

    # -- trie -------------------------------------------------------------------
    cdef inline void link(self, uint32_t parent, int b, uint32_t child, int v6) noexcept nogil:
        if parent:
            self.nodes[parent].child[b] = child
        else:
            self.root[v6] = child
        if child:
            self.nodes[child].parent = parent

    cdef int trie_link(self, uint32_t nn, uint32_t finger) except -1 nogil:
        """Link the unlinked destination node nn into its family's trie.

        The descent starts at the lowest ancestor of ``finger`` (a linked node,
        or 0 for the root) that contains nn's prefix: linking in prefix order
        with the previous node as finger climbs a few levels instead of walking
        from the root.  Cases: (0) a glue node with the same prefix is in the
        trie: nn takes its place; (1) nn covers the subtree it lands on: it
        goes above it; (2) nn and that subtree diverge: a glue node joins them.
        May move ``self.nodes`` (a glue node is allocated)."""
        cdef Node* n = &self.nodes[nn]
        cdef int v6 = (n.flags & NF_V6) != 0
        cdef uint64_t hi = n.hi, lo = n.lo, mhi, mlo
        cdef int plen = n.plen, pb = 0, b, cl
        cdef uint32_t cur = self.root[v6], parent = 0, glue
        cdef Node* c
        cdef Node* g
        cdef uint8_t fam = NF_V6 if v6 else 0
        while finger:
            c = &self.nodes[finger]
            if c.plen <= plen and key_covers(c.hi, c.lo, c.plen, hi, lo):
                break
            finger = c.parent
        if finger:
            c = &self.nodes[finger]
            if c.plen == plen:          # a glue node with nn's prefix: case 0 below
                cur = finger
                parent = c.parent
                if parent:
                    pb = 1 if self.nodes[parent].child[1] == finger else 0
            else:                       # finger covers nn: go on from its child
                parent = finger
                pb = key_bit(hi, lo, c.plen)
                cur = c.child[pb]
        while cur:
            c = &self.nodes[cur]
            if c.plen > plen or not key_covers(c.hi, c.lo, c.plen, hi, lo):
                break
            if c.plen == plen:
                # Case 0: replace the glue node ``cur`` by nn.
                n.child[0] = c.child[0]
                n.child[1] = c.child[1]
                if n.child[0]:
                    self.nodes[n.child[0]].parent = nn
                if n.child[1]:
                    self.nodes[n.child[1]].parent = nn
                self.link(parent, pb, nn, v6)
                n.flags |= NF_LINKED
                self.node_free(cur)
                return 0
            parent = cur
            pb = key_bit(hi, lo, c.plen)
            cur = c.child[pb]
        n.child[0] = 0
        n.child[1] = 0
        n.flags |= NF_LINKED
        if cur == 0:
            self.link(parent, pb, nn, v6)
            return 0
        c = &self.nodes[cur]
        cl = key_common(hi, lo, c.hi, c.lo)
        if cl >= plen:
            # Case 1: the new prefix covers ``cur``: it goes between parent and cur.
            b = key_bit(c.hi, c.lo, plen)
            n.child[b] = cur
            c.parent = nn
            self.link(parent, pb, nn, v6)
            return 0
        # Case 2: they diverge at bit ``cl``: a glue node joins them.
        glue = self.node_alloc()
        n = &self.nodes[nn]
        c = &self.nodes[cur]
        g = &self.nodes[glue]
        key_mask(cl, &mhi, &mlo)
        g.hi = hi & mhi
        g.lo = lo & mlo
        g.plen = cl
        g.flags = NF_USED | fam
        b = key_bit(hi, lo, cl)
        g.child[b] = nn
        g.child[1 - b] = cur
        g.flags |= NF_LINKED
        n.parent = glue
        c.parent = glue
        self.link(parent, pb, glue, v6)
        return 0

    cdef inline int ensure_trie(self, int v6) except -1 nogil:
        """Link the pending destinations of a family (before any trie use)."""
        if self.pend_n[v6]:
            self.trie_flush(v6)
        return 0

    cdef int trie_flush(self, int v6) except -1 nogil:
        """Sort the pending destinations by prefix and link them in that order.

        Keys are copied to a flat array first (the pending list is in
        allocation order, so this reads nodes sequentially) and sorted there,
        so that the sort never chases node indices at random; the link loop
        fetches the nodes a few places ahead, as prefix order visits them at
        random.  Destinations added in prefix order (a table loaded from a
        sorted dump) are found in order by the first pass and linked as they
        are: no keys are copied and nothing is sorted."""
        cdef size_t i, k = 0, n = self.pend_n[v6]
        cdef uint32_t x, finger = 0
        cdef uint32_t* p = self.pend[v6]
        cdef SortKey* keys
        cdef SortKey* sorted6
        cdef RadixKey* rk
        cdef RadixKey* sorted4
        cdef Node* nd
        cdef SortKey cur, prev
        cdef bint in_order = 1
        prev.hi = prev.lo = 0
        prev.plen = 0
        for i in range(n):              # keep live, still unlinked destinations (no duplicates:
            x = p[i]                    # a slot freed and reused is listed again)
            nd = &self.nodes[x]
            if (nd.flags & (NF_DEST | NF_LINKED)) == NF_DEST and \
                    ((nd.flags & NF_V6) != 0) == v6:   # (a freed slot may be reused
                nd.flags |= NF_LINKED                  # by the other family)
                if in_order:
                    cur.hi = nd.hi
                    cur.lo = nd.lo
                    cur.plen = nd.plen
                    if k and _cmp_keys(&prev, &cur) >= 0:
                        in_order = 0
                    prev = cur
                p[k] = x
                k += 1
        if in_order:
            for i in range(k):          # (unflagged before linking, as below: after a
                self.nodes[p[i]].flags &= ~NF_LINKED   # MemoryError a later flush links the rest)
        elif v6 or self.n_used > (1u << PACK_NODE_BITS):
            keys = <SortKey*>rtm_malloc(2 * k * sizeof(SortKey) + 1)
            if keys == NULL:
                self.flush_unflag(p, k)
            for i in range(k):
                x = p[i]
                self.nodes[x].flags &= ~NF_LINKED
                keys[i].hi = self.nodes[x].hi
                keys[i].lo = self.nodes[x].lo
                keys[i].plen = self.nodes[x].plen
                keys[i].node = x
            sorted6 = _sort_keys(keys, keys + k, k)
            for i in range(k):
                p[i] = sorted6[i].node
            rtm_free(keys)
        else:
            rk = <RadixKey*>rtm_malloc(2 * k * sizeof(RadixKey) + 1)
            if rk == NULL:
                self.flush_unflag(p, k)
            for i in range(k):
                x = p[i]
                self.nodes[x].flags &= ~NF_LINKED
                rk[i].v = (((self.nodes[x].hi >> 26) | self.nodes[x].plen) << PACK_NODE_BITS) | x
            sorted4 = _radix_sort(rk, rk + k, k)
            for i in range(k):
                p[i] = <uint32_t>(sorted4[i].v & ((1u << PACK_NODE_BITS) - 1))
            rtm_free(rk)
        if RTM_DEBUG:
            for i in range(1, k):
                if self.key_cmp(p[i - 1], p[i]) > 0:
                    with gil:
                        raise AssertionError("trie_flush: keys out of prefix order")
        for i in range(k):              # (on MemoryError the linked ones are flagged, and a
            x = p[i]                    # later flush links the rest)
            if i + PF_LINK < k:         # nodes were made in insertion order, not prefix order
                self.prefetch_node(p[i + PF_LINK])
            self.trie_link(x, finger)
            finger = x
        self.pend_n[v6] = 0
        if self.pend_cap[v6] > 65536:   # a bulk load's list (4 bytes a destination) is
            rtm_free(self.pend[v6])     # not kept for the next one
            self.pend[v6] = NULL
            self.pend_cap[v6] = 0
        return 0

    cdef int key_cmp(self, uint32_t x, uint32_t y) noexcept nogil:
        """Prefix order of nodes x and y (as _cmp_keys)."""
        cdef SortKey a, b
        a.hi = self.nodes[x].hi
        a.lo = self.nodes[x].lo
        a.plen = self.nodes[x].plen
        b.hi = self.nodes[y].hi
        b.lo = self.nodes[y].lo
        b.plen = self.nodes[y].plen
        return _cmp_keys(&a, &b)

    cdef int flush_unflag(self, uint32_t* p, size_t k) except -1 nogil:
        """trie_flush out of memory: the pending nodes are unflagged again."""
        cdef size_t i
        for i in range(k):
            self.nodes[p[i]].flags &= ~NF_LINKED
        with gil:
            raise MemoryError("trie: linking pending destinations")

    cdef inline int pend_add(self, int v6, uint32_t x) except -1 nogil:
        if self.pend_n[v6] == self.pend_cap[v6]:
            self.pend_grow(v6)
        self.pend[v6][self.pend_n[v6]] = x
        self.pend_n[v6] += 1
        return 0

    cdef int pend_grow(self, int v6) except -1 nogil:
        cdef size_t cap = self.pend_cap[v6] * 2 if self.pend_cap[v6] else 1024
        cdef uint32_t* q = <uint32_t*>rtm_realloc(self.pend[v6], cap * sizeof(uint32_t))
        if q == NULL:
            with gil:
                raise MemoryError("pending destinations")
        self.pend[v6] = q
        self.pend_cap[v6] = cap
        return 0

    cdef void trie_splice(self, uint32_t x) noexcept nogil:
        """Remove node x, which has at most one child, and free it."""
        cdef Node* n = &self.nodes[x]
        cdef uint32_t child = n.child[0] if n.child[0] else n.child[1]
        cdef uint32_t parent = n.parent
        cdef int v6 = (n.flags & NF_V6) != 0
        cdef int b = 0
        if parent:
            b = 1 if self.nodes[parent].child[1] == x else 0
        self.link(parent, b, child, v6)
        self.node_free(x)

    cdef void dest_maybe_free(self, uint32_t d) noexcept nogil:
        """Drop destination d if nothing keeps it (no route, no reference, no hold)."""
        cdef Node* n = &self.nodes[d]
        cdef uint32_t p
        cdef int v6
        if n.routes or self.drefs[d] or not (n.flags & NF_DEST) or self.holding(d):
            return
        if self.hold_of != NULL and self.hold_of[d]:
            self.hold_free(self.hold_of[d])
            self.hold_of[d] = 0
        v6 = (n.flags & NF_V6) != 0
        self.hash_delete(d)
        self.n_dests[v6] -= 1
        n.flags &= ~(NF_DEST | NF_INV0 | NF_INV1)
        self.ngen[d] += 1                # outstanding dest handles are now stale
        if not (n.flags & NF_LINKED):
            self.node_free(d)            # never linked: only the pending list names it
            return
        if n.child[0] and n.child[1]:
            return                       # stays as a glue node
        p = n.parent
        self.trie_splice(d)
        if p and not (self.nodes[p].flags & NF_DEST) and \
                not (self.nodes[p].child[0] and self.nodes[p].child[1]):
            self.trie_splice(p)          # a glue node left with one child

    cdef uint32_t dest_get(self, int v6, uint64_t hi, uint64_t lo, int plen) except 0 nogil:
        """Destination for the prefix, created (unlinked) if absent.  One probe
        of the index finds it or the free slot where it goes."""
        cdef Node* n
        cdef uint64_t tag
        cdef size_t i
        cdef uint32_t d = self.seq_last + 1
        cdef uint8_t want = NF_DEST | (NF_V6 if v6 else 0)
        # Destinations take node slots in the order they are first added, so a
        # stream in the order of the table's load (a peer re-announcing its
        # table, a second pass over a dump) finds its destination in the slot
        # after the previous one: one read of a line that is likely cached,
        # instead of the random read of the hash slot (a glue node or a freed
        # slot has NF_DEST clear and does not match).
        if d < self.n_used and node_is(&self.nodes[d], hi, lo, plen, NF_DEST | NF_V6, want):
            self.seq_last = d
            return d
        tag = key_hash(hi, lo, plen, v6) >> 32
        d = self.hash_probe(v6, hi, lo, plen, tag, &i)
        if d:
            self.seq_last = d
            return d
        if (self.h_count + 1) * 10 > self.h_cap * 6:
            self.hash_reserve(self.h_count + 1)
            self.hash_probe(v6, hi, lo, plen, tag, &i)    # its free slot in the new index
        d = self.node_alloc()                   # (moves nodes, never the index)
        n = &self.nodes[d]
        n.hi = hi
        n.lo = lo
        n.plen = plen
        n.flags = NF_USED | NF_DEST | (NF_V6 if v6 else 0)
        self.pend_add(v6, d)
        self.htab[i] = (tag << 32) | d
        self.h_count += 1
        self.n_dests[v6] += 1
        self.seq_last = d
        return d

    cdef uint32_t dest_views(self, uint32_t d) noexcept nogil:
        """View mask of the destination: views in which it has a (best) route."""
        cdef uint32_t m = 0
        cdef int i
        cdef uint8_t f
        if self.nv <= 2:                  # the node's view flags say it: no best-route read
            f = self.nodes[d].flags
            if f & NF_INV0:
                m = 1u << self.view_id[0]
            if self.nv == 2 and (f & NF_INV1):
                m |= 1u << self.view_id[1]
            return m
        for i in range(self.nv):
            if self.bestv[i][d].route:
                m |= 1u << self.view_id[i]
        return m

    cdef inline bint dest_visible(self, uint32_t d, uint32_t views) noexcept nogil:
        """U7/U33: a destination with routes counts; with views != 0 it must
        belong to one of them."""
        if not (self.nodes[d].flags & NF_DEST):
            return 0
        if self.nodes[d].routes == 0:
            return views == 0 and self.holding(d)   # hold-only: seen with mask 0 only
        if views == 0:
            return 1
        return (self.dest_views(d) & views) != 0

    cdef uint32_t trie_lpm(self, int v6, uint64_t hi, uint64_t lo, int plen,
                           uint32_t views) noexcept nogil:
        """Longest visible destination whose prefix contains (hi, lo)/plen.
        The caller has called ensure_trie(v6)."""
        cdef uint32_t cur = self.root[v6], found = 0
        cdef Node* n
        while cur:
            n = &self.nodes[cur]
            if n.plen > plen or not key_covers(n.hi, n.lo, n.plen, hi, lo):
                break
            if self.dest_visible(cur, views):
                found = cur
            if n.plen == plen:
                break
            cur = n.child[key_bit(hi, lo, n.plen)]
        return found

    cdef uint32_t trie_find_node(self, int v6, uint64_t hi, uint64_t lo, int plen) noexcept nogil:
        """Highest node whose prefix lies inside (hi, lo)/plen (the root of that
        subtree), or 0."""
        cdef uint32_t cur = self.root[v6]
        cdef Node* n
        while cur:
            n = &self.nodes[cur]
            if n.plen >= plen:
                return cur if key_covers(hi, lo, plen, n.hi, n.lo) else 0
            if not key_covers(n.hi, n.lo, n.plen, hi, lo):
                return 0
            cur = n.child[key_bit(hi, lo, n.plen)]
        return 0

    cdef uint32_t trie_next_preorder(self, uint32_t x, uint32_t stop) noexcept nogil:
        """Successor of node x in pre-order, staying within the subtree of
        ``stop`` (0 = whole trie).  Pre-order = ascending address, shorter
        prefix first for equal addresses (spec U20)."""
        cdef Node* n = &self.nodes[x]
        cdef uint32_t p
        if n.child[0]:
            return n.child[0]
        if n.child[1]:
            return n.child[1]
        while x != stop:
            p = self.nodes[x].parent
            if p == 0:
                return 0
            if self.nodes[p].child[0] == x and self.nodes[p].child[1]:
                return self.nodes[p].child[1]
            x = p
        return 0

    # -- routes -----------------------------------------------------------------
    cdef inline bint route_before(self, RouteRec* a, RouteRec* b) noexcept nogil:
        """True if a ranks strictly before b: 1. preference, 2. metric (lower wins)."""
        if a.pref != b.pref:
            return a.pref < b.pref
        return a.metric < b.metric

    cdef void route_link(self, uint32_t d, uint32_t r) noexcept nogil:
        """Insert r into d's list after every route that ranks before or ties with it."""
        cdef RouteRec* rr = &self.routes[r]
        cdef uint32_t prev = 0, cur = self.nodes[d].routes
        while cur and not self.route_before(rr, &self.routes[cur]):
            prev = cur
            cur = self.rnext(cur)
        rr.next = cur if cur else RT_END | d
        if prev:
            self.routes[prev].next = r
        else:
            self.nodes[d].routes = r

    cdef void route_unlink(self, uint32_t d, uint32_t r) noexcept nogil:
        cdef uint32_t prev = 0, cur = self.nodes[d].routes
        while cur and cur != r:
            prev = cur
            cur = self.rnext(cur)
        if cur == 0:
            return
        if prev:
            self.routes[prev].next = self.routes[r].next
        else:
            self.nodes[d].routes = self.rnext(r)
        self.routes[r].next = RT_END | d          # out of the list, still knows its dest

    cdef inline uint32_t rnext(self, uint32_t r) noexcept nogil:
        """The route after r in its destination's list; 0 after the last."""
        cdef uint32_t x = self.routes[r].next
        return 0 if x & RT_END else x

    cdef inline uint32_t rdest(self, uint32_t r) noexcept nogil:
        """The destination of route r (live, deleted or held; not a free slot).
        Records do not store it: the list's last route does, so this walks
        the rest of r's list (a destination has few routes)."""
        cdef uint32_t x = self.routes[r].next
        while x and not (x & RT_END):
            x = self.routes[x].next
        return x & ~(<uint32_t>RT_END)

    cdef inline uint32_t* route_nhs(self, uint32_t r) noexcept nogil:
        cdef RouteRec* rr = &self.routes[r]
        if rr.n_nh <= 1:
            return &rr.nh
        return &self.nhpool[<size_t>rr.nh * self.max_nh]

    cdef inline void nh_ref(self, uint32_t s) noexcept nogil:
        if s:
            self.nhs[s].refcnt += 1

    cdef void nh_unref(self, uint32_t s) noexcept nogil:
        if s == 0:
            return
        self.nhs[s].refcnt -= 1
        if self.nhs[s].refcnt == 0 and self.nhs[s].state == NH_STATE_DELETED:
            self.nh_free(s)

    cdef void nh_free(self, uint32_t s) noexcept nogil:
        cdef uint32_t e = self.nhs[s].owner
        self.nhs[s].state = NH_STATE_FREE
        self.nhs[s].gen += 1
        self.nhs[s].ifindex = self.nh_free_head
        self.nh_free_head = s
        self.ent_unref(e)

    cdef void ent_unref(self, uint32_t e) noexcept nogil:
        self.ents[e].refcnt -= 1
        if self.ents[e].refcnt == 0 and self.ents[e].state == 2:
            self.ents[e].state = 0
            self.ents[e].gen += 1
            self.ents[e].protocol_id = self.ent_free
            self.ent_free = e

    cdef int route_set_nhs(self, uint32_t r, const RouteSpec* sp) except -1 nogil:
        """Store the spec's next hops and neighbour in r, taking references
        first and then dropping the old ones (a next hop kept across the update
        never hits 0)."""
        cdef RouteRec* rr = &self.routes[r]
        cdef uint32_t old_n = rr.n_nh, old_nh = rr.nh, old_nbr = rr.neighbour, blk = 0
        cdef uint32_t old_list[MAX_NH_HARD]
        cdef uint32_t* dst
        cdef int i
        if old_n == 0 and old_nbr == 0 and sp.n_nh <= 1:
            # nothing held before (a new route): take the new references only
            if sp.n_nh:
                self.nh_ref(sp.nh[0])
                rr.nh = sp.nh[0]
            self.nh_ref(sp.neighbour)
            rr.n_nh = sp.n_nh
            rr.neighbour = sp.neighbour
            return 0
        if old_n > 1:
            memcpy(old_list, &self.nhpool[<size_t>old_nh * self.max_nh], old_n * sizeof(uint32_t))
        elif old_n == 1:
            old_list[0] = old_nh
        for i in range(sp.n_nh):
            self.nh_ref(sp.nh[i])
        self.nh_ref(sp.neighbour)
        if sp.n_nh > 1:
            if old_n > 1:
                blk = old_nh
            else:
                blk = self.pool_alloc()        # may move nhpool, not routes
            rr = &self.routes[r]
            dst = &self.nhpool[<size_t>blk * self.max_nh]
            memcpy(dst, sp.nh, sp.n_nh * sizeof(uint32_t))
            rr.nh = blk
        else:
            if old_n > 1:
                self.pool_free_block(old_nh)
            rr.nh = sp.nh[0] if sp.n_nh == 1 else 0
        rr.n_nh = sp.n_nh
        rr.neighbour = sp.neighbour
        for i in range(old_n):
            self.nh_unref(old_list[i])
        self.nh_unref(old_nbr)
        return 0

    cdef void route_free(self, uint32_t r) noexcept nogil:
        """Release everything r holds and put its slot on the free list."""
        cdef RouteRec* rr = &self.routes[r]
        cdef uint32_t d = self.rdest(r), i, n = rr.n_nh
        cdef uint32_t* lst = self.route_nhs(r)
        cdef uint32_t e = rr.owner
        cdef bint destref = (rr.iflags & RI_DESTREF) != 0
        for i in range(n):
            self.nh_unref(lst[i])
        if n > 1:
            self.pool_free_block(rr.nh)
        self.nh_unref(rr.neighbour)
        rr = &self.routes[r]
        if destref:
            self.drefs[d] -= 1
        self.rgen[r] += 1
        rr.iflags = ROUTE_STATE_DELETED << RI_STATE_SHIFT
        rr.next = self.r_free
        self.r_free = r
        self.n_route_recs -= 1
        self.ent_unref(e)
        self.dest_maybe_free(d)

    cdef uint32_t dest_reselect(self, uint32_t d, uint32_t r, bint best_changed,
                                bint fwd_changed, uint32_t touched) except 0xFFFFFFFFU nogil:
        """Recompute the best route of every view of d after route r changed.

        ``best_changed``: r's preference, metric, next hops, flags or views
        changed (or r is new); ``fwd_changed``: the same without the
        non-forwarding flags; ``touched``: views r was or is in.  Returns
        CHANGE_BEST if the best route changed in some view, or if r is best
        somewhere and best_changed (spec U17/U32), and queues the change for
        the notification registrations it concerns (spec 1.11)."""
        cdef uint32_t cur, old, nh, out = 0, vbit, best_views = 0, fwd_views = 0
        cdef Best* b
        cdef int i
        for i in range(self.nv):
            vbit = 1u << self.view_id[i]
            cur = self.nodes[d].routes
            while cur and not (self.routes[cur].views & vbit):
                cur = self.rnext(cur)
            b = &self.bestv[i][d]
            old = b.route
            nh = (self.route_nhs(cur)[0] if self.routes[cur].n_nh else 0) if cur else 0
            if b.nh != nh:
                b.nh = nh
            if i < 2:
                if cur:
                    self.nodes[d].flags |= (NF_INV0 << i)
                else:
                    self.nodes[d].flags &= ~(NF_INV0 << i)
            if cur != old:
                out = CHANGE_BEST
                best_views |= vbit
                fwd_views |= vbit
                b.route = cur
                if (cur == 0) != (old == 0) and i < 2:
                    self.view_presence(d, i, cur != 0)
            elif cur and cur == r:
                if best_changed:
                    out = CHANGE_BEST
                    best_views |= vbit
                if fwd_changed:
                    fwd_views |= vbit
        if self.regs_active:
            self.notify(d, touched, best_views, fwd_views)
        return out

    cdef inline int view_presence(self, uint32_t d, int i, bint present) except -1 nogil:
        """Destination d enters (``present``) or leaves view index i (< 2):
        the view's count of destinations and its lookup index follow."""
        cdef uint64_t* inview = &self.n_inview[(self.nodes[d].flags & NF_V6) != 0][i]
        if present:
            inview[0] += 1
        else:
            inview[0] -= 1
        if self.fwd_on[i] or self.f6_on[i]:
            self.fwd_update(d, i, present)
        return 0

    cdef uint32_t dest_first_route(self, uint32_t d, uint32_t r) except 0xFFFFFFFFU nogil:
        """dest_reselect for a new route r that is the only route of d: it is
        the best route of every view it belongs to (d had none in any view, so
        its best-route slots are clear and other views stay as they are)."""
        cdef RouteRec* rr = &self.routes[r]
        cdef uint32_t views = rr.views, nh = self.route_nhs(r)[0] if rr.n_nh else 0
        cdef uint32_t vbit, best_views = 0
        cdef Best* b
        cdef int i
        for i in range(self.nv):
            vbit = 1u << self.view_id[i]
            if not (views & vbit):
                continue
            b = &self.bestv[i][d]
            b.route = r
            b.nh = nh
            best_views |= vbit
            if i < 2:
                self.nodes[d].flags |= (NF_INV0 << i)
                self.view_presence(d, i, 1)
        if self.regs_active:
            self.notify(d, views, best_views, best_views)
        return CHANGE_BEST if best_views else 0

    cdef int notify(self, uint32_t d, uint32_t all_views, uint32_t best_views,
                    uint32_t fwd_views) except -1 nogil:
        """Queue destination d on every registration the change concerns.

        One test per live registration (O(1) each); a destination already
        pending on a registration is not queued again (changes coalesce), and
        each queued entry holds a reference on d until it is retrieved or
        ignored, so a destination that lost its last route is still reported."""
        cdef int g
        cdef uint32_t bit, hit
        cdef NotifyReg* reg
        for g in range(self.max_regs):
            bit = 1u << g
            if not (self.regs_active & bit) or (self.pmask[d] & bit):
                continue
            reg = &self.regs[g]
            if reg.v6 != ((self.nodes[d].flags & NF_V6) != 0):
                continue                        # another family's table
            hit = 0
            if reg.types & NOTIFY_ALL:
                hit |= all_views
            if reg.types & NOTIFY_BEST:
                hit |= best_views
            if reg.types & NOTIFY_FORWARDING:
                hit |= fwd_views
            if not (hit & reg.views):
                continue
            if reg.only_marked and not (self.mmask[d] & bit):
                continue
            if self.smask[d] & bit:
                self.queue_compact(g)           # its ignored entry must not stand for it
            if reg.tail == reg.cap:
                self.queue_grow(reg)
            reg.q[reg.tail] = d
            reg.tail += 1
            self.pmask[d] |= bit
            self.drefs[d] += 1
            if reg.n_pending == 0:
                self.signal_mask |= bit
            reg.n_pending += 1
        return 0

    cdef void queue_compact(self, int g) noexcept nogil:
        """Drop the entries of ignored destinations from registration g's queue."""
        cdef NotifyReg* reg = &self.regs[g]
        cdef uint32_t bit = 1u << g, d
        cdef size_t i, k = 0
        for i in range(reg.head, reg.tail):
            d = reg.q[i]
            if self.pmask[d] & bit:
                reg.q[k] = d
                k += 1
            else:
                self.smask[d] &= ~bit
        reg.head = 0
        reg.tail = k
        reg.n_stale = 0

    cdef int queue_grow(self, NotifyReg* reg) except -1 nogil:
        """Make room at the tail: drop the retrieved head, or double."""
        cdef size_t live = reg.tail - reg.head, cap
        cdef uint32_t* q
        if reg.head and live < reg.cap // 2:
            memmove(reg.q, &reg.q[reg.head], live * sizeof(uint32_t))
            reg.head = 0
            reg.tail = live
            return 0
        cap = reg.cap * 2 if reg.cap else 256
        q = <uint32_t*>rtm_realloc(reg.q, cap * sizeof(uint32_t))
        if q == NULL:
            with gil:
                raise MemoryError("change-notification queue")
        reg.q = q
        reg.cap = cap
        return 0

    cdef int route_add(self, uint32_t ent, int v6, uint64_t hi, uint64_t lo, int plen,
                       const RouteSpec* sp, uint32_t r, uint32_t cflags_in,
                       uint32_t* cflags_out, uint32_t* r_out) except -1 nogil:
        """RtmAddRouteToDest on validated input.

        ``r`` != 0: update that route (already checked: live, owned by ent).
        Otherwise find-or-create by the identity rule of ``cflags_in``.
        Returns a status; the only failure after validation is MemoryError,
        raised before anything is linked.
        """
        cdef uint32_t d, cur, out = 0
        cdef RouteRec* rr
        cdef bint created = 0, cost_changed = 0, fwd_changed = 0, best_changed = 0
        cdef uint32_t* lst
        cdef uint32_t touched = sp.views
        cdef int i
        self.route_sides_ready(sp)
        if r:
            d = self.rdest(r)
            if self.nodes[d].hi != hi or self.nodes[d].lo != lo or self.nodes[d].plen != plen \
                    or ((self.nodes[d].flags & NF_V6) != 0) != v6:
                return ERROR_INVALID_PARAMETER
        else:
            d = self.dest_get(v6, hi, lo, plen)
            if not (cflags_in & CHANGE_NEW):
                cur = self.nodes[d].routes
                while cur:
                    rr = &self.routes[cur]
                    if rr.owner == ent and ((cflags_in & CHANGE_FIRST) or
                                            rr.neighbour == sp.neighbour):
                        r = cur
                        break
                    cur = self.rnext(cur)
        if r == 0:
            r = self.route_alloc()
            if self.pool_used + 1 > self.pool_cap and sp.n_nh > 1:
                self.grow_pool(self.pool_used + 1)
            created = 1
            rr = &self.routes[r]
            rr.next = RT_END | d                 # (route_link puts it in the list)
            rr.owner = <uint16_t>ent
            set_rstate(rr, ROUTE_STATE_CREATED)
            self.ents[ent].refcnt += 1
            self.n_route_recs += 1
            self.n_routes[v6] += 1
        else:
            rr = &self.routes[r]
            touched |= rr.views
            cost_changed = rr.pref != sp.pref or rr.metric != sp.metric
            fwd_changed = cost_changed or rr.n_nh != sp.n_nh or rr.views != sp.views \
                or ((self.get_flags(r) ^ sp.flags) & ROUTE_FLAGS_FORWARDING) != 0
            if not fwd_changed:
                lst = self.route_nhs(r)
                for i in range(sp.n_nh):
                    if lst[i] != sp.nh[i]:
                        fwd_changed = 1
                        break
            best_changed = fwd_changed or self.get_flags(r) != sp.flags
        self.route_set_nhs(r, sp)
        rr = &self.routes[r]
        rr.pref = sp.pref
        rr.metric = sp.metric
        rr.views = sp.views
        if self.rflags != NULL:                 # (each made above if its field is non-zero)
            self.rflags[r] = sp.flags
        if self.rflags1 != NULL:
            self.rflags1[r] = sp.flags1
        if self.rinfo != NULL:
            self.rinfo[r] = sp.info
        if created and self.nodes[d].routes == 0:
            self.nodes[d].routes = r            # (rr.next is RT_END | d already)
            out = self.dest_first_route(d, r) | CHANGE_NEW
        else:
            if created:
                self.route_link(d, r)
            elif cost_changed:
                self.route_unlink(d, r)
                self.route_link(d, r)
            out = self.dest_reselect(d, r, best_changed or created, fwd_changed or created,
                                     touched)
            if created:
                out |= CHANGE_NEW
        node_set_changed(&self.nodes[d], self.stamp)
        cflags_out[0] = out
        r_out[0] = r
        return NO_ERROR

    cdef int route_delete(self, uint32_t r, uint32_t* cflags_out) except -1 nogil:
        """RtmDeleteRouteToDest on a validated live route (handle already consumed)."""
        cdef uint32_t d = self.rdest(r)
        cdef int v6 = (self.nodes[d].flags & NF_V6) != 0
        self.route_unlink(d, r)
        set_rstate(&self.routes[r], ROUTE_STATE_DELETED)
        self.n_routes[v6] -= 1
        if self.rl_of != NULL and self.rl_of[r]:
            self.list_remove(r)                 # a deleted route leaves its list
        if self.rexp != NULL:
            self.rexp[r] = 0                    # and its timer
        cflags_out[0] = self.dest_reselect(d, r, 0, 0, self.routes[r].views)
        node_set_changed(&self.nodes[d], self.stamp)
        if self.hold_of != NULL and self.hold_of[d]:
            self.hold_capture(d, r)
        if self.rref(r) == 0 and not (self.routes[r].iflags & RI_HELD):
            self.route_free(r)
        elif not (self.routes[r].iflags & RI_DESTREF):
            self.routes[r].iflags |= RI_DESTREF
            self.drefs[d] += 1
        return NO_ERROR

    # -- hold-down (spec 1.9) ---------------------------------------------------------------
    cdef inline bint holding(self, uint32_t d) noexcept nogil:
        """The destination has a hold-down route in some view."""
        return self.hold_of != NULL and self.hold_of[d] != 0 \
            and self.holds[self.hold_of[d]].expiry != 0

    cdef int hold_capture(self, uint32_t d, uint32_t r) except -1 nogil:
        """Route r was just deleted from held destination d: in every held view
        where it was the last route, it becomes the hold route (replacing an
        earlier one, U15), and the hold timer (re)starts."""
        cdef HoldRec* h = &self.holds[self.hold_of[d]]
        cdef int i
        cdef uint32_t vbit, old
        cdef bint captured = 0
        for i in range(min(self.nv, HOLD_VIEWS)):
            vbit = 1u << self.view_id[i]
            if not (h.views & vbit) or not (self.routes[r].views & vbit) \
                    or self.bestv[i][d].route:
                continue
            old = h.route[i]
            h.route[i] = r
            captured = 1
            if old and old != r:
                self.hold_drop(d, old)
        if captured:
            self.routes[r].iflags |= RI_HELD
            h = &self.holds[self.hold_of[d]]
            h.expiry = self.stamp + h.hold_time
            self.timer_push(h.expiry, d, TIMER_HOLD, self.ngen[d])
        return 0

    cdef void hold_drop(self, uint32_t d, uint32_t r) noexcept nogil:
        """r is no longer a hold route of d in some view: free it if it is in
        none and unreferenced."""
        cdef HoldRec* h = &self.holds[self.hold_of[d]]
        cdef int i
        for i in range(HOLD_VIEWS):
            if h.route[i] == r:
                return
        self.routes[r].iflags &= ~RI_HELD
        if self.rref(r) == 0:
            self.route_free(r)

    cdef int hold_end(self, uint32_t d) except -1 nogil:
        """The hold time of d ran out: drop its hold routes (an ALL change in
        the views whose hold route goes, U15) and free d if nothing else keeps it."""
        cdef uint32_t hi_ = self.hold_of[d], r, views = 0
        cdef int i
        self.holds[hi_].expiry = 0
        self.drefs[d] += 1                      # keep d while its hold routes go
        for i in range(HOLD_VIEWS):
            r = self.holds[hi_].route[i]
            if r:
                self.holds[hi_].route[i] = 0
                self.hold_drop(d, r)
                views |= 1u << self.view_id[i]
        node_set_changed(&self.nodes[d], self.stamp)
        if self.regs_active and views:
            self.notify(d, views, 0, 0)
        self.drefs[d] -= 1
        self.dest_maybe_free(d)
        return 0

    cdef void hold_free(self, uint32_t i) noexcept nogil:
        self.holds[i].dest = 0
        self.holds[i].hold_time = self.holds_free
        self.holds_free = i

    def hold_mark(self, uint32_t d, uint32_t views, uint32_t hold_time):
        """RtmHoldDestination on validated arguments (views clipped, > 0)."""
        cdef uint32_t i
        cdef void* p
        if self.hold_of == NULL:
            self.hold_of = <uint32_t*>rtm_calloc(self.n_cap, sizeof(uint32_t))
            if self.hold_of == NULL:
                raise MemoryError("hold-down")
        i = self.hold_of[d]
        if i == 0:
            i = self.holds_free
            if i:
                self.holds_free = self.holds[i].hold_time
            else:
                if self.n_holds + 1 >= self.holds_cap:
                    p = grow_block(self.holds, self.holds_cap,
                                   grown_cap(self.holds_cap, self.n_holds + 2, 16),
                                   sizeof(HoldRec), "hold-down records")
                    self.holds = <HoldRec*>p
                    self.holds_cap = <uint32_t>grown_cap(self.holds_cap, self.n_holds + 2, 16)
                self.n_holds += 1
                i = self.n_holds
            memset(&self.holds[i], 0, sizeof(HoldRec))
            self.holds[i].dest = d
            self.hold_of[d] = i
        self.holds[i].views |= views
        if hold_time > self.holds[i].hold_time:
            self.holds[i].hold_time = hold_time
        self.nodes[d].flags |= NF_HELD

    def hold_info(self, uint32_t d):
        """(held views, hold time, expiry or 0, hold route handles per view index)."""
        if self.hold_of == NULL or self.hold_of[d] == 0:
            return (0, 0, 0, ())
        cdef HoldRec* h = &self.holds[self.hold_of[d]]
        return (h.views, h.hold_time, h.expiry,
                tuple([self.h_route(h.route[i]) if h.route[i] else 0 for i in range(self.nv)]))

    cdef inline uint32_t hold_route(self, uint32_t d, int i) noexcept nogil:
        if self.hold_of == NULL or self.hold_of[d] == 0 or i >= HOLD_VIEWS:
            return 0
        return self.holds[self.hold_of[d]].route[i]

    cdef inline uint32_t rref(self, uint32_t r) noexcept nogil:
        """Outstanding handles of route slot r."""
        return self.rrefs[r] if self.rrefs != NULL else 0

    cdef void route_release(self, uint32_t r) noexcept nogil:
        if self.rrefs != NULL and self.rrefs[r]:
            self.rrefs[r] -= 1
        if self.rref(r) == 0 and rstate(&self.routes[r]) == ROUTE_STATE_DELETED \
                and not (self.routes[r].iflags & RI_HELD):
            self.route_free(r)

    cdef void dest_release(self, uint32_t d) noexcept nogil:
        self.drefs[d] -= 1
        self.dest_maybe_free(d)

    # -- spec validation --------------------------------------------------------
    cdef int check_nh_for(self, uint32_t ent, uint64_t h, uint32_t* slot) noexcept nogil:
        """Next hop usable in a route of ``ent``: U31."""
        cdef uint32_t s
        slot[0] = 0
        if h == 0:
            return NO_ERROR
        s = self.nh_slot(h)
        if s == 0:
            return ERROR_INVALID_HANDLE
        if self.nhs[s].owner != ent:
            return ERROR_ACCESS_DENIED
        if self.nhs[s].state != NH_STATE_CREATED:
            return ERROR_INVALID_PARAMETER
        slot[0] = s
        return NO_ERROR

    cdef inline int check_views(self, uint32_t* views) noexcept nogil:
        """U10: ALL is clipped to the supported views; other unsupported bits
        are refused; a route must be in at least one view."""
        if views[0] == 0xFFFFFFFFU:
            views[0] = self.views_mask
        if views[0] & ~self.views_mask:
            return ERROR_NOT_SUPPORTED
        if views[0] == 0:
            return ERROR_INVALID_PARAMETER
        return NO_ERROR

    # -- lookup index (DIR-24-8 for IPv4, per view) -------------------------------
    #
    # fwd24[vi] has 2**24 entries, one per /24.  An entry is 0 (no route), a
    # node (the longest destination of view vi covering the whole /24), or
    # FWD_EXT | b: the /24 is split, and block b of fwd8[vi] holds 256 entries,
    # one per address:
    #
    #     addr = | 24 bits: index into fwd24 | 8 bits: index into the block |
    #
    # It is kept in step with the table: a destination entering or leaving a
    # view (its first / last route in that view) rewrites its range.  Routes
    # changing inside a destination do not touch it (entries name nodes, and
    # the best route is read from the node at lookup time).
    cdef uint32_t fwd_block(self, int vi, uint32_t idx) noexcept nogil:
        """Split /24 ``idx`` into a block (if not yet); return the block number
        or 0xFFFFFFFFU when out of memory."""
        cdef uint32_t e = self.fwd24[vi][idx], b
        if e & FWD_EXT:
            return e & ~FWD_EXT
        b = index_block(&self.fwd8[vi], &self.fwd8_used[vi], &self.fwd8_cap[vi], e)
        if b != 0xFFFFFFFFU:
            self.fwd24[vi][idx] = FWD_EXT | b
        return b

    cdef uint32_t fwd_repl(self, uint32_t d, int vi) except? 0xFFFFFFFFU nogil:
        """The longest destination of view index vi strictly covering d (what
        the index entries of d become when d leaves the view), or 0."""
        cdef uint32_t p
        self.ensure_trie((self.nodes[d].flags & NF_V6) != 0)
        p = self.nodes[d].parent
        while p:
            if (self.nodes[p].flags & NF_DEST) and self.bestv[vi][p].route:
                break
            p = self.nodes[p].parent
        return p

    cdef int fwd_update(self, uint32_t d, int vi, bint added) except -1 nogil:
        """Destination d entered (added) or left view index vi."""
        cdef Node* n = &self.nodes[d]
        cdef int plen = n.plen
        cdef uint32_t a, repl = 0, b
        if vi >= 2:
            return 0
        if n.flags & NF_V6:
            if self.f6_on[vi]:
                self.f6_update(d, vi, added)
            return 0
        if not self.fwd_on[vi]:
            return 0
        a = <uint32_t>(n.hi >> 32)
        if not added:
            repl = self.fwd_repl(d, vi)
        if plen <= 24:
            index_set(self.nodes, self.fwd8[vi], &self.fwd24[vi][a >> 8], 1u << (24 - plen),
                      d, plen, repl, added)
        else:
            b = self.fwd_block(vi, a >> 8)
            if b == 0xFFFFFFFFU:
                self.fwd_on[vi] = 0          # out of memory: drop the index, lookups walk the trie
                return 0
            index_set(self.nodes, self.fwd8[vi], &self.fwd8[vi][<size_t>b * 256 + (a & 0xFF)],
                      1u << (32 - plen), d, plen, repl, added)
        return 0

    cdef uint32_t fwd_lpm(self, int v6, uint64_t hi, uint64_t lo, uint32_t vm) noexcept nogil:
        """Longest destination visible in view mask ``vm`` (0: any) covering
        address (hi, lo), read from the lookup indexes: 0 if none, or NO_FWD
        when they cannot tell (a view that holds destinations has no index, or
        hold-down is in use and ``vm`` is 0, where destinations with only hold
        routes count too)."""
        cdef int i
        cdef uint32_t e, a = <uint32_t>(hi >> 32), found = 0
        if vm == 0 and self.hold_of != NULL:
            return NO_FWD
        for i in range(self.nv):
            if vm and not (vm & (1u << self.view_id[i])):
                continue
            if i >= 2:
                return NO_FWD
            if self.n_inview[v6][i] == 0:
                continue
            if v6:
                if not self.f6_on[i]:
                    return NO_FWD
                e = self.f6_lpm(i, hi, lo)
            else:
                if not self.fwd_on[i]:
                    return NO_FWD
                e = fwd4_entry(self.fwd24[i], self.fwd8[i], a)
            if e and (found == 0 or self.nodes[e].plen > self.nodes[found].plen):
                found = e
        return found

    cdef int index_fill(self, int v6, int vi) except -1 nogil:
        """Enter every destination of view index vi into the family's lookup
        index, in pre-order (covering prefixes before more-specifics); stops
        if the index gives up on the way."""
        cdef uint32_t x = self.root[v6]
        while x and (self.f6_on[vi] if v6 else self.fwd_on[vi]):
            if (self.nodes[x].flags & NF_DEST) and self.bestv[vi][x].route:
                self.fwd_update(x, vi, 1)
            x = self.trie_next_preorder(x, 0)
        return 0

    cdef int fwd_build(self, int vi) except -1:
        """Allocate and fill the IPv4 index of view index vi from the trie."""
        if self.fwd_on[vi]:
            return 0
        self.fwd_drop(vi)                 # what an earlier, abandoned index left behind
        self.ensure_trie(0)
        self.fwd24[vi] = <uint32_t*>rtm_calloc(1 << 24, sizeof(uint32_t))
        self.fwd8_cap[vi] = 1024
        self.fwd8_used[vi] = 0
        self.fwd8[vi] = <uint32_t*>rtm_malloc(<size_t>1024 * 256 * sizeof(uint32_t))
        if self.fwd24[vi] == NULL or self.fwd8[vi] == NULL:
            rtm_free(self.fwd24[vi])
            rtm_free(self.fwd8[vi])
            self.fwd24[vi] = NULL
            self.fwd8[vi] = NULL
            raise MemoryError("lookup index")
        self.fwd_on[vi] = 1
        with nogil:
            self.index_fill(0, vi)
        if not self.fwd_on[vi]:
            self.fwd_drop(vi)
            raise MemoryError("lookup index")
        return 0

    cdef void fwd_drop(self, int vi) noexcept:
        rtm_free(self.fwd24[vi])
        rtm_free(self.fwd8[vi])
        self.fwd24[vi] = NULL
        self.fwd8[vi] = NULL
        self.fwd_on[vi] = 0
        self.fwd8_used[vi] = 0
        self.fwd8_cap[vi] = 0

    # -- lookup index for IPv6 (16-8-8-...-8 multibit trie, per view) -------------
    #
    # f6top[vi] has 2**16 entries, one per /16; f6blk[vi] holds blocks of 256
    # entries.  A block under an entry of depth D (16, 24, ..., 120) splits it
    # by the 8 address bits after D.  An entry is 0 (no route), a node (the
    # longest destination of the view covering the whole range of the entry)
    # or FWD_EXT | b (block b splits the range).  A destination of length p
    # sets the entries of the level whose range it fills, 2**(level - p) of
    # them, leaving longer destinations below it in place.  A /48, the most
    # common IPv6 length, is found in five reads.
    #
    # Blocks are made as destinations need them and kept until the index is
    # dropped.  Long prefixes scattered over the space need a chain of blocks
    # each (a /128 alone: 14 KiB), so the index stays within F6_BLOCKS_PER_DEST
    # blocks per IPv6 destination (plus F6_BLOCKS_SLACK); past that it gives up
    # and lookups walk the trie until the number of destinations has halved or
    # doubled.  Answers are the same either way.
    cdef inline uint32_t* f6_entry(self, int vi, uint32_t blk, uint32_t idx) noexcept nogil:
        if blk == 0xFFFFFFFFU:
            return &self.f6top[vi][idx]
        return &self.f6blk[vi][<size_t>blk * 256 + idx]

    cdef uint32_t f6_split(self, int vi, uint32_t blk, uint32_t idx) noexcept nogil:
        """The block under entry idx of block blk (0xFFFFFFFF: the top table),
        made if there is none yet; 0xFFFFFFFF when the index must give up."""
        cdef uint32_t e = self.f6_entry(vi, blk, idx)[0], b
        if e & FWD_EXT:
            return e & ~FWD_EXT
        if self.f6_used[vi] >= F6_BLOCKS_SLACK + F6_BLOCKS_PER_DEST * self.n_dests[1]:
            return 0xFFFFFFFFU
        b = index_block(&self.f6blk[vi], &self.f6_used[vi], &self.f6_cap[vi], e)
        if b != 0xFFFFFFFFU:
            self.f6_entry(vi, blk, idx)[0] = FWD_EXT | b      # (the block array may have moved)
        return b

    cdef int f6_update(self, uint32_t d, int vi, bint added) except -1 nogil:
        """IPv6 destination d entered (added) or left view index vi."""
        cdef uint64_t hi = self.nodes[d].hi, lo = self.nodes[d].lo
        cdef int plen = self.nodes[d].plen, depth = 16
        cdef uint32_t repl = 0, blk = 0xFFFFFFFFU, idx = <uint32_t>(hi >> 48)
        if not added:
            repl = self.fwd_repl(d, vi)
        if plen <= 16:
            index_set(self.nodes, self.f6blk[vi], &self.f6top[vi][idx & ~((1u << (16 - plen)) - 1)],
                      1u << (16 - plen), d, plen, repl, added)
            return 0
        while True:
            blk = self.f6_split(vi, blk, idx)
            if blk == 0xFFFFFFFFU:
                self.f6_give_up(vi)
                return 0
            idx = f6_bits(hi, lo, depth)
            if plen <= depth + 8:
                index_set(self.nodes, self.f6blk[vi],
                          &self.f6blk[vi][<size_t>blk * 256 + (idx & ~((1u << (depth + 8 - plen)) - 1))],
                          1u << (depth + 8 - plen), d, plen, repl, added)
                return 0
            depth += 8

    cdef uint32_t f6_lpm(self, int vi, uint64_t hi, uint64_t lo) noexcept nogil:
        """Longest destination of view index vi covering address (hi, lo),
        from the index (which must be on); 0 if none."""
        cdef uint32_t e = self.f6top[vi][hi >> 48]
        cdef int depth = 16
        while e & FWD_EXT:
            e = self.f6blk[vi][<size_t>(e & ~FWD_EXT) * 256 + f6_bits(hi, lo, depth)]
            depth += 8
        return e

    cdef bint f6_ready(self, int vi) except -1:
        """Build the IPv6 index of view index vi if it is not on and may be
        tried; True if it is on."""
        cdef uint64_t nd = self.n_dests[1], was = self.f6_refused[vi]
        if self.f6_on[vi]:
            return 1
        if was and nd * 2 > was and nd < was * 2:
            return 0                             # gave up at about this size
        self.f6_drop(vi)
        self.ensure_trie(1)
        self.f6top[vi] = <uint32_t*>rtm_calloc(1 << 16, 4)
        self.f6_cap[vi] = 64
        self.f6blk[vi] = <uint32_t*>rtm_malloc(<size_t>64 * 256 * 4)
        if self.f6top[vi] == NULL or self.f6blk[vi] == NULL:
            self.f6_give_up(vi)
            return 0
        self.f6_on[vi] = 1
        self.f6_refused[vi] = 0
        with nogil:
            self.index_fill(1, vi)
        return self.f6_on[vi]

    cdef void f6_give_up(self, int vi) noexcept nogil:
        """Drop the index (too large, or out of memory): lookups walk the trie
        until the number of IPv6 destinations has halved or doubled."""
        self.f6_drop(vi)
        self.f6_refused[vi] = self.n_dests[1] if self.n_dests[1] else 1

    cdef void f6_drop(self, int vi) noexcept nogil:
        rtm_free(self.f6top[vi])
        rtm_free(self.f6blk[vi])
        self.f6top[vi] = NULL
        self.f6blk[vi] = NULL
        self.f6_on[vi] = 0
        self.f6_used[vi] = 0
        self.f6_cap[vi] = 0

    cdef void f6_lpm_batch(self, int vi, const uint64_t[:] hi, const uint64_t[:] lo,
                           uint32_t[::1] out) noexcept nogil:
        """IPv6 longest match of many addresses from the index; F6_LANES lookups
        advance together, each prefetching the entry it reads next."""
        cdef Py_ssize_t n = out.shape[0], next_q = 0, q
        cdef Py_ssize_t qi[F6_LANES]
        cdef const uint32_t* at[F6_LANES]
        cdef uint64_t h[F6_LANES]
        cdef uint64_t l[F6_LANES]
        cdef int dep[F6_LANES]
        cdef int g, active = F6_LANES
        cdef uint32_t e, none = 0
        cdef const uint32_t* top = self.f6top[vi]
        cdef const uint32_t* blocks = self.f6blk[vi]
        for g in range(F6_LANES):
            qi[g] = -1                            # idle: its first turn takes an address
            at[g] = &none
        while active:
            for g in range(F6_LANES):
                q = qi[g]
                if q == -2:                       # no addresses left for this lane
                    continue
                e = at[g][0]
                if e & FWD_EXT:
                    at[g] = &blocks[<size_t>(e & ~FWD_EXT) * 256 + f6_bits(h[g], l[g], dep[g])]
                    dep[g] += 8
                    rtm_prefetch(at[g])
                    continue
                if q >= 0:
                    out[q] = e                    # found: start the next address
                if next_q < n:
                    qi[g] = next_q
                    h[g] = hi[next_q]
                    l[g] = lo[next_q]
                    at[g] = &top[h[g] >> 48]
                    dep[g] = 16
                    rtm_prefetch(at[g])
                    next_q += 1
                else:
                    qi[g] = -2
                    active -= 1

    def lookup_index_bytes(self):
        """Bytes held by the lookup indexes (reported apart from the table)."""
        cdef size_t total = 0
        cdef int vi
        for vi in range(2):
            if self.fwd_on[vi]:
                total += (<size_t>1 << 24) * 4 + <size_t>self.fwd8_cap[vi] * 256 * 4
            if self.f6_on[vi]:
                total += (<size_t>1 << 16) * 4 + <size_t>self.f6_cap[vi] * 256 * 4
        return total

    def drop_lookup_index(self):
        """Free the lookup indexes; the next batch lookup rebuilds them."""
        self.fwd_drop(0)
        self.fwd_drop(1)
        self.f6_drop(0)
        self.f6_drop(1)
        self.f6_refused[0] = self.f6_refused[1] = 0

    # -- sizes ------------------------------------------------------------------
    def table_bytes(self):
        """Bytes allocated for the table itself (nodes, hash, routes, next hops)."""
        return (<size_t>self.n_cap * (sizeof(Node) + self.nv * sizeof(Best) + sizeof(uint16_t)
                                      + sizeof(uint32_t)) + self.h_cap * 8      # (ngen, drefs)
                + <size_t>self.r_cap * (sizeof(RouteRec) + sizeof(uint16_t))    # (rgen)
                + <size_t>self.nh_cap * sizeof(NhRec)
                + <size_t>self.pool_cap * self.max_nh * 4 + <size_t>self.ent_cap * sizeof(EntRec))

    def counts(self, int v6):
        """(destinations, live routes) of one family."""
        return int(self.n_dests[v6]), int(self.n_routes[v6])

    def record_counts(self):
        """Allocated records: (nodes, routes, next hops, entities) in use."""
        cdef uint32_t i, nn = 0, nr = 0, nh = 0, ne = 0
        for i in range(1, self.n_used):
            if self.nodes[i].flags & NF_USED:
                nn += 1
        for i in range(1, self.r_used):
            if self.routes[i].iflags & RI_USED:
                nr += 1
        for i in range(1, self.nh_used):
            if self.nhs[i].state != NH_STATE_FREE:
                nh += 1
        for i in range(1, self.ent_used):
            if self.ents[i].state:
                ne += 1
        return nn, nr, nh, ne

    # -- entities (Python level: few, not on the route path) ---------------------
    def ent_register(self, int v6, uint32_t protocol_id, uint32_t instance_id):
        """Register; returns the entity handle.  AlreadyExists on a duplicate."""
        key = (v6, protocol_id, instance_id)
        if key in self.ent_keys:
            raise _errors.AlreadyExists(
                f"entity (protocol {protocol_id}, instance {instance_id}) is already registered")
        cdef uint32_t e = self.ent_free
        if e:
            self.ent_free = self.ents[e].protocol_id
        else:
            if self.ent_used > 0xFFFF:
                raise _errors.NoSystemResources("too many entities (65535)")
            if self.ent_used >= self.ent_cap:
                self.grow_ents(self.ent_used + 1)
            e = self.ent_used
            self.ent_used += 1
            self.ents[e].gen = 0
        self.ents[e].protocol_id = protocol_id
        self.ents[e].instance_id = instance_id
        self.ents[e].v6 = v6
        self.ents[e].state = 1
        self.ents[e].refcnt = 1           # the registration itself
        self.ents[e].hrefs = 0
        self.ent_keys[key] = e
        return self.h_ent(e)

    def ent_check(self, handle, bint registered=True):
        """Slot of an entity handle; InvalidHandle if stale / forged / (if
        ``registered``) deregistered."""
        cdef uint64_t h = _as_handle(handle)
        cdef uint32_t e = self.ent_slot(h)
        if e == 0 or (registered and self.ents[e].state != 1):
            raise _errors.InvalidHandle(f"invalid entity handle {h:#x}")
        return e

    def ent_identity(self, uint32_t e):
        """(protocol_id, instance_id, v6, registered)."""
        return (self.ents[e].protocol_id, self.ents[e].instance_id, self.ents[e].v6,
                self.ents[e].state == 1)

    def ent_registered(self, int v6):
        """Slots of the registered entities of a family, in registration-slot order."""
        return [e for e in range(1, self.ent_used)
                if self.ents[e].state == 1 and self.ents[e].v6 == v6]

    def ent_ref(self, uint32_t e):
        self.take_ref(KIND_ENTITY, e)
        return self.h_ent(e)

    def ent_deregister(self, uint32_t e):
        """U4: delete the entity's routes (best routes recomputed) and next
        hops, then drop the registration.  Objects others still reference stay
        readable (DELETED) until released."""
        cdef uint32_t r, s, flags
        self.handle_counts_ready()
        self.tick()
        for g in self.notify_entity_regs(e):
            self.notify_deregister(g)
        for r in range(1, self.r_used):
            if (self.routes[r].iflags & RI_USED) and self.routes[r].owner == e \
                    and rstate(&self.routes[r]) == ROUTE_STATE_CREATED:
                self.rrefs[r] += 1                # keep the slot while deleting
                self.route_delete(r, &flags)
                self.route_release(r)
        for s in range(1, self.nh_used):
            if self.nhs[s].owner == e and self.nhs[s].state == NH_STATE_CREATED:
                self.nh_delete_slot(s)
        del self.ent_keys[(self.ents[e].v6, self.ents[e].protocol_id, self.ents[e].instance_id)]
        self.ents[e].state = 2
        self.ent_unref(e)

    # -- next hops ------------------------------------------------------------------
    def nh_add(self, uint32_t e, int v6, uint64_t hi, uint64_t lo, int plen, uint32_t ifindex,
               uint32_t flags, uint64_t info, uint64_t remote, handle_obj, bint want_handle):
        """RtmAddNextHop.  Returns (handle or 0, change_flags)."""
        cdef uint64_t handle = _as_handle(handle_obj)
        cdef uint32_t s
        cdef uint32_t created = 0
        if handle:
            s = self.nh_slot(handle)
            if s == 0:
                raise _errors.InvalidHandle(f"invalid next-hop handle {handle:#x}")
            if self.nhs[s].owner != e:
                raise _errors.AccessDenied("the next hop belongs to another entity")
            if self.nhs[s].state != NH_STATE_CREATED:
                raise _errors.NotFound("the next hop was deleted")
        else:
            key = (e, v6, hi, lo, plen, ifindex)
            s = self.nh_keys.get(key, 0)
            if s == 0:
                s = self.nh_free_head
                if s:
                    self.nh_free_head = self.nhs[s].ifindex
                else:
                    if self.nh_used >= self.nh_cap:
                        self.grow_nhs(self.nh_used + 1)
                    s = self.nh_used
                    self.nh_used += 1
                    self.nhs[s].gen = 0
                self.nhs[s].hi = hi
                self.nhs[s].lo = lo
                self.nhs[s].plen = plen
                self.nhs[s].v6 = v6
                self.nhs[s].ifindex = ifindex
                self.nhs[s].owner = <uint16_t>e
                self.nhs[s].state = NH_STATE_CREATED
                self.nhs[s].refcnt = 1          # the owner's table holds it until deleted
                self.nhs[s].hrefs = 0
                self.ents[e].refcnt += 1
                self.nh_keys[key] = s
                created = 1
        self.nhs[s].flags = <uint16_t>flags
        self.nhs[s].info = info
        self.nhs[s].remote = remote
        if handle:
            return handle, 0
        if want_handle:
            self.take_ref(KIND_NEXTHOP, s)
            return self.h_nh(s), created
        return 0, created

    def nh_check(self, handle, bint live=False):
        cdef uint64_t h = _as_handle(handle)
        cdef uint32_t s = self.nh_slot(h)
        if s == 0:
            raise _errors.InvalidHandle(f"invalid next-hop handle {h:#x}")
        if live and self.nhs[s].state != NH_STATE_CREATED:
            raise _errors.NotFound("the next hop was deleted")
        return s

    def nh_find(self, uint32_t e, int v6, uint64_t hi, uint64_t lo, int plen, uint32_t ifindex):
        """Slot of the caller's live next hop with that key, or 0."""
        return self.nh_keys.get((e, v6, hi, lo, plen, ifindex), 0)

    def nh_slot_handle(self, uint32_t s):
        return self.h_nh(s)

    def nh_owner(self, uint32_t s):
        return self.nhs[s].owner

    cdef void nh_delete_slot(self, uint32_t s):
        del self.nh_keys[(self.nhs[s].owner, self.nhs[s].v6, self.nhs[s].hi, self.nhs[s].lo,
                          self.nhs[s].plen, self.nhs[s].ifindex)]
        self.nhs[s].state = NH_STATE_DELETED
        self.nh_unref(s)                       # the owner's table reference

    def nh_delete(self, uint32_t s):
        """U37: the next hop leaves its owner's table; routes keep using it."""
        if self.nhs[s].state != NH_STATE_CREATED:
            raise _errors.NotFound("the next hop was already deleted")
        self.nh_delete_slot(s)

    def nh_info(self, uint32_t s, bint take_refs):
        """(v6, hi, lo, plen, owner_handle, ifindex, state, flags, info, remote)."""
        cdef NhRec* n = &self.nhs[s]
        if take_refs:
            self.take_ref(KIND_ENTITY, n.owner)
        return (n.v6, n.hi, n.lo, n.plen, self.h_ent(n.owner), n.ifindex, n.state, n.flags,
                n.info, n.remote)

    def nh_set(self, uint32_t s, uint32_t flags, uint64_t info, uint64_t remote):
        """In-place edit of the owner-writable fields (LockNextHop)."""
        self.nhs[s].flags = <uint16_t>flags
        self.nhs[s].info = info
        self.nhs[s].remote = remote

    def nh_slots(self, uint32_t e):
        """The caller's live next hops ordered by (address, length, interface)."""
        out = [s for s in range(1, self.nh_used)
               if self.nhs[s].owner == e and self.nhs[s].state == NH_STATE_CREATED]
        out.sort(key=lambda s: (self.nhs[s].hi, self.nhs[s].lo, self.nhs[s].plen,
                                self.nhs[s].ifindex))
        return out

    # -- routes: Python-level accessors ---------------------------------------------
    def route_check(self, handle):
        """Slot of an allocated route (live or deleted-but-referenced)."""
        cdef uint64_t h = _as_handle(handle)
        cdef uint32_t r = self.route_slot(h)
        if r == 0:
            raise _errors.InvalidHandle(f"invalid route handle {h:#x}")
        return r

    def route_slot_or_zero(self, handle):
        """Slot of a valid route handle, 0 otherwise (no exception)."""
        return self.route_slot(_as_handle(handle))

    def route_is_held(self, uint32_t r):
        """The route is a hold-down route of its destination."""
        return (self.routes[r].iflags & RI_HELD) != 0

    def route_handle(self, uint32_t r):
        return self.h_route(r)

    def route_state(self, uint32_t r):
        return rstate(&self.routes[r])

    def route_owner(self, uint32_t r):
        return self.routes[r].owner

    cdef int route_info_refs(self, uint32_t r, uint32_t d) except -1 nogil:
        """The references a route info holds: on the destination d, the owner,
        the neighbour and every next hop."""
        cdef RouteRec* rr
        cdef uint32_t* lst
        cdef int i
        self.handle_counts_ready()
        rr = &self.routes[r]
        lst = self.route_nhs(r)
        self.take_ref(KIND_DEST, d)
        self.take_ref(KIND_ENTITY, rr.owner)
        if rr.neighbour:
            self.take_ref(KIND_NEXTHOP, rr.neighbour)
        for i in range(rr.n_nh):
            self.take_ref(KIND_NEXTHOP, lst[i])
        return 0

    def route_info(self, uint32_t r, bint take_refs):
        """(dest_h, owner_h, neighbour_h, state, flags1, flags, metric, pref,
        views, info, next_hop handles).  With ``take_refs`` every handle in it
        gains a reference (RtmGetRouteInfo; RtmReleaseRouteInfo drops them)."""
        cdef RouteRec* rr = &self.routes[r]
        cdef uint32_t* lst = self.route_nhs(r)
        cdef uint32_t d = self.rdest(r)
        cdef int i
        nhs = tuple([self.h_nh(lst[i]) for i in range(rr.n_nh)])
        if take_refs:
            self.route_info_refs(r, d)
        return (self.h_dest(d), self.h_ent(rr.owner), self.h_nh(rr.neighbour), rstate(rr),
                self.get_flags1(r), self.get_flags(r), rr.metric, rr.pref, rr.views, self.get_info(r), nhs)

    def route_info_object(self, uint32_t r, bint take_refs):
        """The same as a RouteInfo (what the facade hands out)."""
        return self.route_info_obj(r, take_refs)

    cdef RouteInfo route_info_obj(self, uint32_t r, bint take_refs):
        """The RouteInfo of route r (see route_info), built at C level."""
        cdef RouteRec* rr = &self.routes[r]
        cdef uint32_t* lst = self.route_nhs(r)
        cdef uint32_t d = self.rdest(r)
        cdef int i
        cdef RouteInfo ri = RouteInfo.__new__(RouteInfo)
        ri.next_hops = tuple([self.h_nh(lst[i]) for i in range(rr.n_nh)])
        if take_refs:
            self.route_info_refs(r, d)
        ri.dest_handle = self.h_dest(d)
        ri.route_owner = self.h_ent(rr.owner)
        ri.neighbour = self.h_nh(rr.neighbour)
        ri.state = rstate(rr)
        ri.flags1 = self.get_flags1(r)
        ri.flags = self.get_flags(r)
        ri.metric = rr.metric
        ri.preference = rr.pref
        ri.belongs_to_views = rr.views
        ri.entity_specific_info = self.get_info(r)
        ri._refs_held = take_refs
        return ri

    def route_dest(self, uint32_t r):
        return self.rdest(r)

    def route_best_views(self, uint32_t r):
        """RtmIsBestRoute: views in which r is the best route."""
        cdef uint32_t d = self.rdest(r), m = 0
        cdef int i
        if rstate(&self.routes[r]) != ROUTE_STATE_CREATED:
            return 0
        for i in range(self.nv):
            if self.bestv[i][d].route == r:
                m |= 1u << self.view_id[i]
        return m

    def dest_check(self, handle):
        cdef uint64_t h = _as_handle(handle)
        cdef uint32_t d = self.dest_slot(h)
        if d == 0:
            raise _errors.InvalidHandle(f"invalid destination handle {h:#x}")
        return d

    def dest_handle(self, uint32_t d):
        return self.h_dest(d)

    def dest_find(self, int v6, uint64_t hi, uint64_t lo, int plen, uint32_t views):
        """Exact match: the visible destination of that prefix, or 0."""
        cdef uint32_t d = self.hash_find(v6, hi, lo, plen)
        if d and self.dest_visible(d, views):
            return d
        return 0

    def dest_lpm(self, int v6, uint64_t hi, uint64_t lo, int plen, uint32_t views):
        return self.dest_lpm_c(v6, hi, lo, plen, views)

    cdef uint32_t dest_lpm_c(self, int v6, uint64_t hi, uint64_t lo, int plen,
                             uint32_t views) except? 0xFFFFFFFFU:
        """Longest visible destination containing (hi, lo)/plen, or 0.  A
        full-length address is looked up in the lookup indexes when they can
        answer."""
        cdef uint32_t d
        if plen == (128 if v6 else 32):
            d = self.fwd_lpm(v6, hi, lo, views)
            if d != NO_FWD:
                return d
        self.ensure_trie(v6)
        return self.trie_lpm(v6, hi, lo, plen, views)

    def dest_less_specific(self, uint32_t d, uint32_t views):
        """Next shorter visible destination covering d, or 0 (U34)."""
        self.ensure_trie((self.nodes[d].flags & NF_V6) != 0)
        cdef uint32_t p = self.nodes[d].parent
        while p:
            if self.dest_visible(p, views):
                return p
            p = self.nodes[p].parent
        return 0

    def dest_key(self, uint32_t d):
        """(family, hi, lo, plen)."""
        cdef Node* n = &self.nodes[d]
        return (6 if n.flags & NF_V6 else 4, n.hi, n.lo, n.plen)

    def dest_address(self, uint32_t d):
        cdef Node* n = &self.nodes[d]
        return NetAddress.make(n.hi, n.lo, n.plen, 6 if n.flags & NF_V6 else 4)

    def dest_routes(self, uint32_t d):
        """Route slots of d in selection order."""
        out = []
        cdef uint32_t r = self.nodes[d].routes
        while r:
            out.append(r)
            r = self.rnext(r)
        return out

    def dest_route_handles(self, uint32_t d, uint32_t views, uint32_t owner):
        """Handles of d's routes in selection order that belong to one of
        ``views`` and, if ``owner`` != 0, are that entity slot's."""
        out = []
        cdef uint32_t r = self.nodes[d].routes
        while r:
            if (self.routes[r].views & views) and (owner == 0 or self.routes[r].owner == owner):
                out.append(self.h_route(r))
            r = self.rnext(r)
        return out

    def dest_info(self, uint32_t d, uint32_t views, uint32_t proto_mode, uint32_t proto,
                  bint take_refs):
        """The facade's DestInfo of destination d (see dest_info_c)."""
        return self.dest_info_c(d, views, proto_mode, proto, take_refs)

    cdef object dest_info_c(self, uint32_t d, uint32_t views, uint32_t proto_mode, uint32_t proto,
                            bint take_refs):
        """The facade's DestInfo of destination d, built without its Python
        __init__ (the dataclass only stores its fields).

        view_info: one DestViewInfo (view_id, num_routes, route_h, owner_h,
        dest_flags, hold_route_h) per supported view in ``views``, ascending view id.
        ``proto_mode``: 0 = best route; 1 = best route of protocol ``proto``.
        With ``take_refs`` each returned handle gains a reference."""
        cdef Node* n = &self.nodes[d]
        cdef uint32_t r, best, vbit, cnt, held
        cdef int i
        cdef list vis = []
        cdef object o
        if take_refs:
            self.handle_counts_ready()
            n = &self.nodes[d]
        if views == 0xFFFFFFFFU:
            views = self.views_mask
        for i in range(self.nv):
            vbit = 1u << self.view_id[i]
            if not (views & vbit):
                continue
            cnt = 0
            best = 0
            r = self.nodes[d].routes
            while r:
                if self.routes[r].views & vbit:
                    cnt += 1
                    if best == 0 and (proto_mode == 0 or
                                      self.ents[self.routes[r].owner].protocol_id == proto):
                        best = r
                r = self.rnext(r)
            if take_refs and best:
                self.take_ref(KIND_ROUTE, best)
                self.take_ref(KIND_ENTITY, self.routes[best].owner)
            held = self.hold_route(d, i)
            if take_refs and held:
                self.take_ref(KIND_ROUTE, held)
            vis.append(rtm_view_info(_DestViewInfo, self.view_id[i], cnt, self.h_route(best),
                                     self.h_ent(self.routes[best].owner) if best else 0,
                                     self.get_flags(best) if best else 0,
                                     self.h_route(held) if held else 0))
        if take_refs:
            self.take_ref(KIND_DEST, d)
        n = &self.nodes[d]
        o = rtm_new_instance(_DestInfo)
        o.dest_handle = self.h_dest(d)
        o.dest_address = NetAddress.make(n.hi, n.lo, n.plen, 6 if n.flags & NF_V6 else 4)
        o.last_changed = node_changed(n)
        o.belongs_to_views = self.dest_views(d)
        o.view_info = vis
        o._refs_held = take_refs
        o._notify = 0
        return o

    # -- references held by callers (spec 1.16) ---------------------------------
    cdef int handle_counts_ready(self) except -1 nogil:
        """Make the counts of caller-held destination and route handles
        (``dhrefs`` per node, ``rrefs`` per route slot), before the first
        take_ref of either kind: a table that never hands out a handle (a
        bulk load) carries neither.  MemoryError leaves nothing changed."""
        cdef uint32_t* d = self.dhrefs
        cdef uint32_t* r = self.rrefs
        if d == NULL:
            d = <uint32_t*>rtm_calloc(self.n_cap, sizeof(uint32_t))
        if r == NULL and d != NULL:
            r = <uint32_t*>rtm_calloc(self.r_cap, sizeof(uint32_t))
        if d == NULL or r == NULL:
            if d != NULL and self.dhrefs == NULL:
                rtm_free(d)
            with gil:
                raise MemoryError("handle counts")
        self.dhrefs = d
        self.rrefs = r
        return 0

    cdef void take_ref(self, int kind, uint32_t x) noexcept nogil:
        """One more caller-held reference on object x."""
        if kind == KIND_ROUTE:                  # (the caller made rrefs: handle_counts_ready)
            self.rrefs[x] += 1
        elif kind == KIND_DEST:                 # (the caller made dhrefs: handle_counts_ready)
            self.drefs[x] += 1
            self.dhrefs[x] += 1
        elif kind == KIND_NEXTHOP:
            self.nhs[x].refcnt += 1
            self.nhs[x].hrefs += 1
        elif kind == KIND_ENTITY:
            self.ents[x].refcnt += 1
            self.ents[x].hrefs += 1

    cdef uint32_t held_slot(self, uint64_t h) noexcept nogil:
        """Slot named by a handle on which the caller holds a reference; 0 if
        the handle is invalid or holds none (an over-release)."""
        cdef uint64_t kind = h >> 60
        cdef uint32_t x
        if kind == KIND_ROUTE:
            x = self.route_slot(h)
            return x if x and self.rref(x) else 0
        if kind == KIND_DEST:
            x = self.dest_slot(h)
            return x if x and self.dhrefs != NULL and self.dhrefs[x] else 0
        if kind == KIND_NEXTHOP:
            x = self.nh_slot(h)
            return x if x and self.nhs[x].hrefs else 0
        if kind == KIND_ENTITY:
            x = self.ent_slot(h)
            return x if x and self.ents[x].hrefs else 0
        return 0

    cdef uint32_t held_refs(self, uint64_t h) noexcept nogil:
        """Caller-held references on the object a handle names (0 if invalid)."""
        cdef uint64_t kind = h >> 60
        cdef uint32_t x = self.any_slot(h)
        if x == 0:
            return 0
        if kind == KIND_ROUTE:
            return self.rref(x)
        if kind == KIND_DEST:
            return self.dhrefs[x] if self.dhrefs != NULL else 0
        if kind == KIND_NEXTHOP:
            return self.nhs[x].hrefs
        return self.ents[x].hrefs

    cdef void drop_ref(self, int kind, uint32_t x) noexcept nogil:
        if kind == KIND_ROUTE:
            self.route_release(x)
        elif kind == KIND_DEST:
            self.dhrefs[x] -= 1                 # (held_slot found it held)
            self.dest_release(x)
        elif kind == KIND_NEXTHOP:
            self.nhs[x].hrefs -= 1
            self.nh_unref(x)
        elif kind == KIND_ENTITY:
            self.ents[x].hrefs -= 1
            self.ent_unref(x)

    def check_handles(self, handles, int kind=0, bint held=True):
        """Validate handles (of ``kind`` if non-zero); with ``held``, each must
        carry a caller reference.  Raises InvalidHandle naming the first bad
        one; nothing is changed."""
        for obj in handles:
            self.checked_handle(obj, kind, held)

    cdef uint64_t checked_handle(self, obj, int kind, bint held) except 0:
        """One handle of check_handles, as uint64; InvalidHandle if bad."""
        cdef uint64_t h = _as_handle(obj)
        if h == 0 or (kind and (h >> 60) != <uint64_t>kind):
            raise _errors.InvalidHandle(f"invalid handle {h:#x}")
        if held:
            if self.held_slot(h) == 0:
                raise _errors.InvalidHandle(
                    f"handle {h:#x} is stale or holds no reference to release")
        elif self.any_slot(h) == 0:
            raise _errors.InvalidHandle(f"invalid handle {h:#x}")
        return h

    cdef uint32_t any_slot(self, uint64_t h) noexcept nogil:
        cdef uint64_t kind = h >> 60
        if kind == KIND_ROUTE:
            return self.route_slot(h)
        if kind == KIND_DEST:
            return self.dest_slot(h)
        if kind == KIND_NEXTHOP:
            return self.nh_slot(h)
        if kind == KIND_ENTITY:
            return self.ent_slot(h)
        return 0

    def release_handles(self, handles, int kind=0):
        """Release one reference per handle (RtmRelease*).  All are validated
        first; duplicates must each hold a reference."""
        self.release_handles_c(handles, kind)

    cdef int release_handles_c(self, handles, int kind) except -1:
        cdef uint64_t h
        cdef uint32_t x
        cdef uint64_t buf[16]
        cdef Py_ssize_t n, i, j, c
        cdef bint first
        if type(handles) is list and len(<list>handles) <= 16:
            # the usual short list (a route info's handles): no Python objects
            n = len(<list>handles)
            for i in range(n):
                buf[i] = self.checked_handle((<list>handles)[i], kind, 1)
            for i in range(n):                    # a handle listed twice needs two references
                c = 0
                first = 1
                for j in range(n):
                    if buf[j] == buf[i]:
                        c += 1
                        if j < i:
                            first = 0
                if c > 1 and first and self.held_refs(buf[i]) < <uint32_t>c:
                    raise _errors.InvalidHandle(
                        f"handle {buf[i]:#x} released more often than referenced")
            for i in range(n):
                self.drop_ref(<int>(buf[i] >> 60), self.held_slot(buf[i]))
            return 0
        hs = [_as_handle(o) for o in handles]
        self.check_handles(hs, kind, True)
        # a handle listed twice needs two references
        counts = {}
        for h in hs:
            counts[h] = counts.get(h, 0) + 1
        for h, c in counts.items():
            if c > 1 and self.held_refs(h) < <uint32_t>c:
                raise _errors.InvalidHandle(f"handle {h:#x} released more often than referenced")
        for h in hs:
            x = self.held_slot(h)
            self.drop_ref(<int>(h >> 60), x)
        return 0

    def reference_handles(self, handles):
        """RtmReferenceHandles: one more reference on each (validated first)."""
        cdef uint64_t h
        hs = [_as_handle(o) for o in handles]
        self.check_handles(hs, 0, False)
        self.handle_counts_ready()
        for h in hs:
            self.take_ref(<int>(h >> 60), self.any_slot(h))

    def ref_count(self, h):
        """Caller-held references on the object a handle names (0 if invalid)."""
        return self.held_refs(_as_handle(h))

    def subtree(self, int v6, uint64_t hi, uint64_t lo, int plen, uint32_t views,
                bint include_self=True):
        """Visible destinations inside (hi, lo)/plen in pre-order (U20)."""
        self.ensure_trie(v6)
        cdef uint32_t top = self.trie_find_node(v6, hi, lo, plen), x
        out = []
        x = top
        while x:
            if self.dest_visible(x, views) and (include_self or self.nodes[x].plen != plen):
                out.append(x)
            x = self.trie_next_preorder(x, top)
        return out

    def covering(self, int v6, uint64_t hi, uint64_t lo, int plen, uint32_t views):
        """Visible destinations containing (hi, lo)/plen, shortest first."""
        self.ensure_trie(v6)
        cdef uint32_t cur = self.root[v6]
        cdef Node* n
        out = []
        while cur:
            n = &self.nodes[cur]
            if n.plen > plen or not key_covers(n.hi, n.lo, n.plen, hi, lo):
                break
            if self.dest_visible(cur, views):
                out.append(cur)
            if n.plen == plen:
                break
            cur = n.child[key_bit(hi, lo, n.plen)]
        return out

    def check_invariants(self):
        """Verify the structure (tests and debug builds); raises AssertionError."""
        cdef uint32_t x, r, prev, cnt
        cdef int v6, b, i
        cdef uint64_t nd[2]
        nd[0] = 0
        nd[1] = 0
        self.ensure_trie(0)
        self.ensure_trie(1)
        for v6 in range(2):
            if self.root[v6]:
                assert self.nodes[self.root[v6]].parent == 0, "root has a parent"
            x = self.root[v6]
            while x:                            # each trie holds only its own family
                assert ((self.nodes[x].flags & NF_V6) != 0) == v6, f"node {x}: other family"
                x = self.trie_next_preorder(x, 0)
        for x in range(1, self.n_used):
            if not (self.nodes[x].flags & NF_USED):
                continue
            v6 = (self.nodes[x].flags & NF_V6) != 0
            for b in range(2):
                c = self.nodes[x].child[b]
                if c:
                    assert self.nodes[c].parent == x, f"node {c}: parent link"
                    assert self.nodes[c].plen > self.nodes[x].plen, f"node {c}: child not longer"
                    assert key_covers(self.nodes[x].hi, self.nodes[x].lo, self.nodes[x].plen,
                                      self.nodes[c].hi, self.nodes[c].lo), f"node {c}: not inside"
                    assert key_bit(self.nodes[c].hi, self.nodes[c].lo, self.nodes[x].plen) == b, \
                        f"node {c}: wrong side"
            assert self.nodes[x].flags & NF_LINKED, f"node {x}: not linked after a flush"
            if self.nodes[x].flags & NF_DEST:
                nd[v6] += 1
                for i in range(min(self.nv, 2)):
                    assert bool(self.nodes[x].flags & (NF_INV0 << i)) == \
                        bool(self.bestv[i][x].route), f"dest {x}: view flag"
                assert self.hash_find(v6, self.nodes[x].hi, self.nodes[x].lo,
                                      self.nodes[x].plen) == x, f"node {x}: not in hash"
                assert self.nodes[x].routes or self.drefs[x] or self.holding(x), \
                    f"dest {x}: empty and unreferenced"
                prev = 0
                r = self.nodes[x].routes
                while r:
                    assert self.rdest(r) == x and rstate(&self.routes[r]) == 0
                    assert self.rnext(r) or self.routes[r].next == RT_END | x, \
                        f"dest {x}: list end"
                    if prev:
                        assert not self.route_before(&self.routes[r], &self.routes[prev]), \
                            f"dest {x}: routes out of order"
                    prev = r
                    r = self.rnext(r)
                for i in range(self.nv):
                    r = self.nodes[x].routes
                    while r and not (self.routes[r].views & (1u << self.view_id[i])):
                        r = self.rnext(r)
                    assert self.bestv[i][x].route == r, f"dest {x}: stale best"
                    assert self.bestv[i][x].nh == (self.route_nhs(r)[0] if r and self.routes[r].n_nh else 0), f"dest {x}: stale fib next hop"
            else:
                assert self.nodes[x].child[0] and self.nodes[x].child[1], \
                    f"glue node {x} with < 2 children"
                assert self.nodes[x].routes == 0
        assert nd[0] == self.n_dests[0] and nd[1] == self.n_dests[1], "dest counts"
        for v in range(2):
            for i in range(min(self.nv, 2)):
                assert self.n_inview[v][i] == sum(
                    1 for x in range(1, self.n_used)
                    if (self.nodes[x].flags & NF_DEST) and ((self.nodes[x].flags & NF_V6) != 0) == v
                    and self.bestv[i][x].route), "destinations per view"
        assert self.h_count == nd[0] + nd[1], "hash count"

    # -- route lists (spec 1.13) ----------------------------------------------------------
    def list_create(self, uint32_t ent):
        """RtmCreateRouteList: a new empty list of ``ent``; returns its handle."""
        cdef uint32_t i
        cdef void* p
        if self.rl_of == NULL:
            self.rl_of = <uint32_t*>rtm_calloc(self.r_cap, sizeof(uint32_t))
            self.rl_prev = <uint32_t*>rtm_calloc(self.r_cap, sizeof(uint32_t))
            self.rl_next = <uint32_t*>rtm_calloc(self.r_cap, sizeof(uint32_t))
            if self.rl_of == NULL or self.rl_prev == NULL or self.rl_next == NULL:
                rtm_free(self.rl_of)
                rtm_free(self.rl_prev)
                rtm_free(self.rl_next)
                self.rl_of = self.rl_prev = self.rl_next = NULL
                raise MemoryError("route lists")
        i = self.lists_free
        if i:
            self.lists_free = self.lists[i].head
        else:
            if self.n_lists + 1 >= self.lists_cap:
                p = grow_block(self.lists, self.lists_cap,
                               grown_cap(self.lists_cap, self.n_lists + 2, 16), sizeof(RouteList),
                               "route lists")
                self.lists = <RouteList*>p
                self.lists_cap = <uint32_t>grown_cap(self.lists_cap, self.n_lists + 2, 16)
            self.n_lists += 1
            i = self.n_lists
            self.lists[i].gen = 0
        self.lists[i].head = self.lists[i].tail = self.lists[i].count = 0
        self.lists[i].owner = <uint16_t>ent
        self.lists[i].used = 1
        return mkhandle(KIND_LIST, self.tag, self.lists[i].gen, i)

    def list_check(self, handle, uint32_t ent):
        """List index of a list handle of entity ``ent``."""
        cdef uint64_t h = _as_handle(handle)
        cdef uint32_t i = <uint32_t>(h & 0xFFFFFFFFU)
        if not self.h_ok(h, KIND_LIST) or i == 0 or i > self.n_lists or not self.lists[i].used \
                or self.lists[i].gen != ((h >> 32) & 0xFFFF) or self.lists[i].owner != ent:
            raise _errors.InvalidHandle(f"invalid route-list handle {h:#x}")
        return i

    cdef void list_remove(self, uint32_t r) noexcept nogil:
        cdef uint32_t i = self.rl_of[r], p = self.rl_prev[r], n = self.rl_next[r]
        if i == 0:
            return
        if p:
            self.rl_next[p] = n
        else:
            self.lists[i].head = n
        if n:
            self.rl_prev[n] = p
        else:
            self.lists[i].tail = p
        self.lists[i].count -= 1
        self.rl_of[r] = 0
        self.rl_prev[r] = 0
        self.rl_next[r] = 0

    cdef void list_append(self, uint32_t i, uint32_t r) noexcept nogil:
        """Move r to the end of list i (out of any other list; i = 0: out only)."""
        if self.rl_of == NULL:            # no list was ever created: r is in none
            return
        if self.rl_of[r]:
            self.list_remove(r)
        if i == 0:
            return
        self.rl_of[r] = i
        self.rl_prev[r] = self.lists[i].tail
        self.rl_next[r] = 0
        if self.lists[i].tail:
            self.rl_next[self.lists[i].tail] = r
        else:
            self.lists[i].head = r
        self.lists[i].tail = r
        self.lists[i].count += 1

    def list_insert(self, uint32_t i, const uint32_t[::1] routes):
        """RtmInsertInRouteList on validated live routes (i = 0: remove)."""
        cdef Py_ssize_t k
        for k in range(routes.shape[0]):
            self.list_append(i, routes[k])

    def list_snapshot(self, uint32_t i):
        """Handles of the routes in list i, in list order (uint64 array)."""
        cdef cnp.ndarray[cnp.uint64_t, ndim=1] out = np.empty(self.lists[i].count, np.uint64)
        cdef uint32_t r = self.lists[i].head
        cdef Py_ssize_t k = 0
        while r and k < out.shape[0]:
            out[k] = self.h_route(r)
            k += 1
            r = self.rl_next[r]
        return out[:k]

    def list_member(self, uint32_t r):
        """List index the route is in (0 = none)."""
        return self.rl_of[r] if self.rl_of != NULL else 0

    def list_delete(self, uint32_t i):
        """RtmDeleteRouteList: empty the list (routes stay) and free it."""
        while self.lists[i].head:
            self.list_remove(self.lists[i].head)
        self.lists[i].used = 0
        self.lists[i].gen += 1
        self.lists[i].head = self.lists_free
        self.lists_free = i

    def list_entity_lists(self, uint32_t ent):
        return [i for i in range(1, self.n_lists + 1)
                if self.lists[i].used and self.lists[i].owner == ent]

    # -- route aging (spec 1.10) -------------------------------------------------------------
    cdef int heap_push(self, uint64_t t, uint32_t r) except -1 nogil:
        return self.timer_push(t, r, TIMER_ROUTE, self.rgen[r])

    cdef int timer_push(self, uint64_t t, uint32_t r, uint16_t kind, uint16_t gen) except -1 nogil:
        cdef size_t i, p
        cdef TimerEnt e
        cdef void* q
        if self.heap_n == self.heap_cap:
            q = rtm_realloc(self.heap, grown_cap(self.heap_cap, self.heap_n + 1, 1024) * sizeof(TimerEnt))
            if q == NULL:
                with gil:
                    raise MemoryError("route timers")
            self.heap = <TimerEnt*>q
            self.heap_cap = grown_cap(self.heap_cap, self.heap_n + 1, 1024)
        e.t = t
        e.r = r
        e.gen = gen
        e.kind = kind
        i = self.heap_n
        self.heap_n += 1
        while i:
            p = (i - 1) // 2
            if not timer_before(&e, &self.heap[p]):
                break
            self.heap[i] = self.heap[p]
            i = p
        self.heap[i] = e
        return 0

    cdef void heap_pop(self) noexcept nogil:
        cdef TimerEnt last = self.heap[self.heap_n - 1]
        cdef size_t i = 0, c
        self.heap_n -= 1
        while True:
            c = 2 * i + 1
            if c >= self.heap_n:
                break
            if c + 1 < self.heap_n and timer_before(&self.heap[c + 1], &self.heap[c]):
                c += 1
            if not timer_before(&self.heap[c], &last):
                break
            self.heap[i] = self.heap[c]
            i = c
        if self.heap_n:
            self.heap[i] = last

    cdef inline bint timer_live(self, TimerEnt* e) noexcept nogil:
        """A heap entry still stands for its route's (or hold's) current expiry."""
        if e.kind == TIMER_HOLD:
            return self.ngen[e.r] == e.gen and (self.nodes[e.r].flags & NF_DEST) \
                and self.hold_of != NULL and self.hold_of[e.r] \
                and self.holds[self.hold_of[e.r]].expiry == e.t
        return (self.routes[e.r].iflags & RI_USED) and self.rgen[e.r] == e.gen \
            and rstate(&self.routes[e.r]) == ROUTE_STATE_CREATED and self.rexp[e.r] == e.t + 1

    def arm(self, uint32_t r, uint64_t ttl_ms):
        """(Re)arm route r's time to live; 0xFFFFFFFF = never.  O(log n); a
        re-armed route leaves its old entry in the heap, skipped when due."""
        cdef uint64_t t
        if self.rexp == NULL:
            if ttl_ms == 0xFFFFFFFFU:
                return
            self.rexp = <uint64_t*>rtm_calloc(self.r_cap, sizeof(uint64_t))
            if self.rexp == NULL:
                raise MemoryError("route timers")
        if ttl_ms == 0xFFFFFFFFU:
            self.rexp[r] = 0
            return
        t = self.now() + ttl_ms
        self.rexp[r] = t + 1
        self.heap_push(t, r)

    def next_expiry(self):
        """Time of the earliest live timer (ms), or None; drops stale entries."""
        if self.rexp == NULL and self.hold_of == NULL:
            return None
        while self.heap_n and not self.timer_live(&self.heap[0]):
            self.heap_pop()
        return self.heap[0].t if self.heap_n else None

    def expire_step(self, uint64_t now, const uint8_t[::1] has_callback):
        """Process due timers in time order until one needs Python.

        Hold-downs end here; a due route whose owner (entity slot ``e``) has
        ``has_callback[e] == 0`` is deleted here (U16), as
        ``delete_route_to_dest`` would.  Returns ``(deleted, item)``: how many
        routes it deleted, and ``(time, slot)`` of the first due route whose
        owner has a callback (its timer disarmed), or ``None`` when nothing is
        due any more."""
        cdef TimerEnt e
        cdef uint32_t out = 0, owner
        cdef size_t deleted = 0
        cdef Py_ssize_t ncb = has_callback.shape[0]
        with nogil:
            while self.heap_n:
                if not self.timer_live(&self.heap[0]):
                    self.heap_pop()
                    continue
                if self.heap[0].t > now:
                    break
                e = self.heap[0]
                self.heap_pop()
                if e.kind == TIMER_HOLD:
                    self.stamp = e.t
                    self.hold_end(e.r)
                    continue
                self.rexp[e.r] = 0
                owner = self.routes[e.r].owner
                if owner < ncb and has_callback[owner]:
                    with gil:
                        return deleted, (e.t, e.r)
                self.tick()
                self.route_delete(e.r, &out)
                deleted += 1
        return deleted, None

    def expiry_of(self, uint32_t r):
        """Route r's expiry time (ms), or None if it never expires."""
        if self.rexp == NULL or self.rexp[r] == 0:
            return None
        return self.rexp[r] - 1

    def clock_now(self):
        return self.now()

    # -- enumerations (spec 1.12, 2.8) ---------------------------------------------------
    cdef uint32_t trie_seek(self, int v6, uint64_t hi, uint64_t lo, int plen) noexcept nogil:
        """First node (destination or glue) at or after the prefix (hi, lo)/plen
        in trie pre-order (address, then length), or 0.  Caller holds
        ensure_trie(v6).

        Walking down: a node containing the key is before it; if the key lies
        in its left subtree, the right subtree is after it (remembered as the
        answer so far).  A node not containing the key starts a subtree that is
        wholly after the key (answer: that node) or wholly before it (answer:
        the remembered one)."""
        cdef uint32_t cur = self.root[v6], cand = 0
        cdef Node* n
        cdef int cl, b
        while cur:
            n = &self.nodes[cur]
            if n.plen <= plen and key_covers(n.hi, n.lo, n.plen, hi, lo):
                if n.plen == plen:
                    return cur
                b = key_bit(hi, lo, n.plen)
                if b == 0:
                    if n.child[1]:
                        cand = n.child[1]
                    cur = n.child[0]
                else:
                    cur = n.child[1]
                continue
            if n.plen > plen and key_covers(hi, lo, plen, n.hi, n.lo):
                return cur                      # the key contains this subtree
            cl = key_common(hi, lo, n.hi, n.lo)
            return cur if key_bit(hi, lo, cl) == 0 else cand
        return cand

    cdef bint dest_owned(self, uint32_t d, uint32_t views, uint32_t ent) noexcept nogil:
        """RTM_ENUM_OWN_DESTS: the best route of one of ``views`` is ent's."""
        cdef int i
        cdef uint32_t r
        for i in range(self.nv):
            if views == 0 or views & (1u << self.view_id[i]):
                r = self.bestv[i][d].route
                if r and self.routes[r].owner == ent:
                    return 1
        return 0

    def enum_dests(self, int v6, uint64_t hi, uint64_t lo, int plen, bint after,
                   uint32_t views, uint32_t own_ent, int r_plen, uint64_t r_hi, uint64_t r_lo,
                   size_t n):
        """Up to n visible destinations from the cursor (hi, lo)/plen in prefix
        order: at or after it, or strictly after it with ``after``.  With
        ``r_plen`` >= 0 only inside the range prefix (r_hi, r_lo)/r_plen.
        ``own_ent`` != 0: only destinations whose best route in ``views`` is
        that entity's.  Returns (nodes, exhausted)."""
        cdef uint32_t x
        out = []
        self.ensure_trie(v6)
        x = self.trie_seek(v6, hi, lo, plen)
        if after and x and self.nodes[x].plen == plen and self.nodes[x].hi == hi \
                and self.nodes[x].lo == lo:
            x = self.trie_next_preorder(x, 0)
        while x:
            if r_plen >= 0 and not (self.nodes[x].plen >= r_plen and
                                    key_covers(r_hi, r_lo, r_plen, self.nodes[x].hi,
                                               self.nodes[x].lo)):
                return out, True                # left the range: pre-order never returns
            if self.dest_visible(x, views) and (own_ent == 0 or
                                                self.dest_owned(x, views, own_ent)):
                if len(out) == n:
                    return out, False
                out.append(x)
            x = self.trie_next_preorder(x, 0)
        return out, True

    # -- change notification (spec 1.11, 2.9) -------------------------------------------
    def notify_register(self, uint32_t ent, uint32_t views, uint32_t flags):
        """RtmRegisterForChangeNotification: returns the notify handle."""
        cdef int g
        cdef size_t nn
        if flags & ~<uint32_t>(NOTIFY_ALL | NOTIFY_BEST | NOTIFY_FORWARDING | NOTIFY_ONLY_MARKED) \
                or not (flags & (NOTIFY_ALL | NOTIFY_BEST | NOTIFY_FORWARDING)):
            raise _errors.InvalidParameter(f"notify flags {flags:#x}: name at least one change "
                                           "type and nothing else")
        if views == 0xFFFFFFFFU:
            views = self.views_mask
        if views & ~self.views_mask:
            raise _errors.NotSupported(f"view mask {views:#x} names an unsupported view")
        if views == 0:
            views = self.views_mask           # mask 0 = every view (spec 1.7)
        for g in range(self.max_regs):
            if not (self.regs_active & (1u << g)):
                break
        else:
            raise _errors.NoSystemResources(
                f"at most {self.max_regs} change-notification registrations")
        if self.pmask == NULL:
            nn = self.n_cap
            self.pmask = <uint32_t*>rtm_calloc(nn, sizeof(uint32_t))
            self.mmask = <uint32_t*>rtm_calloc(nn, sizeof(uint32_t))
            self.smask = <uint32_t*>rtm_calloc(nn, sizeof(uint32_t))
            if self.pmask == NULL or self.mmask == NULL or self.smask == NULL:
                rtm_free(self.pmask)
                rtm_free(self.mmask)
                rtm_free(self.smask)
                self.pmask = self.mmask = self.smask = NULL
                raise MemoryError("change notification")
        self.regs[g].views = views
        self.regs[g].types = flags & (NOTIFY_ALL | NOTIFY_BEST | NOTIFY_FORWARDING)
        self.regs[g].only_marked = (flags & NOTIFY_ONLY_MARKED) != 0
        self.regs[g].owner = <uint16_t>ent
        self.regs[g].v6 = self.ents[ent].v6
        self.regs[g].n_stale = 0
        self.regs[g].head = 0
        self.regs[g].tail = 0
        self.regs[g].n_pending = 0
        self.regs[g].used = 1
        self.regs_active |= 1u << g
        return mkhandle(KIND_NOTIFY, self.tag, self.regs[g].gen, g + 1)

    def notify_check(self, handle, uint32_t ent):
        """Registration index of a notify handle of entity ``ent``."""
        cdef uint64_t h = _as_handle(handle)
        cdef uint32_t g = <uint32_t>(h & 0xFFFFFFFFU) - 1
        if not self.h_ok(h, KIND_NOTIFY) or g >= <uint32_t>self.max_regs \
                or not (self.regs_active & (1u << g)) \
                or self.regs[g].gen != ((h >> 32) & 0xFFFF) or self.regs[g].owner != ent:
            raise _errors.InvalidHandle(f"invalid notification handle {h:#x}")
        return g

    def notify_deregister(self, int g):
        """End registration g: its pending entries (and their references) and
        its marks are dropped."""
        cdef NotifyReg* reg = &self.regs[g]
        cdef uint32_t bit = 1u << g, d
        cdef size_t i
        for i in range(reg.head, reg.tail):
            d = reg.q[i]
            if self.pmask[d] & bit:
                self.pmask[d] &= ~bit
                self.dest_release(d)
        for i in range(self.n_used):
            self.mmask[i] &= ~bit
            self.smask[i] &= ~bit
        self.regs_active &= ~bit
        self.signal_mask &= ~bit
        reg.head = reg.tail = reg.n_pending = reg.n_stale = 0
        reg.used = 0
        reg.gen += 1

    def notify_entity_regs(self, uint32_t ent):
        """Indexes of the live registrations of an entity."""
        return [g for g in range(self.max_regs)
                if self.regs_active & (1u << g) and self.regs[g].owner == ent]

    def notify_views(self, int g):
        return self.regs[g].views

    def notify_pop(self, int g, size_t n):
        """Up to n pending destinations of registration g, oldest change first.
        Each comes with the reference its queue entry held (the caller turns
        it into the reference of the info it returns)."""
        cdef NotifyReg* reg = &self.regs[g]
        cdef uint32_t bit = 1u << g, d
        out = []
        while len(out) < n and reg.head < reg.tail:
            d = reg.q[reg.head]
            reg.head += 1
            if not (self.pmask[d] & bit):
                self.smask[d] &= ~bit         # ignored since it was queued
                reg.n_stale -= 1
                continue
            self.pmask[d] &= ~bit
            reg.n_pending -= 1
            out.append(d)
        if reg.head == reg.tail:
            reg.head = reg.tail = 0
        return out

    def notify_pending(self, int g):
        return self.regs[g].n_pending

    def notify_ignore(self, int g, uint32_t d):
        """Drop d's pending change.  Its queue entry stays, marked stale; the
        stale entries are compacted away when d is queued again or when they
        outnumber the live ones (so ignoring never grows the queue)."""
        cdef uint32_t bit = 1u << g
        cdef NotifyReg* reg = &self.regs[g]
        if self.pmask[d] & bit:
            self.pmask[d] &= ~bit
            self.smask[d] |= bit
            reg.n_pending -= 1
            reg.n_stale += 1
            self.dest_release(d)
            if reg.n_stale > reg.n_pending + 256:
                self.queue_compact(g)

    def notify_status(self, int g, uint32_t d):
        return (self.pmask[d] >> g) & 1 == 1

    def notify_mark(self, int g, uint32_t d, bint mark):
        if mark:
            self.mmask[d] |= 1u << g
        else:
            self.mmask[d] &= ~(1u << g)

    def notify_is_marked(self, int g, uint32_t d):
        return (self.mmask[d] >> g) & 1 == 1

    def take_signals(self):
        """Registrations whose queue went from empty to non-empty since the
        last call (spec U18: the callback is edge-triggered); clears them."""
        cdef uint32_t m = self.signal_mask
        self.signal_mask = 0
        return [g for g in range(self.max_regs) if m & (1u << g)]

    def notify_drain(self, int g, uint32_t view):
        """Every pending destination of registration g as result columns, in
        one call, taking no references: (nodes, ...) for bulk_gather.  The
        queue's references are released after the columns are filled."""
        cdef NotifyReg* reg = &self.regs[g]
        cdef uint32_t bit = 1u << g, d
        cdef Py_ssize_t k = 0
        cdef cnp.ndarray[cnp.uint32_t, ndim=1] nodes = np.empty(reg.n_pending, np.uint32)
        cdef uint32_t[::1] nv = nodes
        with nogil:
            while reg.head < reg.tail:
                d = reg.q[reg.head]
                reg.head += 1
                if self.pmask[d] & bit:
                    self.pmask[d] &= ~bit
                    nv[k] = d
                    k += 1
                else:
                    self.smask[d] &= ~bit
            reg.head = reg.tail = 0
            reg.n_pending = 0
            reg.n_stale = 0
        return nodes[:k]

    def best_routes(self, const uint32_t[::1] nodes, uint32_t view, uint64_t[::1] out):
        """Best route handle of ``view`` per node (0 if none)."""
        cdef Py_ssize_t i
        cdef int vi = self.view_index[view]
        cdef uint32_t r
        for i in range(nodes.shape[0]):
            r = self.bestv[vi][nodes[i]].route if nodes[i] else 0
            out[i] = self.h_route(r) if r else 0

    def release_nodes(self, const uint32_t[::1] nodes):
        """Drop one internal reference per node (after notify_drain)."""
        cdef Py_ssize_t i
        with nogil:
            for i in range(nodes.shape[0]):
                self.dest_release(nodes[i])

    # -- bulk paths -------------------------------------------------------------------
    cdef int reserve_rows(self, Py_ssize_t n, int v6, const uint64_t[:] hi, const uint64_t[:] lo,
                          const uint8_t[:] plen) except -1 nogil:
        """Before a bulk add: estimate from a sample of rows how many new
        destinations the call makes, and size the exact-match index for them
        once (a load grows it in one step instead of one rehash per doubling)."""
        cdef Py_ssize_t k, samples = 64 if n >= 64 else n, step, miss = 0
        if n < 1024:
            return 0
        step = n // samples
        for k in range(samples):
            if self.hash_find(v6, hi[k * step], lo[k * step], plen[k * step]) == 0:
                miss += 1
        if miss:
            self.hash_reserve(self.h_count + <size_t>(n * miss // samples))
        return 0

    def bulk_add(self, uint32_t ent, int v6, const uint64_t[:] hi, const uint64_t[:] lo,
                 const uint8_t[:] plen, const uint64_t[:] nbr, const uint64_t[:] nh,
                 const uint32_t[:] pref, const uint32_t[:] metric, const uint32_t[:] views,
                 const uint16_t[:] flags, const uint64_t[:] info, uint32_t cflags_in,
                 uint32_t[::1] out, const uint32_t[:] ttl):
        """Add/update N routes (columns already broadcast to N).

        Pass 1 validates every row (prefix, next hops, views) without touching
        the table; on the first bad row it returns (status, row).  Pass 2 adds.
        Returns (0, -1) on success."""
        cdef Py_ssize_t n = out.shape[0], i
        cdef int st = 0, maxlen = 128 if v6 else 32
        cdef uint64_t mhi, mlo, last_nbr = 0, last_nh = 0
        cdef uint32_t nbr_slot = 0, nh_slot = 0, v, r
        cdef RouteSpec sp
        cdef PfRing ring
        memset(&ring, 0, sizeof(PfRing))
        with nogil:
            for i in range(n):
                if plen[i] > maxlen:
                    st = ERROR_INVALID_PARAMETER
                    break
                key_mask(plen[i], &mhi, &mlo)
                if (hi[i] & ~mhi) or (lo[i] & ~mlo):
                    st = ERROR_INVALID_PARAMETER
                    break
                if nbr[i] != last_nbr or i == 0:
                    st = self.check_nh_for(ent, nbr[i], &nbr_slot)
                    if st:
                        break
                    last_nbr = nbr[i]
                if nh[i] != last_nh or i == 0:
                    st = self.check_nh_for(ent, nh[i], &nh_slot)
                    if st:
                        break
                    last_nh = nh[i]
                v = views[i]
                st = self.check_views(&v)
                if st:
                    break
        if st:
            return st, i
        last_nbr = 0
        last_nh = 0
        self.tick()
        with nogil:
            self.reserve_rows(n, v6, hi, lo, plen)
            for i in range(n):
                self.prefetch_rows(&ring, i, n, v6, hi, lo, plen)
                if nbr[i] != last_nbr or i == 0:
                    self.check_nh_for(ent, nbr[i], &nbr_slot)
                    last_nbr = nbr[i]
                if nh[i] != last_nh or i == 0:
                    self.check_nh_for(ent, nh[i], &nh_slot)
                    last_nh = nh[i]
                sp.neighbour = nbr_slot
                sp.n_nh = 1 if nh_slot else 0
                sp.nh[0] = nh_slot
                sp.pref = pref[i]
                sp.metric = metric[i]
                sp.views = views[i]
                self.check_views(&sp.views)
                sp.flags = flags[i]
                sp.flags1 = 0
                sp.info = info[i]
                self.route_add(ent, v6, hi[i], lo[i], plen[i], &sp, 0, cflags_in, &out[i], &r)
                if ttl[i] != 0xFFFFFFFFU:
                    if self.rexp == NULL:
                        self.rexp = <uint64_t*>rtm_calloc(self.r_cap, sizeof(uint64_t))
                        if self.rexp == NULL:
                            with gil:
                                raise MemoryError("route timers")
                    self.rexp[r] = self.stamp + ttl[i] + 1
                    self.heap_push(self.stamp + ttl[i], r)
                elif self.rexp != NULL:
                    self.rexp[r] = 0
        return 0, -1

    def bulk_delete(self, uint32_t ent, int v6, const uint64_t[:] hi, const uint64_t[:] lo,
                    const uint8_t[:] plen, const uint64_t[:] nbr, bint first,
                    uint32_t[::1] out):
        """Delete by identity (dest, owner, neighbour; ``first``: any neighbour).
        Rows whose route does not exist get DELETE_NOT_FOUND in ``out``.
        Returns (status, row) like bulk_add."""
        cdef Py_ssize_t n = out.shape[0], i
        cdef int st = 0, maxlen = 128 if v6 else 32
        cdef uint64_t mhi, mlo, last_nbr = 0
        cdef uint32_t nbr_slot = 0, d, r
        cdef PfRing ring
        memset(&ring, 0, sizeof(PfRing))
        with nogil:
            for i in range(n):
                if plen[i] > maxlen:
                    st = ERROR_INVALID_PARAMETER
                    break
                key_mask(plen[i], &mhi, &mlo)
                if (hi[i] & ~mhi) or (lo[i] & ~mlo):
                    st = ERROR_INVALID_PARAMETER
                    break
                if nbr[i] and (nbr[i] != last_nbr or i == 0):
                    if self.nh_slot(nbr[i]) == 0:
                        st = ERROR_INVALID_HANDLE
                        break
                    last_nbr = nbr[i]
        if st:
            return st, i
        self.tick()
        with nogil:
            for i in range(n):
                self.prefetch_rows(&ring, i, n, v6, hi, lo, plen)
                out[i] = DELETE_NOT_FOUND
                d = self.hash_find(v6, hi[i], lo[i], plen[i])
                if d == 0:
                    continue
                nbr_slot = <uint32_t>(nbr[i] & 0xFFFFFFFFU) if nbr[i] else 0
                r = self.nodes[d].routes
                while r:
                    if self.routes[r].owner == ent and (first or self.routes[r].neighbour == nbr_slot):
                        break
                    r = self.rnext(r)
                if r:
                    self.route_delete(r, &out[i])
        return 0, -1

    def bulk_lookup(self, int v6, const uint64_t[:] hi, const uint64_t[:] lo, uint32_t view,
                    uint32_t[::1] node_out):
        """Longest-prefix match of N addresses in one view; node per address (0 = miss)."""
        cdef Py_ssize_t n = node_out.shape[0], i
        cdef int vi = self.view_index[view] if view < 32 else -1
        cdef uint32_t* t24
        cdef uint32_t* t8
        if vi < 0:
            raise _errors.NotSupported(f"view {view} is not supported")
        if not v6 and vi < 2:
            if not self.fwd_on[vi]:
                self.fwd_build(vi)
            t24 = self.fwd24[vi]
            t8 = self.fwd8[vi]
            with nogil:
                for i in range(n):
                    if i + PF_FAR < n:
                        rtm_prefetch(&t24[<uint32_t>(hi[i + PF_FAR] >> 32) >> 8])
                    node_out[i] = fwd4_entry(t24, t8, <uint32_t>(hi[i] >> 32))
        elif v6 and vi < 2 and self.f6_ready(vi):
            with nogil:
                self.f6_lpm_batch(vi, hi, lo, node_out)
        else:
            self.ensure_trie(v6)
            with nogil:
                self.lpm_batch(v6, hi, lo, vi, node_out)
        return None

    cdef void lpm_batch(self, int v6, const uint64_t[:] hi, const uint64_t[:] lo, int vi,
                        uint32_t[::1] out) noexcept nogil:
        """Longest match of many addresses by trie walks run in lockstep.

        A walk is a chain of dependent loads, one cache miss per level; LANES
        walks advance together, each prefetching its next node, so the misses
        of different addresses overlap.  Caller holds ensure_trie(v6)."""
        cdef Py_ssize_t n = out.shape[0], next_q = 0, active = 0, q
        cdef Py_ssize_t qi[LANES]
        cdef uint32_t cur[LANES]
        cdef uint32_t found[LANES]
        cdef uint32_t x, root = self.root[v6]
        cdef uint32_t vflag = (NF_INV0 << vi) if vi < 2 else 0
        cdef uint32_t vmask = 1u << self.view_id[vi]
        cdef int g, maxlen = 128 if v6 else 32
        cdef Node* nd
        for g in range(LANES):
            if next_q < n:
                qi[g] = next_q
                next_q += 1
                cur[g] = root
                found[g] = 0
                active += 1
            else:
                qi[g] = -1
        while active:
            for g in range(LANES):
                q = qi[g]
                if q < 0:
                    continue
                x = cur[g]
                if x:
                    nd = &self.nodes[x]
                    if nd.plen <= maxlen and key_covers(nd.hi, nd.lo, nd.plen, hi[q], lo[q]):
                        if nd.routes and (nd.flags & NF_DEST) and (
                                (nd.flags & vflag) if vflag else
                                (self.dest_views(x) & vmask)):
                            found[g] = x
                        x = 0 if nd.plen == maxlen else nd.child[key_bit(hi[q], lo[q], nd.plen)]
                    else:
                        x = 0
                    cur[g] = x
                    if x:
                        self.prefetch_node(x)
                        continue
                out[q] = found[g]                 # this walk is over: start the next address
                if next_q < n:
                    qi[g] = next_q
                    next_q += 1
                    cur[g] = root
                    found[g] = 0
                else:
                    qi[g] = -1
                    active -= 1

    def bulk_lookup4(self, const uint32_t[:] addr, uint32_t view, uint32_t[::1] node_out):
        """IPv4 longest-prefix match straight from ``uint32`` addresses."""
        cdef Py_ssize_t n = node_out.shape[0], i
        cdef int vi = self.view_index[view] if view < 32 else -1
        cdef uint32_t* t24
        cdef uint32_t* t8
        if vi < 0:
            raise _errors.NotSupported(f"view {view} is not supported")
        if vi >= 2:
            hi = np.asarray(addr).astype(np.uint64) << np.uint64(32)
            return self.bulk_lookup(0, hi, np.zeros(n, np.uint64), view, node_out)
        if not self.fwd_on[vi]:
            self.fwd_build(vi)
        t24 = self.fwd24[vi]
        t8 = self.fwd8[vi]
        with nogil:
            for i in range(n):
                if i + PF_FAR < n:
                    rtm_prefetch(&t24[addr[i + PF_FAR] >> 8])
                node_out[i] = fwd4_entry(t24, t8, addr[i])
        return None

    def bulk_gather(self, const uint32_t[::1] nodes, uint32_t view, uint32_t[::1] pfx4,
                    uint64_t[:, ::1] pfx6, int16_t[::1] length, uint64_t[::1] next_hop,
                    uint64_t[::1] dest):
        """Fill the lookup result columns from matched nodes (``pfx4`` for an
        IPv4 table, ``pfx6`` (N, 2) for IPv6; the other may be empty)."""
        cdef Py_ssize_t n = nodes.shape[0], i
        cdef int vi = self.view_index[view]
        cdef bint v6 = pfx6.shape[0] == n and n > 0
        cdef uint32_t x, s
        cdef Node* nd
        with nogil:
            for i in range(n):
                if i + PF_FAR < n and nodes[i + PF_FAR]:
                    self.prefetch_node(nodes[i + PF_FAR])
                    rtm_prefetch(&self.bestv[vi][nodes[i + PF_FAR]])
                x = nodes[i]
                if x == 0:
                    if v6:
                        pfx6[i, 0] = 0
                        pfx6[i, 1] = 0
                    else:
                        pfx4[i] = 0
                    length[i] = -1
                    next_hop[i] = 0
                    dest[i] = 0
                    continue
                nd = &self.nodes[x]
                if v6:
                    pfx6[i, 0] = nd.hi
                    pfx6[i, 1] = nd.lo
                else:
                    pfx4[i] = <uint32_t>(nd.hi >> 32)
                length[i] = nd.plen
                dest[i] = self.h_dest(x)
                s = self.bestv[vi][x].nh
                next_hop[i] = self.h_nh(s) if s else 0
        return None


# ---------------------------------------------------------------------------
# Structures of the facade that the hot path reads at C speed
# ---------------------------------------------------------------------------
cdef class PrefInfo:
    """``RTM_PREF_INFO``: lower preference wins; metric breaks preference ties."""
    cdef public uint32_t metric
    cdef public uint32_t preference

    def __init__(self, uint32_t metric=0, uint32_t preference=0):
        self.metric = metric
        self.preference = preference

    def __repr__(self):
        return f"PrefInfo(metric={self.metric}, preference={self.preference})"

    def __eq__(self, other):
        if not isinstance(other, PrefInfo):
            return NotImplemented
        return (self.metric, self.preference) == (other.metric, other.preference)

    def __iter__(self):
        return iter((self.metric, self.preference))

    def __reduce__(self):
        return (PrefInfo, (self.metric, self.preference))


cdef class RouteInfo:
    """``RTM_ROUTE_INFO``: a route's fields, as given to and returned by the manager.

    On input (``add_route_to_dest``) the manager takes ``neighbour``,
    ``flags``, ``flags1``, ``metric``/``preference`` (``pref_info``),
    ``belongs_to_views``, ``entity_specific_info`` and ``next_hops``; it sets
    ``dest_handle``, ``route_owner`` and ``state`` itself.

    ``belongs_to_views`` defaults to the unicast view.  ``entity_specific_info``
    is the owner's opaque value: an unsigned 64-bit integer (a ``PVOID`` in C).
    """
    cdef public object dest_handle
    cdef public object route_owner
    cdef public object neighbour
    cdef public int state
    cdef public int flags1
    cdef public int flags
    cdef public uint32_t metric
    cdef public uint32_t preference
    cdef public uint32_t belongs_to_views
    cdef public uint64_t entity_specific_info
    cdef public tuple next_hops
    cdef public object _refs_held          # set by get_route_info: references to release

    def __init__(self, *, neighbour=0, next_hops=(), uint32_t metric=0, uint32_t preference=0,
                 pref_info=None, uint32_t belongs_to_views=1, int flags=0, int flags1=0,
                 uint64_t entity_specific_info=0, dest_handle=0, route_owner=0, int state=0):
        self.neighbour = neighbour or 0
        self.next_hops = _as_nh_tuple(next_hops)
        self.metric = metric
        self.preference = preference
        if pref_info is not None:
            self.metric, self.preference = pref_info
        self.belongs_to_views = belongs_to_views
        self.flags = flags
        self.flags1 = flags1
        self.entity_specific_info = entity_specific_info
        self.dest_handle = dest_handle
        self.route_owner = route_owner
        self.state = state
        self._refs_held = None

    @property
    def pref_info(self):
        return PrefInfo(self.metric, self.preference)

    @pref_info.setter
    def pref_info(self, value):
        self.metric, self.preference = value

    @property
    def num_next_hops(self):
        return len(self.next_hops)

    def copy(self):
        """A copy without the references (edit it and pass it to add_route_to_dest)."""
        return RouteInfo(neighbour=self.neighbour, next_hops=self.next_hops, metric=self.metric,
                         preference=self.preference, belongs_to_views=self.belongs_to_views,
                         flags=self.flags, flags1=self.flags1,
                         entity_specific_info=self.entity_specific_info,
                         dest_handle=self.dest_handle, route_owner=self.route_owner,
                         state=self.state)

    def _key(self):
        return (self.dest_handle, self.route_owner, self.neighbour, self.state, self.flags1,
                self.flags, self.metric, self.preference, self.belongs_to_views,
                self.entity_specific_info, self.next_hops)

    def __eq__(self, other):
        if not isinstance(other, RouteInfo):
            return NotImplemented
        return self._key() == other._key()

    def __repr__(self):
        return ("RouteInfo(dest_handle={:#x}, route_owner={:#x}, neighbour={:#x}, state={}, "
                "flags={:#x}, metric={}, preference={}, belongs_to_views={:#x}, "
                "next_hops={})").format(self.dest_handle or 0, self.route_owner or 0,
                                        self.neighbour or 0, self.state, self.flags, self.metric,
                                        self.preference, self.belongs_to_views,
                                        tuple(hex(h) for h in self.next_hops))


cdef tuple _as_nh_tuple(object next_hops):
    if next_hops is None:
        return ()
    if type(next_hops) is tuple:
        return <tuple>next_hops
    if isinstance(next_hops, int):
        return (next_hops,) if next_hops else ()
    return tuple(next_hops)


cdef void _raise_status(int st, str what) except *:
    raise _errors.error_for_status(st, what)


cdef class EntityCore:
    """The C-level part of an entity: the per-call route path.

    :class:`rtmcore.Entity` subclasses it; use that.
    """
    cdef readonly Core core
    cdef readonly uint32_t slot
    cdef readonly uint64_t handle
    cdef readonly int v6
    cdef readonly int family
    cdef object _hk0, _hk1              # the last two handle ints converted (see handle_of)
    cdef uint64_t _hv0, _hv1

    def _bind(self, Core core, uint64_t handle):
        self.core = core
        self.handle = handle
        self.slot = core.ent_check(handle)
        self.v6 = core.ents[self.slot].v6
        self.family = 6 if self.v6 else 4

    cdef inline uint64_t handle_of(self, object h) except? 0:
        """_as_handle, remembering the last two int objects: a caller passes
        the same next-hop handles call after call, and converting a 64-bit
        int costs more than the rest of the check.  (An int is immutable and
        is held here, so the same object has the same value.)"""
        cdef uint64_t v
        if h is self._hk0:
            return self._hv0
        if h is self._hk1:
            return self._hv1
        v = _as_handle(h)
        if type(h) is int:
            self._hk1 = self._hk0
            self._hv1 = self._hv0
            self._hk0 = h
            self._hv0 = v
        return v

    cdef inline int live(self) except -1:
        cdef EntRec* e = &self.core.ents[self.slot]
        if e.state != 1 or e.gen != ((self.handle >> 32) & 0xFFFF):
            raise _errors.InvalidHandle("the entity is deregistered")
        return 0

    cdef int fill_spec(self, RouteSpec* sp, RouteInfo ri, object neighbour, object next_hops,
                       object metric, object preference, object views, object flags,
                       object flags1, object info) except -1:
        cdef int st, i, j
        cdef uint64_t h
        cdef tuple nhs
        if ri is not None:
            sp.pref = ri.preference
            sp.metric = ri.metric
            sp.views = ri.belongs_to_views
            sp.flags = <uint16_t>ri.flags
            sp.flags1 = <uint8_t>ri.flags1
            sp.info = ri.entity_specific_info
            if neighbour is None:
                neighbour = ri.neighbour
            if next_hops is None:
                next_hops = ri.next_hops
        else:
            sp.pref = 0
            sp.metric = 0
            sp.views = 1
            sp.flags = 0
            sp.flags1 = 0
            sp.info = 0
        if metric is not None:
            sp.metric = _u32(metric, "metric")
        if preference is not None:
            sp.pref = _u32(preference, "preference")
        if views is not None:
            sp.views = _u32(views, "views")
        if flags is not None:
            if not (0 <= flags <= 0xFFFF):
                raise _errors.InvalidParameter(f"route flags {flags!r} out of range")
            sp.flags = <uint16_t>flags
        if flags1 is not None:
            if not (0 <= flags1 <= 0xFF):
                raise _errors.InvalidParameter(f"flags1 {flags1!r} out of range")
            sp.flags1 = <uint8_t>flags1
        if info is not None:
            if not isinstance(info, int) or not 0 <= info <= 0xFFFFFFFFFFFFFFFF:
                raise _errors.InvalidParameter(
                    f"entity_specific_info {info!r}: an unsigned 64-bit integer")
            sp.info = info
        st = self.core.check_views(&sp.views)
        if st:
            _raise_status(st, f"view mask {views if views is not None else sp.views:#x}: "
                              + ("names an unsupported view" if st == ERROR_NOT_SUPPORTED
                                 else "a route must belong to at least one view"))
        h = self.handle_of(neighbour)
        st = self.core.check_nh_for(self.slot, h, &sp.neighbour)
        if st:
            _raise_status(st, f"neighbour {h:#x}: " + _nh_problem(st))
        if next_hops is None:
            sp.n_nh = 0
            return 0
        if type(next_hops) is int or isinstance(next_hops, int):   # one next hop: no tuple
            h = self.handle_of(next_hops)
            if h == 0:
                sp.n_nh = 0
                return 0
            st = self.core.check_nh_for(self.slot, h, &sp.nh[0])
            if st:
                _raise_status(st, f"next hop {h:#x}: " + _nh_problem(st))
            sp.n_nh = 1
            return 0
        nhs = _as_nh_tuple(next_hops)
        if len(nhs) > self.core.max_nh:
            raise _errors.InvalidParameter(
                f"{len(nhs)} next hops; MaxNextHopsInRoute is {self.core.max_nh}")
        sp.n_nh = <uint8_t>len(nhs)
        for i in range(sp.n_nh):
            h = _as_handle(nhs[i])
            st = self.core.check_nh_for(self.slot, h, &sp.nh[i])
            if st == 0 and sp.nh[i] == 0:
                st = ERROR_INVALID_HANDLE
            if st:
                _raise_status(st, f"next hop {h:#x}: " + _nh_problem(st))
            for j in range(i):
                if sp.nh[j] == sp.nh[i]:
                    raise _errors.InvalidParameter(f"next hop {h:#x} listed twice")
        return 0

    # Keyword-only parameters are matched in declaration order: the route
    # fields a caller passes on every call come first.
    # The per-call methods are plain method descriptors (binding=False): CPython
    # calls them directly, without the function object's own call layer.
    @cython.binding(False)
    @cython.embedsignature(True)
    @cython.embedsignature.format("clinic")
    def add_route_to_dest(self, dest, RouteInfo route_info=None, *, neighbour=None,
                          next_hops=None, metric=None, preference=None, views=None,
                          route=None, bint return_handle=False, time_to_live=0xFFFFFFFF,
                          route_list=None, notify_type=0, notify_handle=None, change_flags=0,
                          flags=None, flags1=None, entity_specific_info=None):
        """Add a route, or update an existing one (``RtmAddRouteToDest``).

        Parameters
        ----------
        dest : prefix
            The destination: ``"10.1.0.0/16"``, an ``ipaddress`` network, a
            :class:`NetAddress` or ``(int, length)``.  Host bits must be zero.
        route_info : RouteInfo, optional
            The route's fields; the keyword fields below override it.
        route : int, optional
            Handle of a route of this entity to update (no search; the
            destination must be the route's).  Input ``change_flags`` are
            then ignored.
        return_handle : bool
            Return a referenced handle to the added / updated route (release
            it with :meth:`release_routes`).  Otherwise ``None`` is returned.
        change_flags : int
            0: update the caller's route with the same neighbour, else create;
            ``RTM_ROUTE_CHANGE_NEW``: always create; ``RTM_ROUTE_CHANGE_FIRST``:
            update the caller's highest-ranked route whatever its neighbour.
        neighbour, next_hops, metric, preference, views, flags, flags1, entity_specific_info
            Route fields (override ``route_info``).  ``next_hops``: one
            next-hop handle or a sequence of them (equal-cost).

        Returns
        -------
        (route_handle or None, change_flags)
            ``RTM_ROUTE_CHANGE_NEW`` if a route was created;
            ``RTM_ROUTE_CHANGE_BEST`` if the best route of some view changed
            (or the best route's preference, metric, next hops or flags did).

        Raises
        ------
        InvalidParameter, InvalidHandle, AccessDenied, NotSupported, NotFound
            The table is unchanged.
        """
        self.core.lock()
        try:
            return self._add_route(dest, route_info, route, return_handle, time_to_live,
                                   route_list, notify_type, notify_handle, change_flags,
                                   neighbour, next_hops, metric, preference, views, flags,
                                   flags1, entity_specific_info)
        finally:
            self.core.unlock()

    cdef object _add_route(self, dest, RouteInfo route_info, route, bint return_handle,
                           time_to_live, route_list, notify_type, notify_handle, change_flags,
                           neighbour, next_hops, metric, preference, views, flags, flags1,
                           entity_specific_info):
        cdef ParsedPrefix p
        cdef RouteSpec sp
        cdef uint32_t r = 0, out = 0, rslot = 0, cflags
        cdef uint64_t rh
        cdef int rc, st
        self.live()
        cflags = _u32(change_flags, "change_flags")
        rc = to_key(dest, self.family, 1, &p)
        if rc:
            _raise_parse(rc, dest)
        if notify_type or notify_handle:
            raise _errors.InvalidParameter("NotifyType / NotifyHandle are reserved: pass 0 / None")
        self.fill_spec(&sp, route_info, neighbour, next_hops, metric, preference, views, flags,
                       flags1, entity_specific_info)
        if route is not None and route != 0:
            rh = _as_handle(route)
            r = self.core.route_slot(rh)
            if r == 0:
                raise _errors.InvalidHandle(f"invalid route handle {rh:#x}")
            if rstate(&self.core.routes[r]) != ROUTE_STATE_CREATED:
                raise _errors.NotFound("the route was deleted")
            if self.core.routes[r].owner != self.slot:
                raise _errors.AccessDenied("the route belongs to another entity")
            cflags = 0
        elif cflags & ~<uint32_t>(CHANGE_NEW | CHANGE_FIRST):
            raise _errors.InvalidParameter(f"input change flags {cflags:#x}")
        if time_to_live != 0xFFFFFFFF or route_list is not None:
            self._extras_check(time_to_live, route_list)
        if return_handle:
            self.core.handle_counts_ready()
        self.core.tick()
        st = self.core.route_add(self.slot, self.v6, p.hi, p.lo, p.plen, &sp, r, cflags,
                                 &out, &rslot)
        if st:
            _raise_status(st, f"{dest!r}: destination differs from the route's")
        if time_to_live != 0xFFFFFFFF or route_list is not None:
            self._extras_apply(self.core.h_route(rslot), time_to_live, route_list)
        elif self.core.rexp != NULL:
            self.core.rexp[rslot] = 0              # INFINITE: an update disarms the timer
        if self.core.signal_mask:
            self._signal()
        if return_handle:
            if r:
                return route, out
            self.core.take_ref(KIND_ROUTE, rslot)
            return self.core.h_route(rslot), out
        if out == 0 or out == CHANGE_NEW or out == CHANGE_BEST or out == CHANGE_NEW | CHANGE_BEST:
            return _NO_HANDLE_RESULT[(out >> 15) | ((out >> 1) & 1)]   # the usual results, made once
        return None, out

    def _extras_check(self, time_to_live, route_list):
        """Validate TimeToLive / RouteListHandle before the table changes (the
        facade implements it)."""
        raise _errors.NotSupported("route aging and route lists need rtmcore.Entity")

    def _extras_apply(self, route, time_to_live, route_list):
        pass

    # -- route infos and exact-match routes (RtmGetExactMatchRoute, ...) ------
    @cython.binding(False)
    @cython.embedsignature(True)
    @cython.embedsignature.format("clinic")
    def get_exact_match_route(self, prefix, matching_flags=0, route_info=None,
                              interface_index=0, target_views=0xFFFFFFFF):
        """A route of the destination ``prefix`` matching the criteria
        (``RtmGetExactMatchRoute``).

        ``matching_flags``: OR of ``RTM_MATCH_OWNER`` / ``NEIGHBOUR`` / ``PREF``
        (preference and metric) / ``NEXTHOP`` (same set of next hops) /
        ``INTERFACE`` (a next hop on ``interface_index``); ``RTM_MATCH_FULL``
        = all; ``RTM_MATCH_NONE`` = the best-ranked route.  Among several
        matches the highest-ranked wins (decision U35).

        Returns ``(route_info, route_handle)``, both holding references.
        """
        cdef ParsedPrefix p
        cdef uint32_t views, d, r, flags
        cdef Core core = self.core
        cdef RouteRec* rr
        cdef RouteInfo ri
        core.lock()
        try:
            views = self._query_start(prefix, target_views, &p)
            d = core.hash_find(self.v6, p.hi, p.lo, p.plen)
            if d == 0 or not core.dest_visible(d, views):
                raise _errors.NotFound(f"no destination {NetAddress.make(p.hi, p.lo, p.plen, self.family)}")
            flags = _u32(matching_flags, "matching_flags")
            if route_info is not None and not isinstance(route_info, RouteInfo):
                raise _errors.InvalidParameter(f"route_info {route_info!r}: a RouteInfo")
            if flags & ~MATCH_INTERFACE & MATCH_FULL and route_info is None:
                raise _errors.InvalidParameter(
                    "these matching flags need a route_info with the criteria")
            core.handle_counts_ready()
            r = core.nodes[d].routes
            while r:
                rr = &core.routes[r]
                if not views or rr.views & views:
                    if flags & (MATCH_NEXTHOP | MATCH_INTERFACE):
                        ri = core.route_info_obj(r, 0)        # the facade compares these
                        ok = self._route_matches(ri, flags, route_info, interface_index)
                    else:
                        ok = self._route_fields_match(r, flags, route_info)
                    if ok:
                        core.take_ref(KIND_ROUTE, r)
                        return core.route_info_obj(r, 1), core.h_route(r)
                r = core.rnext(r)
            raise _errors.NotFound(
                f"no route of {NetAddress.make(p.hi, p.lo, p.plen, self.family)} matches")
        finally:
            core.unlock()

    cdef bint _route_fields_match(self, uint32_t r, uint32_t flags, RouteInfo crit) except -1:
        """OWNER / NEIGHBOUR / PREF criteria of get_exact_match_route."""
        cdef RouteRec* rr = &self.core.routes[r]
        if flags & MATCH_OWNER and self.core.h_ent(rr.owner) != crit.route_owner:
            return 0
        if flags & MATCH_NEIGHBOUR and self.core.h_nh(rr.neighbour) != (crit.neighbour or 0):
            return 0
        if flags & MATCH_PREF and (rr.pref != crit.preference or rr.metric != crit.metric):
            return 0
        return 1

    def release_route_info(self, info):
        """Release the handles inside a route info (``RtmReleaseRouteInfo``)."""
        cdef RouteInfo ri
        cdef list hs
        self.core.lock()
        try:
            self.live()
            if not isinstance(info, RouteInfo) or not (<RouteInfo>info)._refs_held:
                raise _errors.InvalidHandle(
                    "not a route info from get_route_info, or already released")
            ri = <RouteInfo>info
            hs = [ri.dest_handle, ri.route_owner]
            if ri.neighbour:
                hs.append(ri.neighbour)
            hs.extend(ri.next_hops)
            self.core.release_handles_c(hs, 0)
            ri._refs_held = False
        finally:
            self.core.unlock()

    cdef uint32_t _query_start(self, prefix, views, ParsedPrefix* p) except? 0xFFFFFFFFU:
        """The start of a query under the lock: the entity is live and
        ``prefix`` parses in its family (into ``p``); returns the view mask."""
        cdef int rc
        self.live()
        rc = to_key(prefix, self.family, 1, p)
        if rc:
            _raise_parse(rc, prefix)
        return self._views(views)

    cpdef uint32_t _views(self, target_views) except? 0xFFFFFFFFU:
        """A view mask argument: ALL is the supported views; a bit of an
        unsupported view raises NotSupported."""
        cdef uint32_t vm
        if not (type(target_views) is int and 0 <= target_views <= 0xFFFFFFFF):
            # another integer type, or out of range: the same rules in Python terms
            if target_views != 0xFFFFFFFF and target_views & ~self.core.views_mask:
                raise _errors.NotSupported(
                    f"view mask {target_views:#x} names an unsupported view")
        vm = <uint32_t>target_views
        if vm == 0xFFFFFFFFU:
            return self.core.views_mask
        if vm & ~self.core.views_mask:
            raise _errors.NotSupported(f"view mask {vm:#x} names an unsupported view")
        return vm

    # -- per-call prefix queries (the facade adds the others) --------------
    @cython.binding(False)
    @cython.embedsignature(True)
    @cython.embedsignature.format("clinic")
    def search_exact(self, prefix, views=0):
        """The destination with exactly this prefix, or ``None``.

        ``views``: a view mask; the destination must have a route in one of
        them (0, the default: in any view).  Returns a :class:`DestInfo`
        snapshot of every supported view that holds no references.
        """
        return self._search(prefix, views, 0)

    @cython.binding(False)
    @cython.embedsignature(True)
    @cython.embedsignature.format("clinic")
    def search_best(self, prefix, views=0):
        """Longest match: the most specific destination containing ``prefix``
        (an address is a host prefix), or ``None``.  ``views`` and the result
        as for :meth:`search_exact`."""
        return self._search(prefix, views, 1)

    cdef object _search(self, prefix, views, bint longest):
        cdef ParsedPrefix p
        cdef uint32_t vm, d
        cdef Core core = self.core
        core.lock()
        try:
            vm = self._query_start(prefix, views, &p)
            if longest:
                d = core.dest_lpm_c(self.v6, p.hi, p.lo, p.plen, vm)
            else:
                d = core.hash_find(self.v6, p.hi, p.lo, p.plen)
                if d and not core.dest_visible(d, vm):
                    d = 0
            return self._snapshot(d) if d else None
        finally:
            core.unlock()

    cdef object _snapshot(self, uint32_t d):
        """A DestInfo of every supported view (best route, no references)."""
        return self.core.dest_info_c(d, self.core.views_mask, 0, 0, 0)

    @cython.binding(False)
    @cython.embedsignature(True)
    @cython.embedsignature.format("clinic")
    def delete_route_to_dest(self, route):
        """Delete one of the caller's routes (``RtmDeleteRouteToDest``).

        Consumes one reference of ``route`` (do not release it afterwards).
        Returns the change flags (``RTM_ROUTE_CHANGE_BEST`` if the best route
        of some view changed).
        """
        cdef uint64_t h = _as_handle(route)
        cdef uint32_t r, out = 0
        self.core.lock()
        try:
            self.live()
            r = self.core.route_slot(h)
            if r == 0:
                raise _errors.InvalidHandle(f"invalid route handle {h:#x}")
            if self.core.routes[r].owner != self.slot:
                raise _errors.AccessDenied("the route belongs to another entity")
            if rstate(&self.core.routes[r]) != ROUTE_STATE_CREATED:
                raise _errors.NotFound("the route was already deleted")
            if self.core.rref(r):
                self.core.rrefs[r] -= 1               # the consumed reference
            self.core.tick()
            self.core.route_delete(r, &out)
            if self.core.signal_mask:
                self._signal()
            return out
        finally:
            self.core.unlock()

    def _signal(self):
        """Deliver RTM_CHANGE_NOTIFICATION callbacks (the facade overrides this)."""
        self.core.signal_mask = 0


cdef inline uint32_t _u32(object v, str name) except? 0xFFFFFFFFU:
    """An unsigned 32-bit argument, or InvalidParameter."""
    cdef long x
    if type(v) is int:
        x = PyLong_AsLong_raw(v)        # -1 with OverflowError set beyond a C long
        if (<unsigned long>x) <= 0xFFFFFFFFUL:     # (C comparison: no int object made)
            return <uint32_t>x
        if x == -1 and PyErr_Occurred_raw() != NULL:
            PyErr_Clear_raw()
    if isinstance(v, int) and 0 <= v <= 0xFFFFFFFF:
        return <uint32_t>int(v)
    raise _errors.InvalidParameter(f"{name} {v!r}: an unsigned 32-bit integer")


cdef str _nh_problem(int st):
    if st == ERROR_ACCESS_DENIED:
        return "belongs to another entity"
    if st == ERROR_INVALID_PARAMETER:
        return "was deleted"
    return "not a valid next-hop handle"
