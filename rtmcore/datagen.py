"""Seeded generators of realistic routing data ("bench-data").

Everything here is pure NumPy, vectorised and deterministic: the same
arguments and seed give bit-identical arrays. Randomness is only uniform
doubles from ``PCG64`` streams seeded by ``SeedSequence([seed, tag...])``,
turned into output by integer arithmetic, IEEE-exact float operations and
sorts of unique keys (a few weights and delays go through ``pow()``, whose
last bit could differ between math libraries; that would change an output
only if a draw fell within one ulp of a rounding boundary). Nothing here needs the
real routing data: the shape of the real table is embedded below as
constants, measured once by ``bench-data/measure_shape.py`` from
``shared/data/bart/prefixes.txt.gz`` (a Tier-1 full table, 901,899 IPv4 and
160,147 IPv6 prefixes; the file itself is not part of this repository).

Generators
----------
:func:`full_table`
    ``n`` unique prefixes of one family shaped like the real table.
:func:`peer_views`
    ``k`` peers' views of a table (each a large subset with its own attributes).
:func:`update_stream`
    A bursty announce / withdraw stream over a table from ``k`` peers that is
    consistent with the state :func:`initial_state` (= :func:`peer_views`).
:data:`DATASETS` / :func:`load`
    The append-only registry of named datasets, cached as ``.npz`` files and
    verified against recorded SHA-256 checksums.

The table model
---------------
A prefix's *depth* is the number of other prefixes of the table that cover it
(0: a root, i.e. a top-level aggregate). The real table is described by the
count of prefixes in each (length, depth) cell, so one table of counts fixes
both the prefix-length histogram and the nesting of more-specifics. A table
of ``n`` prefixes gets the same cell proportions (largest-remainder rounding),
then is built top-down by exact buddy packing, so every prefix lands at
exactly its planned depth:

1. *Allocation blocks.* Roots no longer than the cluster length (IPv4 /16,
   IPv6 /32) and *clusters* (IPv4 /16s, IPv6 /32s that hold the smaller
   roots) are assigned to level-1 blocks (IPv4 /8s, IPv6 /12s) with the
   per-block weights of the real table. Reserved space is never used:
   IPv4 0/8, 10/8, 127/8, 224/3 get no weight and 100.64/10, 169.254/16,
   172.16/12, 192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15,
   198.51.100/24, 203.0.113/24 are cut out of their /8s; IPv6 stays in the
   real RIR /12s of 2000::/3 minus 2001:db8::/32 and 3fff::/20.
2. *Clusters.* The remaining roots go into the clusters, with the real
   heavy-tailed distribution of roots per cluster, so small announcements
   sit next to each other in allocated blocks as they do in the real table.
3. *More-specifics.* Depth-``d`` prefixes are assigned to depth ``d - 1``
   hosts; a host is a "deaggregating parent" with the real per-length
   probability and gets a heavy-tailed share of children.

Within a host, items are packed largest first (which keeps every item
aligned and disjoint), with a few phantom items left empty as holes, and then
scattered by a seeded random automorphism of the host's binary tree. Prefixes
are therefore unique and host bits are zero by construction.

IPv4 address space is finite: the real table already covers 71 % of all
addresses with its roots. Up to :data:`V4_SATURATION` prefixes the model above
is used unchanged (root coverage grows with ``n``); beyond it the extra
prefixes are added as more-specifics (/17 and longer) at uniform positions
inside the roots, with each length capped at half the free slots (the excess
moves to the next longer length). So a 10M IPv4 table keeps the /17–/24
shares but has fewer /16-and-shorter prefixes and far more nesting than the
real one; see ``bench-data/README.md`` for the figures. IPv6 scales by
spreading over more /12 blocks (one copy of the RIR block set per
:data:`V6_BLOCK_SCALE` prefixes), so its shape is kept at every size.

``origin_as``: roots and clusters draw an AS from a Zipf-weighted pool of
``n * AS_PER_PREFIX`` public AS numbers; roots in a cluster use the cluster's
AS with the real probability; more-specifics keep their parent's origin with
the real probability (from the CAIDA RouteViews pfx2as tables of 2016).

Row order of a full table: sorted by address, then length (a covering prefix
comes before its more-specifics), like a real table dump; :func:`shuffle`
gives a random order.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import os
import tempfile
import warnings
import zlib
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple

import numpy as np

from .columns import RouteColumns
from .errors import InvalidData, InvalidParameter, NotFound

__all__ = [
    "full_table", "shuffle", "peer_views", "initial_state", "update_stream",
    "DATASETS", "Dataset", "load", "generate", "dataset_checksum", "resolve_cache_dir",
    "DatasetChecksumError", "V4_SATURATION", "V6_BLOCK_SCALE", "NEXT_HOP_V4", "NEXT_HOP_V6",
    "CAUSE_ATTRIBUTE_CHANGE", "CAUSE_FLAP", "CAUSE_WITHDRAW", "CAUSE_NEW", "CAUSE_TRANSIENT",
    "CAUSE_SESSION_RESET",
]

#: probabilities at which the normalised heavy-tailed distributions are tabulated
QUANTILE_PROBS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98,
                  0.99, 0.995, 0.999, 1.0)

# --- BEGIN MEASURED SHAPE (printed by bench-data/measure_shape.py) ---
SHAPE_SOURCE = 'shared/data/bart/prefixes.txt.gz'
SHAPE_SOURCE_SHA256 = '1cf289e7bb7c1a0f48a11da40854667e99fd4d2de7287b2d46721394bfec0f42'
V4_LENGTH_DEPTH = {8: (16,), 9: (9, 4), 10: (38,), 11: (99, 4), 12: (268, 29, 2),
    13: (485, 76, 19, 1), 14: (1025, 149, 19, 9, 1), 15: (1636, 370, 68, 10, 16),
    16: (10284, 2863, 308, 28, 7), 17: (4481, 2894, 695, 146, 19),
    18: (6923, 4523, 1922, 348, 80, 2), 19: (15055, 6785, 2072, 682, 245, 31),
    20: (19405, 16771, 4587, 1284, 314, 222, 28), 21: (23027, 18541, 6406, 1773, 653, 297, 53),
    22: (59396, 32718, 12329, 3319, 547, 261, 43, 10),
    23: (41454, 40450, 10474, 3126, 585, 299, 111, 11),
    24: (261082, 196595, 58298, 15425, 4047, 1224, 1006, 20, 1), 25: (0, 16, 2, 0, 2), 26: (0, 3),
    27: (0, 11), 28: (1, 14, 2, 1), 29: (0, 16, 0, 1), 30: (0, 3), 31: (0, 3),
    32: (6, 684, 155, 25, 16)}
V4_PARENTS = {8: (16, 11, 6419), 9: (13, 11, 3677), 10: (38, 25, 5608), 11: (103, 66, 9156),
    12: (299, 178, 11980), 13: (581, 386, 11548), 14: (1203, 773, 19507), 15: (2100, 1148, 20931),
    16: (13490, 5875, 82900), 17: (8235, 3408, 32295), 18: (13798, 4938, 34696),
    19: (24870, 9585, 55366), 20: (42611, 10807, 46144), 21: (50750, 10581, 32602),
    22: (108623, 22434, 52954), 23: (96510, 17955, 31131), 24: (537698, 178, 295), 25: (20, 0, 0),
    26: (3, 0, 0), 27: (11, 0, 0), 28: (18, 0, 0), 29: (17, 0, 0), 30: (3, 0, 0), 31: (3, 0, 0),
    32: (886, 0, 0)}
V4_FANOUT_Q = (0.0017, 0.2342, 0.3462, 0.4684, 0.6491, 0.8473, 0.9497, 1.1535, 1.271, 1.6946,
    2.5964, 3.7472, 5.0205, 6.1198, 10.8598, 41.0941)
V4_L1_SHORT = {1: 210, 2: 240, 3: 156, 4: 240, 5: 129, 6: 223, 7: 256, 8: 201, 11: 256, 12: 256,
    13: 106, 14: 232, 15: 31, 16: 12, 17: 256, 18: 129, 20: 226, 21: 256, 22: 256, 23: 146,
    24: 124, 26: 256, 27: 195, 28: 256, 29: 256, 30: 256, 31: 189, 32: 220, 33: 256, 34: 254,
    35: 209, 36: 226, 37: 169, 38: 256, 39: 246, 40: 208, 41: 162, 42: 149, 43: 29, 44: 256,
    45: 60, 46: 134, 47: 179, 49: 184, 50: 197, 51: 68, 52: 220, 53: 256, 54: 101, 55: 256, 56: 3,
    57: 83, 58: 215, 59: 167, 60: 236, 61: 164, 62: 135, 63: 216, 64: 104, 65: 203, 66: 101,
    67: 184, 68: 182, 69: 123, 70: 212, 71: 177, 72: 159, 73: 256, 74: 183, 75: 207, 76: 204,
    77: 177, 78: 204, 79: 223, 80: 177, 81: 182, 82: 169, 83: 177, 84: 204, 85: 166, 86: 204,
    87: 200, 88: 210, 89: 143, 90: 192, 91: 150, 92: 171, 93: 197, 94: 158, 95: 182, 96: 205,
    97: 229, 98: 201, 99: 226, 100: 166, 101: 160, 102: 158, 103: 1, 104: 184, 105: 221, 106: 163,
    107: 159, 108: 161, 109: 167, 110: 209, 111: 223, 112: 220, 113: 223, 114: 200, 115: 182,
    116: 167, 117: 209, 118: 200, 119: 191, 120: 226, 121: 223, 122: 191, 123: 196, 124: 183,
    125: 222, 126: 232, 128: 186, 129: 167, 130: 150, 131: 187, 132: 224, 133: 146, 134: 160,
    135: 102, 136: 128, 137: 160, 138: 146, 139: 167, 140: 195, 141: 168, 142: 126, 143: 129,
    144: 127, 145: 150, 146: 125, 147: 150, 148: 131, 149: 139, 150: 138, 151: 149, 152: 171,
    153: 215, 154: 208, 155: 118, 156: 148, 157: 148, 158: 121, 159: 95, 160: 137, 161: 112,
    162: 134, 163: 112, 164: 151, 165: 115, 166: 141, 167: 80, 168: 119, 169: 56, 170: 72,
    171: 135, 172: 201, 173: 152, 174: 209, 175: 231, 176: 177, 177: 152, 178: 168, 179: 188,
    180: 205, 181: 159, 182: 204, 183: 241, 184: 133, 186: 144, 187: 97, 188: 156, 189: 96,
    190: 130, 191: 193, 192: 35, 193: 116, 194: 117, 195: 121, 196: 173, 197: 227, 198: 96,
    199: 104, 200: 103, 201: 132, 202: 55, 203: 76, 204: 133, 205: 187, 206: 133, 207: 123,
    208: 172, 209: 99, 210: 109, 211: 161, 212: 77, 213: 87, 214: 256, 215: 256, 216: 73,
    217: 164, 218: 207, 219: 210, 220: 200, 221: 233, 222: 239, 223: 182}
V4_L1_CLUSTER = {1: 1070, 2: 492, 3: 83, 5: 3713, 6: 548, 8: 33, 9: 1, 13: 691, 14: 878, 15: 433,
    16: 119, 18: 736, 19: 9, 20: 81, 23: 3464, 24: 2926, 25: 5, 27: 1776, 31: 2650, 34: 17,
    35: 116, 36: 337, 37: 3169, 39: 86, 40: 73, 41: 1885, 42: 465, 43: 2403, 45: 16666, 46: 4120,
    47: 447, 49: 1526, 50: 1139, 51: 444, 52: 995, 54: 496, 57: 122, 58: 663, 59: 285, 60: 199,
    61: 1039, 62: 2112, 63: 490, 64: 4099, 65: 1183, 66: 3849, 67: 2105, 68: 1533, 69: 3402,
    70: 556, 71: 1119, 72: 2193, 74: 2411, 75: 520, 76: 517, 77: 2231, 78: 1198, 79: 1144,
    80: 2110, 81: 1671, 82: 1231, 83: 1134, 84: 1105, 85: 2636, 86: 804, 87: 1224, 88: 1051,
    89: 3651, 90: 204, 91: 9155, 92: 1731, 93: 2199, 94: 3111, 95: 2002, 96: 1238, 97: 359,
    98: 655, 99: 373, 100: 154, 101: 973, 102: 2276, 103: 30541, 104: 3908, 105: 169, 106: 1534,
    107: 1844, 108: 1242, 109: 3265, 110: 1196, 111: 979, 112: 934, 113: 787, 114: 1050,
    115: 1539, 116: 1488, 117: 951, 118: 764, 119: 1108, 120: 427, 121: 478, 122: 1947, 123: 1195,
    124: 1013, 125: 651, 126: 10, 128: 864, 129: 771, 130: 860, 131: 1493, 132: 378, 133: 239,
    134: 1424, 135: 271, 136: 670, 137: 771, 138: 2386, 139: 1813, 140: 1239, 141: 1198, 142: 962,
    143: 1318, 144: 1171, 145: 362, 146: 1652, 147: 1420, 148: 1683, 149: 1212, 150: 921,
    151: 1406, 152: 897, 153: 480, 154: 1289, 155: 1323, 156: 1418, 157: 1163, 158: 1044,
    159: 1903, 160: 2313, 161: 1112, 162: 3275, 163: 1262, 164: 1216, 165: 1038, 166: 615,
    167: 1492, 168: 3077, 169: 910, 170: 3863, 171: 553, 172: 2563, 173: 3456, 174: 713, 175: 659,
    176: 3486, 177: 4007, 178: 3328, 179: 1857, 180: 1334, 181: 3362, 182: 1440, 183: 599,
    184: 470, 185: 26327, 186: 4214, 187: 3153, 188: 3499, 189: 2882, 190: 6129, 191: 1324,
    192: 11664, 193: 10314, 194: 8387, 195: 5766, 196: 1892, 197: 756, 198: 5650, 199: 6228,
    200: 5458, 201: 2844, 202: 8049, 203: 6718, 204: 3756, 205: 2401, 206: 2445, 207: 2042,
    208: 3611, 209: 3084, 210: 2317, 211: 883, 212: 3435, 213: 3254, 216: 4968, 217: 2755,
    218: 303, 219: 542, 220: 559, 221: 410, 222: 142, 223: 1539}
V4_CLUSTERS = (13148, 430830)
V4_CLUSTER_Q = (0.0305, 0.061, 0.1221, 0.1831, 0.3052, 0.5188, 0.7935, 1.1902, 1.77, 2.8076,
    3.418, 4.2115, 5.188, 6.2867, 7.5945, 7.8126)
V4_SUMMARY = {'n': 901899, 'covered_fraction': 0.5069,
    'depth_distribution': (0.4931, 0.3587, 0.1079, 0.029, 0.0072, 0.0026, 0.0014, 0.0, 0.0),
    'parent_fraction': 0.098, 'fanout_p50_p99_max': (2.0, 54.0, 4266),
    'root_cover_fraction': 0.713033, 'clusters_per_prefix': 0.01458,
    'root24_adjacent_fraction': 0.926, 'distinct_16_per_prefix': 0.039}
V6_LENGTH_DEPTH = {16: (1,), 19: (1,), 20: (16,), 21: (3,), 22: (7,), 23: (8,), 24: (27, 3),
    25: (7, 1), 26: (15,), 27: (18, 2), 28: (108, 85), 29: (4317, 50, 4), 30: (367, 280, 3),
    31: (154, 61, 69), 32: (16821, 5612, 106, 9), 33: (559, 2247, 111, 8, 1),
    34: (730, 827, 1030, 15, 1), 35: (394, 319, 70, 252, 8), 36: (2604, 2491, 371, 213, 301, 16),
    37: (217, 374, 231, 53, 4, 1), 38: (769, 484, 360, 3, 0, 0, 1), 39: (247, 436, 691, 1, 0, 2),
    40: (3183, 3719, 6307, 110, 79, 16, 4), 41: (423, 322, 121, 26, 11),
    42: (469, 776, 995, 55, 6), 43: (567, 218, 202, 6, 0, 8),
    44: (4059, 6209, 3217, 866, 12, 1, 1), 45: (285, 761, 488, 12, 5, 0, 2),
    46: (1421, 596, 808, 197, 9, 8), 47: (676, 1161, 983, 275, 42, 0, 16),
    48: (30575, 33151, 7936, 3397, 332, 94, 3), 49: (0, 11), 50: (0, 3), 52: (0, 1), 55: (0, 1),
    56: (1, 18, 3, 2), 58: (0, 20), 60: (2,), 64: (5, 101, 74, 4), 112: (0, 1, 1), 122: (0, 1),
    124: (0, 2, 1, 1), 125: (0, 3, 5, 1), 126: (0, 6, 13), 127: (0, 42), 128: (0, 6)}
V6_PARENTS = {16: (1, 0, 0), 19: (1, 1, 1), 20: (16, 9, 6048), 21: (3, 1, 3), 22: (7, 4, 120),
    23: (8, 4, 13), 24: (30, 8, 1270), 25: (8, 2, 5), 26: (15, 5, 16), 27: (20, 13, 243),
    28: (193, 50, 834), 29: (4371, 564, 10001), 30: (650, 113, 1775), 31: (284, 68, 494),
    32: (22548, 4085, 40130), 33: (2926, 837, 3588), 34: (2603, 351, 2260), 35: (1043, 287, 878),
    36: (5996, 592, 4836), 37: (880, 74, 565), 38: (1617, 183, 1481), 39: (1377, 205, 478),
    40: (13418, 928, 7382), 41: (903, 64, 210), 42: (2301, 172, 2191), 43: (1001, 336, 1027),
    44: (14365, 607, 2800), 45: (1553, 93, 385), 46: (3039, 310, 601), 47: (3153, 807, 1410),
    48: (75488, 24, 44), 49: (11, 0, 0), 50: (3, 0, 0), 52: (1, 0, 0), 55: (1, 0, 0),
    56: (24, 0, 0), 58: (20, 0, 0), 60: (2, 0, 0), 64: (184, 2, 2), 112: (2, 0, 0),
    122: (1, 0, 0), 124: (4, 0, 0), 125: (9, 0, 0), 126: (19, 0, 0), 127: (42, 0, 0),
    128: (6, 0, 0)}
V6_FANOUT_Q = (0.0045, 0.1018, 0.1553, 0.2036, 0.2448, 0.3771, 0.4666, 0.6538, 1.0316, 1.5269,
    2.8277, 5.657, 10.4705, 21.276, 66.767, 229.2431)
V6_L1_SHORT = {0: 811, 64: 2485, 96: 1931, 97: 37, 98: 10, 128: 6340, 160: 8657, 161: 1193,
    192: 406}
V6_L1_CLUSTER = {0: 5604, 4: 16, 64: 12242, 96: 8517, 97: 144, 98: 2043, 128: 5588, 160: 11973,
    161: 826, 192: 233}
V6_CLUSTERS = (5872, 47186)
V6_CLUSTER_Q = (0.1244, 0.1244, 0.1244, 0.1244, 0.1244, 0.2489, 0.2489, 0.4978, 0.7467, 1.4933,
    2.7378, 6.4711, 13.3877, 21.9021, 70.6035, 262.0784)
V6_SUMMARY = {'n': 160147, 'covered_fraction': 0.5688,
    'depth_distribution': (0.4312, 0.3772, 0.1511, 0.0344, 0.0051, 0.0009, 0.0002),
    'parent_fraction': 0.0674, 'fanout_p50_p99_max': (2.0, 103.0, 4096),
    'root_cover_fraction': 5.2e-05, 'clusters_per_prefix': 0.03667,
    'distinct_32_per_prefix': 0.2143}
V4_AS_PER_PREFIX = 0.0857
V4_P_CHILD_SAME_ORIGIN = 0.7397
V4_P_CLUSTER_MAJORITY = 0.4168
V4_TOP1PCT_AS_SHARE = 0.4318
V6_AS_PER_PREFIX = 0.3772
V6_P_CHILD_SAME_ORIGIN = 0.7281
V6_P_CLUSTER_MAJORITY = 0.6437
V6_TOP1PCT_AS_SHARE = 0.3046
AS_PATH_LEN_COUNTS = (92382, 209585, 169504, 59898, 25658, 9805, 4447, 2368, 1019, 505, 321, 377,
    502, 319, 353, 25, 30, 176, 31, 12, 7, 2, 57, 0, 1, 1, 0, 45, 13, 2, 0, 0, 29, 3, 0, 0, 0, 6,
    0, 0, 0, 1, 249, 2)
UPDATE_FILES_WITHDRAW_SHARE_DISPERSION = {'updates.20071015.1505': (0.0367, 919.2),
    'updates.20100722.2015': (0.0974, 90.4)}
# --- END MEASURED SHAPE ---

# ---------------------------------------------------------------------------
# Model parameters chosen (not measured). Changing any of them changes the
# output of registered datasets, which the append-only rule forbids: add a
# new generator version instead.
# ---------------------------------------------------------------------------
#: IPv4 tables up to this size use the real (length, depth) mix unchanged.
V4_SATURATION = 1_000_000
#: IPv6 uses one more copy of the real /12 block set per this many prefixes.
V6_BLOCK_SCALE = 2_000_000
#: probability that a packed item is accompanied by an empty hole of its size
HOLE_P = 0.25
#: exponent of the Zipf weights of the origin-AS pool (tuned so that the top
#: 1 % of ASes announce about the measured share of prefixes)
ZIPF_EXPONENT = 0.9
#: rounds of weighted assignment before an item is moved one level deeper
_MAX_ROUNDS = 12

_BOGONS_V4 = (("100.64.0.0", 10), ("169.254.0.0", 16), ("172.16.0.0", 12),
              ("192.0.0.0", 24), ("192.0.2.0", 24), ("192.88.99.0", 24),
              ("192.168.0.0", 16), ("198.18.0.0", 15), ("198.51.100.0", 24),
              ("203.0.113.0", 24))
_UNROUTABLE_V4_8 = frozenset([0, 10, 127] + list(range(224, 256)))
# IPv6 bogons inside 2000::/3, as (top 64 bits, length)
_BOGONS_V6 = ((0x20010DB800000000, 32), (0x3FFF000000000000, 20))

_U64 = np.uint64
_M64 = (1 << 64) - 1


# ---------------------------------------------------------------------------
# random helpers (only uniform doubles from PCG64 are used)
# ---------------------------------------------------------------------------
def _tag(t) -> int:
    if isinstance(t, str):
        return zlib.crc32(t.encode())
    return int(t) & 0xFFFFFFFF


def _rng(seed: int, *tags) -> np.random.Generator:
    """An independent stream for (seed, tags...)."""
    seed = int(seed)
    ent = [seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF] + [_tag(t) for t in tags]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(ent)))


def _check_seed(seed) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise InvalidParameter(f"seed must be a non-negative integer, not {seed!r}")
    if not 0 <= int(seed) < 2 ** 64:
        raise InvalidParameter("seed must be in [0, 2**64)")
    return int(seed)


def _randint(rng, n, m):
    """Integers uniform in [0, m) (m may be an array, each < 2**53)."""
    return np.floor(rng.random(n) * m).astype(np.int64)


def _rand_u64(rng, n):
    hi = np.floor(rng.random(n) * 4294967296.0).astype(np.uint64)
    lo = np.floor(rng.random(n) * 4294967296.0).astype(np.uint64)
    return (hi << _U64(32)) | lo


def _pick(rng, weights, m, ascending=False):
    """``m`` indices drawn with probability proportional to ``weights``.

    With ``ascending`` the draws are returned sorted (for exchangeable items).
    """
    c = np.cumsum(np.asarray(weights, np.float64))
    if m == 0 or len(c) == 0:
        return np.zeros(0, np.int64)
    u = rng.random(m)
    if ascending:
        u.sort()
    idx = np.searchsorted(c, u * c[-1], side="right")
    return np.minimum(idx, len(c) - 1).astype(np.int64)


def _mix64(x):
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic)."""
    x = np.asarray(x, _U64).copy()
    x ^= x >> _U64(30)
    x *= _U64(0xBF58476D1CE4E5B9)
    x ^= x >> _U64(27)
    x *= _U64(0x94D049BB133111EB)
    x ^= x >> _U64(31)
    return x


def _hash_uniform(x, salt: int):
    """Deterministic uniforms in [0, 1) from integer keys."""
    h = _mix64(np.asarray(x, np.int64).astype(_U64) ^ _U64(salt & _M64))
    return (h >> _U64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def _largest_remainder(weights, total: int):
    """Integer counts proportional to ``weights`` that sum to ``total``."""
    w = np.asarray(weights, np.float64)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(len(w), np.int64)
    exact = w * (total / w.sum())
    base = np.floor(exact).astype(np.int64)
    short = total - int(base.sum())
    if short > 0:
        order = np.argsort(-(exact - base), kind="stable")
        base[order[:short]] += 1
    return base


def _quantile_draw(u, q):
    return np.interp(u, QUANTILE_PROBS, q)


def _sort_order(*fields):
    """Permutation sorting by ``fields`` (major first; non-negative ints), ties by index.

    Packs the fields and the row index into one int64 key when they fit (a
    plain sort of unique keys is much faster than ``lexsort``).
    """
    n = len(fields[0])
    widths = [max(1, int(f.max()).bit_length()) if n else 1 for f in fields]
    iw = max(1, (n - 1).bit_length())
    if sum(widths) + iw > 63:
        return np.lexsort(tuple(reversed(fields)))
    key = np.zeros(n, np.int64)
    for f, w in zip(fields, widths):
        key = (key << np.int64(w)) | f.astype(np.int64)
    key = (key << np.int64(iw)) | np.arange(n, dtype=np.int64)
    key.sort()
    return key & np.int64((1 << iw) - 1)


def _lookup(sorted_arr, queries):
    """``searchsorted(sorted_arr, queries)`` with the queries visited in order."""
    q = np.asarray(queries)
    if len(q) < 4096:
        return np.searchsorted(sorted_arr, q)
    order = _sort_order(q) if q.min() >= 0 else np.argsort(q, kind="stable")
    out = np.empty(len(q), np.int64)
    out[order] = np.searchsorted(sorted_arr, q[order])
    return out


def _group_rank(keys_sorted):
    """Rank of each element within its run of equal keys (keys sorted)."""
    n = len(keys_sorted)
    if n == 0:
        return np.zeros(0, np.int64)
    first = np.empty(n, bool)
    first[0] = True
    first[1:] = keys_sorted[1:] != keys_sorted[:-1]
    ar = np.arange(n, dtype=np.int64)
    return ar - np.maximum.accumulate(np.where(first, ar, 0))


# ---------------------------------------------------------------------------
# family description
# ---------------------------------------------------------------------------
class _Shape(NamedTuple):
    family: int
    bits: int          # bits of the placement key (IPv4: 32, IPv6: top 64)
    full_bits: int     # 32 or 128
    clen: int          # cluster length
    l1len: int         # level-1 block length (in placement-key bits)
    cells: np.ndarray  # (ncell, 3) int64: length, depth, real count
    p_has: np.ndarray  # per length: P(prefix has >= 1 more-specific child)
    mean_children: np.ndarray  # per length: mean children of a parent
    fanout_q: tuple
    cluster_q: tuple
    clusters_per_root: float
    l1_short: dict
    l1_cluster: dict
    as_per_prefix: float
    p_child_same: float
    p_cluster_major: float


def _shape(family: int) -> _Shape:
    if family == 4:
        ld, par = V4_LENGTH_DEPTH, V4_PARENTS
        extra = (V4_FANOUT_Q, V4_CLUSTER_Q, V4_CLUSTERS[0] / V4_CLUSTERS[1], V4_L1_SHORT,
                 V4_L1_CLUSTER, V4_AS_PER_PREFIX, V4_P_CHILD_SAME_ORIGIN,
                 V4_P_CLUSTER_MAJORITY)
        bits, full, clen, l1 = 32, 32, 16, 8
    elif family == 6:
        ld, par = V6_LENGTH_DEPTH, V6_PARENTS
        extra = (V6_FANOUT_Q, V6_CLUSTER_Q, V6_CLUSTERS[0] / V6_CLUSTERS[1], V6_L1_SHORT,
                 V6_L1_CLUSTER, V6_AS_PER_PREFIX, V6_P_CHILD_SAME_ORIGIN,
                 V6_P_CLUSTER_MAJORITY)
        bits, full, clen, l1 = 64, 128, 32, 12
    else:
        raise InvalidParameter(f"family must be 4 or 6, not {family!r}")
    cells = np.array([(L, d, c) for L, cs in ld.items() for d, c in enumerate(cs) if c],
                     np.int64)
    p_has = np.zeros(full + 1)
    mean_ch = np.zeros(full + 1)
    for L, (cnt, parents, children) in par.items():
        if cnt:
            p_has[L] = parents / cnt
        if parents:
            mean_ch[L] = children / parents
    return _Shape(family, bits, full, clen, l1, cells, p_has, mean_ch, *extra)


# ---------------------------------------------------------------------------
# exact buddy packing
# ---------------------------------------------------------------------------
def _assign(rng, item_plen, host_plen, remaining, host_w, bits, strict):
    """Assign items to hosts by weight, respecting capacity.

    Items are handled by length, shortest (largest) first; an item of length
    ``L`` may go to hosts shorter than ``L`` (``strict``) or not longer.
    ``remaining`` (host free space in placement-key units, float64, exact for
    powers of two) is updated in place. Returns the host of each item, -1 where
    no host had room after ``_MAX_ROUNDS`` rounds.
    """
    m = len(item_plen)
    out = np.full(m, -1, np.int64)
    if m == 0 or len(host_plen) == 0:
        return out
    horder = np.argsort(host_plen, kind="stable")
    hplen = host_plen[horder]
    cum = np.cumsum(host_w[horder].astype(np.float64))
    for L in np.flatnonzero(np.bincount(item_plen)):
        todo = np.flatnonzero(item_plen == L)
        size = float(2 ** (bits - int(L)))
        e = int(np.searchsorted(hplen, L, side="left" if strict else "right"))
        if e == 0:
            continue
        # first try the weights as they are (no O(hosts) work per length); once
        # full hosts reject many draws, re-weight over the hosts with room
        static = cum[e - 1] > 0
        for _ in range(_MAX_ROUNDS):
            if len(todo) == 0:
                break
            if static:
                u = rng.random(len(todo))
                u.sort()
                j = np.minimum(np.searchsorted(cum[:e], u * cum[e - 1], side="right"), e - 1)
                choice = horder[j]
                grp = j
            else:
                cand = horder[:e]
                cand = cand[remaining[cand] >= size]
                if len(cand) == 0:
                    break
                w = host_w[cand]
                if not (w > 0).any():
                    w = remaining[cand]
                grp = _pick(rng, w, len(todo), ascending=True)
                choice = cand[grp]
            ok = _group_rank(grp) < np.floor(remaining[choice] / size)
            out[todo[ok]] = choice[ok]
            np.subtract.at(remaining, choice[ok], size)
            if static and ok.sum() < 0.75 * len(todo):
                static = False
            todo = todo[~ok]
    return out


def _tree_flip(off, host_bits, item_bits, salt):
    """Apply a seeded random automorphism of each host's binary tree.

    For every internal node of the host's tree a hash decides whether its two
    halves are swapped; aligned disjoint blocks stay aligned and disjoint.
    """
    off = off.astype(_U64)
    if len(off) == 0:
        return off.astype(np.int64)
    salt = salt.astype(_U64)
    for b in range(int(host_bits.max()) - 1, int(item_bits.min()) - 1, -1):
        idx = np.flatnonzero((host_bits > b) & (item_bits <= b))
        if len(idx) == 0:
            continue
        node = off[idx] >> _U64(b + 1)
        level = _U64((b * 0xD6E8FEB86659FD93) & _M64)
        h = _mix64(salt[idx] ^ (node * _U64(0x9E3779B97F4A7C15)) ^ level)
        off[idx] ^= (h >> _U64(63)) << _U64(b)
    return off.astype(np.int64)


def _pack(rng, item_host, item_plen, host_start, host_plen, bits):
    """Positions of items packed into their hosts (largest first, then scattered)."""
    m = len(item_host)
    if m == 0:
        return np.zeros(0, np.int64)
    order = _sort_order(item_host, item_plen, _randint(rng, m, 256))
    h = item_host[order]
    sizes = np.left_shift(np.int64(1), (bits - item_plen[order]).astype(np.int64))
    cs = np.cumsum(sizes) - sizes
    first = np.empty(m, bool)
    first[0] = True
    first[1:] = h[1:] != h[:-1]
    off = cs - np.maximum.accumulate(np.where(first, cs, 0))
    salt0 = int(_rand_u64(rng, 1)[0])
    salt = _mix64(h.astype(_U64) ^ _U64(salt0))
    off = _tree_flip(off, (bits - host_plen[h]).astype(np.int64),
                     (bits - item_plen[order]).astype(np.int64), salt)
    pos = np.empty(m, np.int64)
    pos[order] = host_start[h] + off
    return pos


def _place(rng, item_plen, host_start, host_plen, host_w, bits, strict, holes):
    """Assign and pack items (with optional holes); returns (pos, host), -1 if unplaced."""
    remaining = np.ldexp(1.0, (bits - host_plen).astype(np.int64))
    host = _assign(rng, item_plen, host_plen, remaining, host_w, bits, strict)
    placed = host >= 0
    pos = np.full(len(item_plen), -1, np.int64)
    if holes:
        hole_len = item_plen[placed & (rng.random(len(item_plen)) < HOLE_P)]
        hole_host = _assign(rng, hole_len, host_plen, remaining, host_w, bits, strict)
        hole_len = hole_len[hole_host >= 0]
        hole_host = hole_host[hole_host >= 0]
    else:
        hole_len = hole_host = np.zeros(0, np.int64)
    all_host = np.concatenate([host[placed], hole_host])
    all_len = np.concatenate([item_plen[placed], hole_len])
    p = _pack(rng, all_host, all_len, host_start, host_plen, bits)
    pos[placed] = p[: int(placed.sum())]
    return pos, host


# ---------------------------------------------------------------------------
# level-1 blocks
# ---------------------------------------------------------------------------
def _v4_int(a: str) -> int:
    b = [int(x) for x in a.split(".")]
    return (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]


def _block_minus(start, plen, holes, bits):
    """Maximal aligned blocks of (start, plen) that avoid every hole."""
    end = start + (1 << (bits - plen))
    inside = [(s, l) for s, l in holes if s < end and s + (1 << (bits - l)) > start]
    if not inside:
        return [(start, plen)]
    for s, l in inside:
        if s <= start and s + (1 << (bits - l)) >= end:
            return []
    half = 1 << (bits - plen - 1)
    return (_block_minus(start, plen + 1, inside, bits)
            + _block_minus(start + half, plen + 1, inside, bits))


def _l1_hosts(shape: _Shape, n: int):
    """Level-1 blocks: (start, plen, weight of short roots, weight of clusters)."""
    bits, l1 = shape.bits, shape.l1len
    if shape.family == 4:
        holes = [(_v4_int(a), l) for a, l in _BOGONS_V4]
        blocks = [(b, b) for b in range(256) if b not in _UNROUTABLE_V4_8]
        base = 0
    else:
        holes = list(_BOGONS_V6)
        real = sorted(set(shape.l1_short) | set(shape.l1_cluster))
        blocks = [(b, b) for b in real]
        copies = max(1, math.ceil(n / V6_BLOCK_SCALE))
        if copies > 1:
            free = [b for b in range(512) if b not in set(real)]
            free.sort(key=lambda b: int(_mix64(np.array([b], np.int64).astype(_U64))[0]))
            need = (copies - 1) * len(real)
            if need > len(free):
                raise InvalidParameter(f"IPv6 table of {n} prefixes is larger than supported")
            blocks += [(free[j], real[j % len(real)]) for j in range(need)]
        base = 0x2000000000000000
    starts, plens, ws, wc = [], [], [], []
    for blk, like in blocks:
        s0 = base + (blk << (bits - l1))
        w_s = shape.l1_short.get(like, 0)
        w_c = shape.l1_cluster.get(like, 0)
        if not (w_s or w_c):
            continue
        for s, l in _block_minus(s0, l1, holes, bits):
            frac = 2.0 ** (l1 - l)
            starts.append(s)
            plens.append(l)
            ws.append(w_s * frac)
            wc.append(w_c * frac)
    return (np.array(starts, np.int64), np.array(plens, np.int64),
            np.array(ws, np.float64), np.array(wc, np.float64))


# ---------------------------------------------------------------------------
# origin AS numbers
# ---------------------------------------------------------------------------
def _asn_pool(rng, m):
    """``m`` distinct public AS numbers (16-bit and 32-bit ranges)."""
    hi = max(401308, 131072 + 3 * m)
    lo_n = 64495 - 1            # 1..64495 without 23456 (AS_TRANS)
    total = lo_n + (hi - 131072 + 1)
    got = np.zeros(0, np.int64)
    while len(got) < m:
        v = _randint(rng, 2 * m + 16, total)
        v = np.where(v < 23455, v + 1, np.where(v < lo_n, v + 2, v - lo_n + 131072))
        v = np.concatenate([got, v])
        order = np.argsort(v, kind="stable")
        first = np.ones(len(v), bool)
        sv = v[order]
        first[order[1:]] = sv[1:] != sv[:-1]
        got = v[np.sort(np.flatnonzero(first))]
    return got[:m].astype(np.uint32)


class _Origins:
    def __init__(self, rng, n, shape):
        m = max(16, int(round(n * shape.as_per_prefix)))
        self.pool = _asn_pool(rng, m)
        self.cw = np.arange(1, m + 1, dtype=np.float64) ** -ZIPF_EXPONENT
        self.rng = rng

    def fresh(self, k):
        return self.pool[_pick(self.rng, self.cw, k)]

    def inherit(self, parent_as, p_same):
        k = len(parent_as)
        keep = self.rng.random(k) < p_same
        return np.where(keep, parent_as, self.fresh(k)).astype(np.uint32)


# ---------------------------------------------------------------------------
# full tables
# ---------------------------------------------------------------------------
def _plan_counts(shape: _Shape, n: int):
    """(length, depth) -> count for ``n`` prefixes (largest remainder).

    For small ``n`` a cell whose prefixes could have no host (no prefix one
    level up is shorter) is moved one level up.
    """
    L, D = shape.cells[:, 0], shape.cells[:, 1]
    cnt = _largest_remainder(shape.cells[:, 2], n)
    index = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(L, D))}
    for _ in range(int(D.max()) + 1):
        moved = False
        for i in np.flatnonzero((D > 0) & (cnt > 0)):
            up = (D == D[i] - 1) & (cnt > 0) & (L < L[i])
            if not up.any():
                j = index.get((int(L[i]), int(D[i]) - 1))
                if j is None:
                    j = len(L)
                    L, D = np.append(L, L[i]), np.append(D, D[i] - 1)
                    cnt = np.append(cnt, 0)
                    index[(int(L[i]), int(D[i]) - 1)] = j
                cnt[j] += cnt[i]
                cnt[i] = 0
                moved = True
        if not moved:
            break
    return L, D, cnt


def _extra_lengths(shape, m, roots_pos, roots_plen, existing_len):
    """Counts per length of ``m`` extra more-specifics (longer than the cluster length)."""
    bits = shape.bits
    L = shape.cells[:, 0]
    w = np.bincount(L, weights=shape.cells[:, 2], minlength=shape.full_bits + 1)
    w[: shape.clen + 1] = 0
    if shape.family == 6:
        w[65:] = 0
    want = _largest_remainder(w, m)
    if shape.family != 4:
        return want
    have = np.bincount(existing_len, minlength=33)
    carry = 0
    for length in range(shape.clen + 1, 33):
        want[length] += carry
        carry = 0
        if length > 24:
            continue
        el = roots_plen < length
        slots = int(np.sum(np.left_shift(np.int64(1), length - roots_plen[el])))
        cap = max(0, (slots - int(have[length])) // 2)
        if want[length] > cap:
            carry = int(want[length]) - cap
            want[length] = cap
    if carry:
        want[24] += carry
    return want


def _add_extras(rng, shape, want, roots_pos, roots_plen, pos_list, len_list):
    """Place extra more-specifics uniformly inside the roots, avoiding duplicates.

    ``want[L]`` prefixes of each length; returns (pos, len, host root index).
    """
    bits = shape.bits
    out_pos, out_len = [], []
    carry = 0
    all_pos = np.concatenate(pos_list) if pos_list else np.zeros(0, np.int64)
    all_len = np.concatenate(len_list) if len_list else np.zeros(0, np.int64)
    maxlen = 32 if shape.family == 4 else 64
    for length in range(1, maxlen + 1):
        need = int(want[length]) + carry if length < len(want) else carry
        carry = 0
        if need == 0:
            continue
        el = np.flatnonzero(roots_plen < length)
        if len(el) == 0:
            carry = need
            continue
        w = np.ldexp(1.0, (bits - roots_plen[el]).astype(np.int64))
        span = np.left_shift(np.int64(1), (length - roots_plen[el]).astype(np.int64))
        shift = bits - length
        existing = all_pos[all_len == length]
        use_bitmap = shape.family == 4 and length <= 24
        if use_bitmap:
            bm = np.zeros(1 << length, np.uint8)
            bm[existing >> shift] = 1
        else:
            taken = np.sort(existing)
        new = []
        got = 0
        for _ in range(64):
            k = need - got
            if k == 0:
                break
            r = _pick(rng, w, k)
            p = roots_pos[el[r]] + (_randint(rng, k, span[r].astype(np.float64)) << shift)
            if use_bitmap:
                slot = p >> shift
                slot = slot[bm[slot] == 0]
                bm[slot] = 2
                acc = np.flatnonzero(bm == 2)
                bm[acc] = 1
                acc = acc.astype(np.int64) << shift
            else:
                p = np.sort(p)
                keep = np.ones(len(p), bool)
                keep[1:] = p[1:] != p[:-1]
                p = p[keep]
                i = np.searchsorted(taken, p)
                i = np.minimum(i, max(len(taken) - 1, 0))
                dup = (taken[i] == p) if len(taken) else np.zeros(len(p), bool)
                acc = p[~dup]
                taken = np.sort(np.concatenate([taken, acc]))
            new.append(acc)
            got += len(acc)
        carry = need - got
        if new:
            out_pos.append(np.concatenate(new))
            out_len.append(np.full(got, length, np.int64))
    if not out_pos:
        z = np.zeros(0, np.int64)
        return z, z, z, carry
    pos = np.concatenate(out_pos)
    plen = np.concatenate(out_len)
    order = np.argsort(roots_pos, kind="stable")
    host = order[np.searchsorted(roots_pos[order], pos, side="right") - 1]
    return pos, plen, host, carry


def _add_roots(rng, lengths, h_start, h_plen, h_w, roots_pos, roots_plen, bits):
    """Last resort for tiny tables: extra roots at free places of the level-1 blocks.

    Rejection sampling against the existing (disjoint) roots; returns positions.
    """
    out = np.full(len(lengths), -1, np.int64)
    r_s = np.asarray(roots_pos, np.int64)
    r_e = r_s + np.left_shift(np.int64(1), (bits - np.asarray(roots_plen, np.int64)))
    for L in np.flatnonzero(np.bincount(lengths)) if len(lengths) else []:
        todo = np.flatnonzero(lengths == L)
        el = np.flatnonzero(h_plen <= L)
        for _ in range(200):
            if len(todo) == 0 or len(el) == 0:
                break
            h = el[_pick(rng, h_w[el] + 1e-9, len(todo))]
            span = np.ldexp(1.0, (L - h_plen[h]).astype(np.int64))
            c = h_start[h] + (_randint(rng, len(todo), span) << np.int64(bits - L))
            order = np.argsort(r_s, kind="stable")
            ss, ee = r_s[order], r_e[order]
            i = np.searchsorted(ss, c + (np.int64(1) << np.int64(bits - L))) - 1
            clash = (i >= 0) & (ee[np.maximum(i, 0)] > c) if len(ss) else np.zeros(len(c), bool)
            first = np.ones(len(c), bool)
            o = np.argsort(c, kind="stable")
            first[o[1:]] = c[o[1:]] != c[o[:-1]]
            ok = ~clash & first
            out[todo[ok]] = c[ok]
            r_s = np.concatenate([r_s, c[ok]])
            r_e = np.concatenate([r_e, c[ok] + (np.int64(1) << np.int64(bits - L))])
            todo = todo[~ok]
        if len(todo):
            raise InvalidParameter("address space exhausted: table too large for this family")
    return out


def full_table(n: int, family: int = 4, seed: int = 0) -> RouteColumns:
    """A full routing table of ``n`` unique prefixes shaped like the real one.

    Parameters
    ----------
    n : int
        Number of prefixes (0 ... 50,000,000).
    family : {4, 6}
        Address family.
    seed : int
        Seed; the output is a deterministic function of ``(n, family, seed)``.

    Returns
    -------
    RouteColumns
        Columns ``family`` (uint8), ``addr_hi``/``addr_lo`` (uint64; IPv4 in
        ``addr_lo``), ``length`` (uint8) and ``origin_as`` (uint32), one row per
        prefix, sorted by address then length (like a table dump: a covering
        prefix precedes its more-specifics). Host bits are zero and no prefix
        repeats. ``meta`` records the generator arguments.

    Notes
    -----
    The shape (prefix-length histogram, depth of nesting of more-specifics per
    length, fan-out of deaggregating parents, allocation-block weights,
    clustering of small roots, origin-AS structure) is the one measured from
    the real table; see the module docstring for the model and for what
    changes above :data:`V4_SATURATION` IPv4 prefixes.

    Examples
    --------
    >>> t = full_table(10_000, family=4, seed=1)
    >>> t.n_rows, int((t["length"] == 24).mean() * 100)
    (10000, 59)
    """
    seed = _check_seed(seed)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n <= 50_000_000:
        raise InvalidParameter(f"n must be an integer in [0, 50000000], not {n!r}")
    n = int(n)
    shape = _shape(family)
    bits = shape.bits
    n_base = min(n, V4_SATURATION) if family == 4 else n

    # -- plan ------------------------------------------------------------
    c_len, c_depth, c_cnt = _plan_counts(shape, n_base)

    def items(depth_sel, cond):
        m = (c_depth == depth_sel) & cond & (c_cnt > 0)
        return np.repeat(c_len[m], c_cnt[m])

    rng = _rng(seed, "full", family)
    # placed prefixes, in chunks: position (IPv4 address / IPv6 top 64 bits),
    # length, placement length (IPv6 longer than /64 take a /64 slot), depth
    # (-1: added beyond the structured model) and origin AS
    pos_l, len_l, plen_l, dep_l, as_l = [], [], [], [], []
    total = 0
    origins = _Origins(_rng(seed, "asn", family), n, shape)

    def add(pos, true_len, depth, asn):
        nonlocal total
        pos_l.append(pos)
        len_l.append(true_len)
        plen_l.append(np.minimum(true_len, bits))
        dep_l.append(np.full(len(pos), depth, np.int64))
        as_l.append(asn)
        total += len(pos)

    # -- 1. allocation blocks: short roots and clusters ---------------------
    h_start, h_plen, h_ws, h_wc = _l1_hosts(shape, n)
    short = items(0, c_len <= shape.clen)
    long_ = items(0, c_len > shape.clen)
    n_clu = 0
    if len(long_):
        n_clu = max(1, int(round(len(long_) * shape.clusters_per_root)))
    remaining = np.ldexp(1.0, (bits - h_plen).astype(np.int64))
    s_host = _assign(rng, short, h_plen, remaining, h_ws, bits, strict=False)
    c_host = _assign(rng, np.full(n_clu, shape.clen, np.int64), h_plen, remaining, h_wc,
                     bits, strict=False)
    ok_s, ok_c = s_host >= 0, c_host >= 0
    p = _pack(rng, np.concatenate([s_host[ok_s], c_host[ok_c]]),
              np.concatenate([short[ok_s], np.full(int(ok_c.sum()), shape.clen, np.int64)]),
              h_start, h_plen, bits)
    n_s = int(ok_s.sum())
    short = short[ok_s]
    add(p[:n_s], short, 0, origins.fresh(n_s))
    clu_pos = p[n_s:]
    clu_as = origins.fresh(len(clu_pos))

    # -- 2. small roots inside clusters --------------------------------------
    if len(clu_pos) and len(long_):
        cw = _quantile_draw(rng.random(len(clu_pos)), shape.cluster_q)
        cpl = np.full(len(clu_pos), shape.clen, np.int64)
        pos, host = _place(rng, np.minimum(long_, bits), clu_pos, cpl, cw, bits, True, True)
        ok = host >= 0
        asn = np.where(rng.random(int(ok.sum())) < shape.p_cluster_major, clu_as[host[ok]],
                       origins.fresh(int(ok.sum())))
        add(pos[ok], long_[ok], 0, asn.astype(np.uint32))

    # -- 3. more-specifics, depth by depth -----------------------------------
    carry = np.zeros(0, np.int64)
    max_depth = int(c_depth.max()) if len(c_depth) else 0
    d = 1
    while d <= max_depth or len(carry):
        if d > max_depth + 4:
            break
        hosts = [i for i in range(len(pos_l)) if dep_l[i][0:1].size and dep_l[i][0] == d - 1]
        if not hosts:
            break
        hp = np.concatenate([pos_l[i] for i in hosts])
        hl = np.concatenate([plen_l[i] for i in hosts])
        hL = np.concatenate([len_l[i] for i in hosts])
        ha = np.concatenate([as_l[i] for i in hosts])
        mark = rng.random(len(hp)) < shape.p_has[hL]
        hw = mark * shape.mean_children[hL] * _quantile_draw(rng.random(len(hp)),
                                                             shape.fanout_q)
        want = np.concatenate([items(d, np.ones(len(c_len), bool)), carry])
        if len(want) == 0:
            d += 1
            continue
        pos, host = _place(rng, np.minimum(want, bits), hp, hl, hw, bits, True, True)
        ok = host >= 0
        add(pos[ok], want[ok], d, origins.inherit(ha[host[ok]], shape.p_child_same))
        carry = want[~ok]
        d += 1

    # -- 4. extras: beyond saturation, and any item that found no room --------
    n_structured = total
    missing = n - total
    if missing > 0:
        all_pos = np.concatenate(pos_l) if pos_l else np.zeros(0, np.int64)
        all_len = np.concatenate(len_l) if len_l else np.zeros(0, np.int64)
        all_dep = np.concatenate(dep_l) if dep_l else np.zeros(0, np.int64)
        all_as = np.concatenate(as_l) if as_l else np.zeros(0, np.uint32)
        root = np.flatnonzero(all_dep == 0)
        r_pos, r_plen = all_pos[root], np.minimum(all_len[root], bits)
        want = _extra_lengths(shape, missing, r_pos, r_plen, all_len)
        xpos, xlen, xhost, left = _add_extras(rng, shape, want, r_pos, r_plen, [all_pos],
                                              [all_len])
        add(xpos, xlen, -1, origins.inherit(all_as[root[xhost]], shape.p_child_same))
        if left:  # only for tiny tables: nothing long enough to nest in
            rl = np.full(left, 24 if family == 4 else 48, np.int64)
            add(_add_roots(rng, rl, h_start, h_plen, h_ws, r_pos, r_plen, bits), rl, 0,
                origins.fresh(left))

    pos = np.concatenate(pos_l)
    length = np.concatenate(len_l)
    asn = np.concatenate(as_l).astype(np.uint32)
    if len(pos) != n:  # pragma: no cover - guarded by the model
        raise RuntimeError(f"generated {len(pos)} prefixes, wanted {n}")

    # -- assemble, sorted by address then length --------------------------------
    cols: dict[str, np.ndarray]
    if family == 4:
        key = (pos.astype(_U64) << _U64(32)) | (length.astype(_U64) << _U64(26)) \
            | np.arange(n, dtype=_U64)
        if n >= 1 << 26:
            order = np.lexsort((length, pos))
        else:
            order = (np.sort(key) & _U64((1 << 26) - 1)).astype(np.int64)
        cols = dict(family=np.full(n, 4, np.uint8), addr_hi=np.zeros(n, _U64),
                    addr_lo=pos[order].astype(_U64), length=length[order].astype(np.uint8),
                    origin_as=asn[order])
    else:
        lo = np.zeros(n, _U64)
        longm = np.flatnonzero(length > 64)
        if len(longm):
            r = _rand_u64(_rng(seed, "lo", family), len(longm))
            sh = (128 - length[longm]).astype(_U64)
            lo[longm] = (r >> sh) << sh
        order = np.lexsort((length, lo, pos))
        cols = dict(family=np.full(n, 6, np.uint8), addr_hi=pos[order].astype(_U64),
                    addr_lo=lo[order], length=length[order].astype(np.uint8),
                    origin_as=asn[order])
    meta = dict(generator="full_table", n=n, family=family, seed=seed,
                n_structured=n_structured, n_extra=n - n_structured)
    return RouteColumns(cols, meta)


def shuffle(table: RouteColumns, seed: int = 0) -> RouteColumns:
    """The rows of ``table`` in a seeded random order.

    Parameters
    ----------
    table : RouteColumns
    seed : int

    Returns
    -------
    RouteColumns
        Same columns, rows permuted; ``meta["shuffled_seed"]`` records the seed.
    """
    seed = _check_seed(seed)
    order = np.argsort(_rng(seed, "shuffle").random(table.n_rows), kind="stable")
    out = table.take(order)
    out.meta["shuffled_seed"] = seed
    return out


# ---------------------------------------------------------------------------
# peers' views
# ---------------------------------------------------------------------------
#: IPv4 next hops come from 198.18.0.0/15 (RFC 2544 benchmarking space):
#: peer p uses 198.18.0.0 + p + 1; its alternate next hop is 198.19.0.0 + p + 1.
NEXT_HOP_V4 = (0xC6120000, 0xC6130000)
#: IPv6 next hops come from 2001:db8::/32 (documentation space): peer p uses
#: 2001:db8::(p + 1); its alternate next hop is 2001:db8:0:1::(p + 1).
NEXT_HOP_V6 = ((0x20010DB800000000, 0), (0x20010DB800000001, 0))

#: share of the visibility decision taken by a per-prefix "reach" shared by all
#: peers (the rest is per peer), so the prefixes a peer misses overlap
_SHARED_VISIBILITY = 0.5
#: path-length offset of a peer (its distance from the collector's side of the
#: Internet): 0, 1 or 2 hops with these probabilities
_PEER_OFFSET_P = (0.5, 0.85)
#: per-route path-length noise -1/0/+1/+2 (cumulative probabilities)
_ROUTE_NOISE_P = (0.15, 0.75, 0.95)
#: share of a peer's routes whose local preference differs from 100
_LOCAL_PREF_POLICY = 0.04
#: a peer's IGP cost (added to the metric); most peers are equally close
_IGP_COSTS = np.array([0, 0, 0, 5, 10], np.int64)
_MED_VALUES = np.array([0, 0, 0, 10, 20, 50, 100, 200, 500, 1000], np.int64)


class _Peers(NamedTuple):
    coverage: np.ndarray
    offset: np.ndarray
    igp: np.ndarray
    sends_med: np.ndarray
    peer_as: np.ndarray


def _peer_params(k, seed, coverage):
    lo, hi = coverage
    u = np.array([_rng(seed, "peer-params", p).random(5) for p in range(k)]).reshape(k, 5)
    cov = lo + (hi - lo) * u[:, 0]
    off = np.searchsorted(np.array(_PEER_OFFSET_P), u[:, 1], side="right")
    igp = _IGP_COSTS[np.floor(u[:, 2] * len(_IGP_COSTS)).astype(np.int64)]
    med = u[:, 3] < 0.5
    asn = np.floor(u[:, 4] * 64494).astype(np.int64) + 1
    asn = np.where(asn >= 23456, asn + 1, asn).astype(np.uint32)
    return _Peers(cov, off.astype(np.int64), igp, med, asn)


def _path_base(table, seed):
    """Per-prefix base AS-path length (shared by all peers): one per origin AS."""
    n = table.n_rows
    if "origin_as" in table:
        u = _hash_uniform(np.asarray(table["origin_as"], np.int64), 0x5DEECE66D ^ seed)
    else:
        u = _rng(seed, "path-base").random(n)
    counts = np.asarray(AS_PATH_LEN_COUNTS, np.float64)
    cdf = np.cumsum(counts) / counts.sum()
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1) + 1


def _next_hops(family, peer, alternate=None):
    """Next-hop (hi, lo) per row for the rows' families and peers."""
    peer = np.asarray(peer, np.int64)
    family = np.asarray(family)
    sel = np.zeros(len(peer), np.int64) if alternate is None else \
        np.asarray(alternate, bool).astype(np.int64)
    lo = peer.astype(_U64) + _U64(1)
    v4 = np.array(NEXT_HOP_V4, _U64)
    v6 = np.array([NEXT_HOP_V6[0][0], NEXT_HOP_V6[1][0]], _U64)
    is6 = family == 6
    if not is6.any():
        return np.zeros(len(peer), _U64), lo + v4[sel]
    if is6.all():
        return v6[sel], lo
    hi = np.where(is6, v6[sel], _U64(0)).astype(_U64)
    return hi, np.where(is6, lo, lo + v4[sel]).astype(_U64)


def _route_attrs(rng, base_len, peers, peer, idx):
    """Attributes (as_path_len, metric, local_pref, med) of routes (peer[i], idx[i]).

    ``peer`` is an array, or an int when all routes are from one peer.
    """
    m = len(idx)
    u = rng.random((4, m))
    noise = (u[0] >= _ROUTE_NOISE_P[0]).astype(np.int64)
    noise += u[0] >= _ROUTE_NOISE_P[1]
    noise += u[0] >= _ROUTE_NOISE_P[2]
    noise -= 1
    apl = base_len[idx] + noise
    apl += peers.offset[peer]
    np.clip(apl, 1, 65535, out=apl)
    metric = (10 * apl + peers.igp[peer]).astype(np.uint32)
    lp = np.full(m, 100, np.int64)
    pol = np.flatnonzero(u[1] < _LOCAL_PREF_POLICY)
    lp[pol] = np.where(u[2][pol] < 0.5, 90, 120)
    med_v = _MED_VALUES[np.minimum((u[3] * len(_MED_VALUES)).astype(np.int64),
                                   len(_MED_VALUES) - 1)]
    med = np.where(peers.sends_med[peer], med_v, -1).astype(np.int64)
    return apl.astype(np.uint16), metric, lp, med


def _check_table(table):
    if not isinstance(table, RouteColumns):
        raise InvalidParameter("table must be a RouteColumns")


def _check_k(k):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= 65535:
        raise InvalidParameter(f"k must be an integer in [1, 65535], not {k!r}")
    return int(k)


def _check_coverage(coverage):
    try:
        lo, hi = (float(x) for x in coverage)
    except (TypeError, ValueError):
        raise InvalidParameter("coverage must be a pair (low, high)") from None
    if not 0.0 < lo <= hi <= 1.0:
        raise InvalidParameter("coverage must satisfy 0 < low <= high <= 1")
    return lo, hi


def peer_views(table: RouteColumns, k: int, seed: int = 0,
               coverage: tuple[float, float] = (0.9, 1.0)) -> RouteColumns:
    """``k`` peers' views of ``table``, as eBGP full feeds would show them.

    Parameters
    ----------
    table : RouteColumns
        The prefixes (e.g. from :func:`full_table`; any families).
    k : int
        Number of peers (1 ... 65535).
    seed : int
        Seed; the view of peer ``p`` depends only on ``(table, seed, p, coverage)``.
    coverage : (float, float)
        Each peer sees a fraction of the prefixes drawn uniformly from this
        range. Half of the decision is a per-prefix reach shared by all peers,
        so the prefixes a peer misses overlap with what other peers miss.

    Returns
    -------
    RouteColumns
        One row per (peer, visible prefix), grouped by peer (peer 0's view,
        then peer 1's, ...) and by ``prefix_index`` within a peer. Columns:

        ==========================  ======  =====================================
        ``family``, ``addr_hi``,    ...     copied from ``table[prefix_index]``
        ``addr_lo``, ``length``
        ``peer``                    uint16  0 ... k-1
        ``prefix_index``            uint32  row of ``table``
        ``next_hop_hi/lo``          uint64  the peer's next hop (one per peer and
                                            family, see :data:`NEXT_HOP_V4`)
        ``as_path_len``             uint16  AS-path length (prepends counted):
                                            a per-origin-AS base drawn from the
                                            measured distribution + a per-peer
                                            offset (0-2) + per-route noise
        ``metric``                  uint32  ``10 * as_path_len + igp_cost(peer)``
                                            (igp cost 0 for 3/5 of peers, else 5
                                            or 10): peers disagree and ties
                                            between peers happen
        ``preference``              uint32  equal to ``local_pref``
        ``local_pref``              int64   100, or 90/120 on ~4 % of routes
        ``med``                     int64   -1 (absent) unless the peer sends
                                            MEDs (half of peers): 0-1000
        ``peer_as``                 uint32  the neighbour AS of the peer
        ==========================  ======  =====================================

        ``meta["peers"]`` lists each peer's AS, next hop, coverage and igp cost.
    """
    _check_table(table)
    k = _check_k(k)
    seed = _check_seed(seed)
    lo, hi = _check_coverage(coverage)
    n = table.n_rows
    peers = _peer_params(k, seed, (lo, hi))
    reach = _rng(seed, "reach").random(n)
    base_len = _path_base(table, seed)
    parts = []
    for p in range(k):
        rng = _rng(seed, "peer", p)
        u = rng.random((2, n))
        score = np.where(u[0] < _SHARED_VISIBILITY, reach, u[1])
        idx = np.flatnonzero(score < peers.coverage[p])
        parts.append((idx, np.full(len(idx), p, np.uint16))
                     + _route_attrs(rng, base_len, peers, p, idx))
    idx, peer, apl, metric, lp, med = (
        np.concatenate([q[i] for q in parts]) for i in range(6))
    fam = np.asarray(table["family"])[idx]
    nh_hi, nh_lo = _next_hops(fam, peer)
    cols = dict(
        family=fam, addr_hi=np.asarray(table["addr_hi"])[idx],
        addr_lo=np.asarray(table["addr_lo"])[idx], length=np.asarray(table["length"])[idx],
        peer=peer, prefix_index=idx.astype(np.uint32),
        next_hop_hi=nh_hi, next_hop_lo=nh_lo, metric=metric,
        preference=lp.astype(np.uint32), as_path_len=apl,
        med=med, local_pref=lp, peer_as=peers.peer_as[peer],
    )
    meta = dict(generator="peer_views", k=k, seed=seed, coverage=[lo, hi], n_prefixes=n,
                peers=[dict(peer=p, peer_as=int(peers.peer_as[p]),
                            coverage=round(float(peers.coverage[p]), 6),
                            igp_cost=int(peers.igp[p]), path_offset=int(peers.offset[p]),
                            sends_med=bool(peers.sends_med[p]),
                            next_hop_v4=str(ipaddress.IPv4Address(NEXT_HOP_V4[0] + p + 1)),
                            next_hop_v6=str(ipaddress.IPv6Address(
                                (NEXT_HOP_V6[0][0] << 64) | (p + 1))))
                       for p in range(k)])
    return RouteColumns(cols, meta)


def initial_state(table: RouteColumns, k: int, seed: int = 0,
                  coverage: tuple[float, float] = (0.9, 1.0)) -> RouteColumns:
    """The routes announced before the first event of :func:`update_stream`.

    Identical to ``peer_views(table, k, seed, coverage)``; provided so that code
    replaying a stream names what it starts from.
    """
    return peer_views(table, k, seed, coverage)


# ---------------------------------------------------------------------------
# update streams
# ---------------------------------------------------------------------------
#: kinds of update patterns (the ``cause`` column of an update stream)
CAUSE_ATTRIBUTE_CHANGE = 0  # announced route re-announced with new attributes
CAUSE_FLAP = 1              # withdrawn, then re-announced with new attributes
CAUSE_WITHDRAW = 2          # withdrawn for the rest of the stream
CAUSE_NEW = 3               # a prefix the peer did not have, announced for good
CAUSE_TRANSIENT = 4         # a prefix the peer did not have, announced then withdrawn
CAUSE_SESSION_RESET = 5     # part of a session-reset storm: withdrawn, re-announced

#: mean background events per second per peer (sets the time scale)
UPDATE_RATE_PER_PEER = 2.0
#: expected share of events that belong to session-reset storms
STORM_SHARE = 0.25
#: burst-size tail exponent (bursts of related prefixes from one peer)
BURST_ALPHA = 1.3
_BURST_MAX = 4000
#: storm withdraw / re-announce speed (prefixes per second)
_STORM_W_RATE = 20000.0
_STORM_A_RATE = 8000.0
_MIN_STORM = 50
#: pattern mix for announced pairs (cumulative): attribute change, flap, withdraw
_ANNOUNCED_MIX = (0.86, 0.98)
#: for pairs not announced: new (permanent) else transient
_UNANNOUNCED_NEW = 0.5
#: path-length change of a re-announcement (values, cumulative probabilities)
_PATH_DELTA = (np.array([-2, -1, 1, 2, 3]), np.array([0.1, 0.4, 0.75, 0.9, 1.0]))
_ALT_NEXT_HOP = 0.1
_US = 1_000_000
_INF = np.int64(2 ** 62)


def _stream_patterns(rng, n, k, views_peer_start, views_idx, peer_w, n_target):
    """Background bursts and storms: arrays describing update patterns."""
    horizon = max(1.0, n_target / (k * UPDATE_RATE_PER_PEER))  # seconds
    # ---- session-reset storms (small loop over storms)
    budget = STORM_SHARE * n_target
    st = []
    for _ in range(10000):
        if budget < 2 * _MIN_STORM:
            break
        u = rng.random(6)
        p = int(_pick(rng, peer_w, 1)[0])
        v0, v1 = int(views_peer_start[p]), int(views_peer_start[p + 1])
        size = int(min((0.2 + 0.8 * u[0]) * (v1 - v0), budget / 2))
        if size < _MIN_STORM:
            budget -= 2 * _MIN_STORM
            continue
        first = int(u[1] * (v1 - v0))
        rows = v0 + (first + np.arange(size)) % (v1 - v0)
        t0 = int(u[2] * 0.75 * horizon * _US)
        wdur = size / _STORM_W_RATE * _US
        adur = size / _STORM_A_RATE * _US
        delay = 30.0 * 10.0 ** u[3] * _US
        tw = t0 + np.floor(rng.random(size) * wdur).astype(np.int64)
        ta = t0 + int(delay) + np.floor(rng.random(size) * adur).astype(np.int64)
        ta = np.maximum(ta, tw + 1)
        st.append((np.full(size, p, np.int64), views_idx[rows], tw, ta))
        budget -= 2 * size
    # ---- background bursts
    n_bg = max(0.0, n_target - sum(2 * len(s[0]) for s in st))
    n_pat = int(math.ceil(n_bg / 1.15))
    sizes = np.zeros(0, np.int64)
    bmax = max(1, min(_BURST_MAX, n))
    while sizes.sum() < n_pat:
        s = np.floor(rng.random(max(16, n_pat // 2)) ** (-1.0 / BURST_ALPHA)).astype(np.int64)
        sizes = np.concatenate([sizes, np.minimum(s, bmax)])
    cut = int(np.searchsorted(np.cumsum(sizes), n_pat)) + 1
    sizes = sizes[:cut]
    nb = len(sizes)
    ub = rng.random((5, nb))
    b_time = np.floor(ub[0] * horizon * _US).astype(np.int64)
    b_peer = _pick(rng, peer_w, nb)
    b_start = np.floor(ub[1] * n).astype(np.int64)
    b_spread = sizes / (50.0 * 40.0 ** ub[2]) * _US
    b_delay = 2.0 * 150.0 ** ub[3] * _US
    bid = np.repeat(np.arange(nb), sizes)
    j = np.arange(len(bid)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    m = len(bid)
    up = rng.random((3, m))
    peer = b_peer[bid]
    idx = (b_start[bid] + j) % n
    t1 = b_time[bid] + np.floor(up[0] * b_spread[bid]).astype(np.int64)
    t2 = t1 + np.maximum(1, np.floor(b_delay[bid] * (0.75 + 0.5 * up[1])).astype(np.int64))
    return (peer, idx, t1, t2, up[2]), st


def update_stream(table: RouteColumns, k: int, n_events: int, seed: int = 0,
                  coverage: tuple[float, float] = (0.9, 1.0)) -> RouteColumns:
    """A bursty stream of announce / withdraw events from ``k`` peers.

    The stream starts from the state ``initial_state(table, k, seed, coverage)``
    (the same as :func:`peer_views` with the same arguments): replayed in row
    order against that state, every withdraw removes a route that is announced
    at that moment, and an announce either adds a route the peer did not have
    or replaces the attributes of one it has (an implicit withdraw).

    Parameters
    ----------
    table : RouteColumns
        The prefixes.
    k : int
        Number of peers.
    n_events : int
        Number of events (rows).
    seed : int
        Seed (also the seed of the initial state).
    coverage : (float, float)
        Passed to :func:`peer_views` for the initial state.

    Returns
    -------
    RouteColumns
        One row per event in time order. Columns ``family``, ``addr_hi``,
        ``addr_lo``, ``length`` (copied from ``table[prefix_index]``) and

        ====================  =======  ============================================
        ``timestamp``         float64  seconds from the stream start, microsecond
                                       resolution, non-decreasing
        ``peer``              uint16   0 ... k-1
        ``prefix_index``      uint32   row of ``table``
        ``announce``          bool     True: announce, False: withdraw
        ``metric``            uint32   as in :func:`peer_views` (0 for withdraws)
        ``preference``        uint32   local preference (0 for withdraws)
        ``next_hop_hi/lo``    uint64   the peer's next hop, 10 % of changed routes
                                       use its alternate (0 for withdraws)
        ``as_path_len``       uint16   0 for withdraws
        ``cause``             uint8    ``CAUSE_*`` pattern the event belongs to
        ====================  =======  ============================================

    Notes
    -----
    Events come in patterns on one (peer, prefix) pair: attribute change
    (one re-announce), flap (withdraw, re-announce 2-300 s later), withdraw
    for good, new route, transient route (announce, withdraw later) and
    session-reset storms (a peer withdraws 20-100 % of its routes within
    seconds and re-announces them 30-300 s later; about :data:`STORM_SHARE`
    of the events). Background patterns arrive in bursts whose sizes follow a
    power law (exponent :data:`BURST_ALPHA`); a burst hits a run of
    neighbouring prefixes (often of one origin AS) of one peer, with peers of
    heavy-tailed activity. Patterns on the same pair never overlap in time
    (a later overlapping one is dropped), which is what makes the stream
    consistent; the stream is the first ``n_events`` events in time order.
    """
    _check_table(table)
    k = _check_k(k)
    seed = _check_seed(seed)
    if isinstance(n_events, bool) or not isinstance(n_events, (int, np.integer)) \
            or n_events < 0:
        raise InvalidParameter(f"n_events must be a non-negative integer, not {n_events!r}")
    n_events = int(n_events)
    n = table.n_rows
    if n == 0 and n_events:
        raise InvalidParameter("the table is empty")
    views = peer_views(table, k, seed, coverage)
    vpeer = np.asarray(views["peer"], np.int64)
    vidx = np.asarray(views["prefix_index"], np.int64)
    vkey = vpeer * n + vidx                        # ascending: grouped by peer, then index
    vstart = np.searchsorted(vpeer, np.arange(k + 1))
    base_len = _path_base(table, seed)
    peers = _peer_params(k, seed, _check_coverage(coverage))
    peer_w = _rng(seed, "activity").random(k) ** -1.5

    factor = 1.25
    ev = None
    for attempt in range(8 if n_events else 0):
        rng = _rng(seed, "updates", attempt)
        ev = _stream_attempt(rng, np.asarray(table["family"]), k, vkey, vstart, vidx, views,
                             base_len, peers, peer_w, int(math.ceil(n_events * factor)) + 16)
        if len(ev["timestamp"]) >= n_events:
            break
        factor *= 1.6
    else:
        if n_events:  # pragma: no cover - the attempts grow geometrically
            raise RuntimeError("could not generate enough events")
    if ev is None:
        z = np.zeros(0, np.int64)
        ev = dict(timestamp=z, peer=z, prefix_index=z, announce=np.zeros(0, bool), metric=z,
                  preference=z, next_hop_hi=z.astype(_U64), next_hop_lo=z.astype(_U64),
                  as_path_len=z, cause=z)
    sel = slice(0, n_events)
    idx = ev["prefix_index"][sel]
    cols = dict(
        family=np.asarray(table["family"])[idx], addr_hi=np.asarray(table["addr_hi"])[idx],
        addr_lo=np.asarray(table["addr_lo"])[idx], length=np.asarray(table["length"])[idx],
        timestamp=ev["timestamp"][sel].astype(np.float64) / _US,
        peer=ev["peer"][sel].astype(np.uint16), prefix_index=idx.astype(np.uint32),
        announce=ev["announce"][sel], metric=ev["metric"][sel].astype(np.uint32),
        preference=ev["preference"][sel].astype(np.uint32),
        next_hop_hi=ev["next_hop_hi"][sel], next_hop_lo=ev["next_hop_lo"][sel],
        as_path_len=ev["as_path_len"][sel].astype(np.uint16),
        cause=ev["cause"][sel].astype(np.uint8),
    )
    meta = dict(generator="update_stream", k=k, n_events=n_events, seed=seed,
                coverage=list(_check_coverage(coverage)), n_prefixes=n,
                initial_state=f"peer_views(table, k={k}, seed={seed}, coverage={tuple(coverage)})")
    return RouteColumns(cols, meta)


def _stream_attempt(rng, family, k, vkey, vstart, vidx, views, base_len, peers, peer_w,
                    n_target):
    n = len(family)
    (bpeer, bidx, bt1, bt2, bu), storms = _stream_patterns(
        rng, n, k, vstart, vidx, peer_w, n_target)
    # background pattern kinds from the pair's initial status
    bkey = bpeer * n + bidx
    pos = np.minimum(_lookup(vkey, bkey), max(len(vkey) - 1, 0))
    announced = (vkey[pos] == bkey) if len(vkey) else np.zeros(len(bkey), bool)
    kind = np.where(
        announced,
        np.where(bu < _ANNOUNCED_MIX[0], CAUSE_ATTRIBUTE_CHANGE,
                 np.where(bu < _ANNOUNCED_MIX[1], CAUSE_FLAP, CAUSE_WITHDRAW)),
        np.where(bu < _UNANNOUNCED_NEW, CAUSE_NEW, CAUSE_TRANSIENT))
    if storms:
        speer, sidx, st1, st2 = (np.concatenate([s[i] for s in storms]) for i in range(4))
    else:
        speer = sidx = st1 = st2 = np.zeros(0, np.int64)
    peer = np.concatenate([bpeer, speer])
    idx = np.concatenate([bidx, sidx])
    t1 = np.concatenate([bt1, st1])
    t2 = np.concatenate([bt2, st2])
    kind = np.concatenate([kind, np.full(len(speer), CAUSE_SESSION_RESET)])
    end = np.where(np.isin(kind, (CAUSE_WITHDRAW, CAUSE_NEW)), _INF,
                   np.where(kind == CAUSE_ATTRIBUTE_CHANGE, t1, t2))
    two = np.isin(kind, (CAUSE_FLAP, CAUSE_TRANSIENT, CAUSE_SESSION_RESET))

    # ---- drop patterns that overlap an earlier pattern on the same pair
    key = peer * n + idx
    order = np.lexsort((np.arange(len(key)), t1, key))
    ks, ts, es = key[order], t1[order], end[order]
    grp = np.cumsum(np.concatenate([[0], ks[1:] != ks[:-1]]).astype(np.int64))
    tmax = int(t2.max(initial=0)) + 2
    es = np.minimum(es, tmax)        # "for good" = after every event
    if tmax * (int(grp[-1] if len(grp) else 0) + 2) < 2 ** 62:
        rt, re_, big = ts, es, np.int64(tmax + 1)
    else:  # compress times to ranks so that group * big fits in int64
        vals = np.sort(np.concatenate([ts, es]))
        rt, re_ = _lookup(vals, ts), _lookup(vals, es)
        big = np.int64(len(vals) + 1)
    run = np.maximum.accumulate(grp * big + re_)
    keep_s = np.ones(len(ks), bool)
    keep_s[1:] = grp[1:] * big + rt[1:] > run[:-1]
    keep = np.zeros(len(key), bool)
    keep[order[keep_s]] = True

    peer, idx, t1, t2, kind, two, key = (a[keep] for a in (peer, idx, t1, t2, kind, two, key))
    # ---- expand into events
    first_announce = np.isin(kind, (CAUSE_ATTRIBUTE_CHANGE, CAUSE_NEW, CAUSE_TRANSIENT))
    e_pat = np.concatenate([np.arange(len(kind)), np.flatnonzero(two)])
    e_time = np.concatenate([t1, t2[two]])
    e_ann = np.concatenate([first_announce, ~first_announce[two]])
    e_seq = np.concatenate([2 * np.arange(len(kind)), 2 * np.flatnonzero(two) + 1])
    order = np.lexsort((e_seq, e_time))
    e_pat, e_time, e_ann = e_pat[order], e_time[order], e_ann[order]
    cut = min(len(e_time), n_target)
    e_pat, e_time, e_ann = e_pat[:cut], e_time[:cut], e_ann[:cut]
    ep, ei, ek = peer[e_pat], idx[e_pat], kind[e_pat]

    # ---- attributes of announcements
    m = len(ep)
    apl = np.zeros(m, np.int64)
    metric = np.zeros(m, np.int64)
    pref = np.zeros(m, np.int64)
    alt = np.zeros(m, bool)
    a = np.flatnonzero(e_ann)
    fresh = a[np.isin(ek[a], (CAUSE_NEW, CAUSE_TRANSIENT))]
    again = a[~np.isin(ek[a], (CAUSE_NEW, CAUSE_TRANSIENT))]
    if len(fresh):
        f_apl, f_metric, f_lp, _ = _route_attrs(rng, base_len, peers, ep[fresh], ei[fresh])
        f_apl = f_apl.astype(np.int64)
        apl[fresh], metric[fresh], pref[fresh] = f_apl, f_metric, f_lp
    if len(again):
        row = _lookup(vkey, ep[again] * n + ei[again])
        apl0 = np.asarray(views["as_path_len"], np.int64)[row]
        lp0 = np.asarray(views["local_pref"], np.int64)[row]
        u = rng.random((3, len(again)))
        delta = _PATH_DELTA[0][np.searchsorted(_PATH_DELTA[1], u[0], side="right")]
        reset = ek[again] == CAUSE_SESSION_RESET
        delta = np.where(reset & (u[1] < 0.8), 0, delta)
        new_apl = np.clip(apl0 + delta, 1, 65535)
        apl[again] = new_apl
        metric[again] = 10 * new_apl + peers.igp[ep[again]]
        pref[again] = lp0
        alt[again] = (u[2] < _ALT_NEXT_HOP) & ~reset
    nh_hi, nh_lo = _next_hops(family[ei], ep, alt)
    nh_hi[~e_ann] = 0
    nh_lo[~e_ann] = 0
    return dict(timestamp=e_time, peer=ep, prefix_index=ei, announce=e_ann, metric=metric,
                preference=pref, next_hop_hi=nh_hi, next_hop_lo=nh_lo, as_path_len=apl,
                cause=ek)


# ---------------------------------------------------------------------------
# named datasets
# ---------------------------------------------------------------------------
class DatasetChecksumError(InvalidData):
    """A dataset's arrays do not match the checksum recorded in :data:`DATASETS`."""


class Dataset(NamedTuple):
    """A registered dataset: ``func(**params, seed=seed)``.

    A string parameter ``table`` names another dataset, which is loaded and
    passed as the table. ``sha256`` is :func:`dataset_checksum` of the output
    (``None``: not recorded, not verified); ``rows`` its row count.
    """

    func: Callable[..., RouteColumns]
    params: Mapping[str, Any]
    seed: int
    sha256: str | None
    rows: int
    description: str


# APPEND-ONLY REGISTRY. A name, its generator, parameters, seed and checksum
# never change once committed and names are never reused: benchmark results
# are only comparable while a name means the same bytes. To change a dataset,
# add a new name (and keep the old generator code path working). The checksums
# are also listed in bench-data/README.md; bench-data/checksums.py recomputes
# them.
DATASETS: dict[str, Dataset] = {
    "v4-full-10k": Dataset(
        full_table, {"n": 10_000, "family": 4}, 1,
        "25c8ecd8d47029dd1bbd876f13f984edd1f7bcae11228b025a0c442676ceb68c",
        10_000, "IPv4 full table, 10k prefixes (tests)"),
    "v6-full-10k": Dataset(
        full_table, {"n": 10_000, "family": 6}, 1,
        "730d9833bd1826747719eb1f333f89e482268c66c4c535cc998c05cf22aca415",
        10_000, "IPv6 full table, 10k prefixes (tests)"),
    "v4-full-100k": Dataset(
        full_table, {"n": 100_000, "family": 4}, 1,
        "88d24f5f9cece72612a595b2abc9c584568b7704a7360d611ecc76059fbf6e22",
        100_000, "IPv4 full table, 100k prefixes"),
    "v4-full-1M": Dataset(
        full_table, {"n": 1_000_000, "family": 4}, 1,
        "48fc4345cac7da219d8bbec351c0a21e77d0a3071f97c0148057549ca8c577a5",
        1_000_000, "IPv4 full table, 1M prefixes (about today's Internet)"),
    "v4-full-10M": Dataset(
        full_table, {"n": 10_000_000, "family": 4}, 1,
        "de4b362d3e375f4ee882665d74d71f1c9a381d1cd44cdf746f77e6a0022a1c3f",
        10_000_000, "IPv4 table of 10M prefixes (beyond saturation, see README)"),
    "v6-full-200k": Dataset(
        full_table, {"n": 200_000, "family": 6}, 1,
        "eb18e684a4142f1afec45aaaaaf8ec72e74f0ed7d1b24a69c33dd99a7768699a",
        200_000, "IPv6 full table, 200k prefixes (about today's Internet)"),
    "v6-full-1M": Dataset(
        full_table, {"n": 1_000_000, "family": 6}, 1,
        "092e119a697ebd1a8c24cb2fead8e2a5abdebfb48b46cd613374c6ed222adf5b",
        1_000_000, "IPv6 full table, 1M prefixes"),
    "v4-peers4-10k": Dataset(
        peer_views, {"table": "v4-full-10k", "k": 4}, 1,
        "c0c253315a43367b3fe0f3b799e9b2b8538c9b152209e10ca9ffc9fbafb61b3c",
        37_939, "4 peers' views of v4-full-10k (tests)"),
    "v4-peers4-1M": Dataset(
        peer_views, {"table": "v4-full-1M", "k": 4}, 1,
        "a2e00f40639e82d43694df0d292b04ae657791994912f425eb4a43b72e0dd025",
        3_789_907, "4 peers' views of v4-full-1M"),
    "v6-peers4-200k": Dataset(
        peer_views, {"table": "v6-full-200k", "k": 4}, 1,
        "bd354af18ddc0b6c8d7bf50da446ba58ec8441934d4ce91b7de5df80f22c9c04",
        758_430, "4 peers' views of v6-full-200k"),
    "v4-peers16-100k": Dataset(
        peer_views, {"table": "v4-full-100k", "k": 16}, 1,
        "5a1e5c9a1a2374c7787a82ef5533909b2b3b834ddcb0ae63f2ffee6676c6a300",
        1_527_092, "16 peers' views of v4-full-100k"),
    "v4-updates-10k": Dataset(
        update_stream, {"table": "v4-full-10k", "k": 4, "n_events": 10_000}, 1,
        "57d2453731e7aea160305d03d93a2788762d1f1918ed32bd4157026b96656f47",
        10_000, "10k updates from 4 peers over v4-full-10k, from v4-peers4-10k"),
    "v4-updates-1M": Dataset(
        update_stream, {"table": "v4-full-1M", "k": 4, "n_events": 1_000_000}, 1,
        "3b144b9e4864151e7a1ad70f75ab01a754d5ee320f29e4bde1d06f9cfb8e6442",
        1_000_000, "1M updates from 4 peers over v4-full-1M, from v4-peers4-1M"),
    "v6-updates-200k": Dataset(
        update_stream, {"table": "v6-full-200k", "k": 4, "n_events": 200_000}, 1,
        "72986095ad4e6623f5cbabcb9dd69c5c13616ec1417af8dd13599f0d263005cc",
        200_000, "200k updates from 4 peers over v6-full-200k, from v6-peers4-200k"),
}


def dataset_checksum(table: Mapping[str, np.ndarray]) -> str:
    """SHA-256 of a table's arrays (not its ``meta``).

    The digest covers, for every column in sorted name order, the name, the
    little-endian dtype string, the length and the little-endian bytes.
    """
    h = hashlib.sha256()
    for name in sorted(table):
        a = np.asarray(table[name])
        a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        h.update(f"{name}\0{a.dtype.str}\0{a.shape[0]}\0".encode())
        h.update(a.data.cast("B"))
    return h.hexdigest()


def _repo_bench_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "bench-data"


def resolve_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The directory :func:`load` caches datasets in.

    ``cache_dir`` if given, else ``$RTMCORE_BENCH_CACHE``, else
    ``bench-data/cache/`` of the source tree when it exists and is writable,
    else ``~/.cache/rtmcore``.
    """
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("RTMCORE_BENCH_CACHE")
    if env:
        return Path(env)
    bench = _repo_bench_dir()
    if bench.is_dir() and os.access(bench, os.W_OK):
        return bench / "cache"
    return Path(os.path.expanduser("~")) / ".cache" / "rtmcore"


def _dataset(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise NotFound(f"no dataset {name!r}; known: {', '.join(DATASETS)}") from None


def generate(name: str, *, _memo: dict | None = None) -> RouteColumns:
    """Generate a registered dataset without cache or verification."""
    ds = _dataset(name)
    memo = {} if _memo is None else _memo
    if name in memo:
        return memo[name]
    params = dict(ds.params)
    if isinstance(params.get("table"), str):
        params["table"] = generate(params["table"], _memo=memo)
    out = ds.func(**params, seed=ds.seed)
    out.meta["dataset"] = name
    memo[name] = out
    return out


def _save(path: Path, table: RouteColumns) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            # Each column is stored under its own name (numpy's stub matches these
            # keywords against savez's allow_pickle flag too).
            np.savez(f, __meta__=np.array(json.dumps(table.meta)),
                     **table.to_dict())  # type: ignore[arg-type]
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _read(path: Path) -> RouteColumns:
    with np.load(path, allow_pickle=False) as z:
        cols = {k: z[k] for k in z.files if k != "__meta__"}
        meta = json.loads(str(z["__meta__"])) if "__meta__" in z.files else {}
    return RouteColumns(cols, meta)


def _verify(name: str, table: RouteColumns) -> str:
    ds = DATASETS[name]
    digest = dataset_checksum(table)
    if ds.sha256 is not None and digest != ds.sha256:
        raise DatasetChecksumError(
            f"dataset {name!r}: generated arrays have sha256 {digest}, but the registry "
            f"records {ds.sha256}. The generator (or NumPy's random streams) changed. "
            "Registered datasets are append-only: restore the generator, or register the "
            "new output under a new name.")
    return digest


def load(name: str, cache_dir: str | os.PathLike | None = None) -> RouteColumns:
    """A registered dataset, from the cache or freshly generated (then cached).

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    cache_dir : path, optional
        Where ``<name>.npz`` is cached (see :func:`cache_dir` for the default).

    Returns
    -------
    RouteColumns
        The dataset; ``meta["dataset"]`` and ``meta["sha256"]`` are set.

    Raises
    ------
    NotFound
        Unknown name.
    DatasetChecksumError
        The generated arrays differ from the recorded checksum.
    """
    ds = _dataset(name)
    path = resolve_cache_dir(cache_dir) / f"{name}.npz"
    if path.exists():
        try:
            table = _read(path)
            table.meta["sha256"] = _verify(name, table)
            table.meta["dataset"] = name
            return table
        except (DatasetChecksumError, OSError, ValueError, KeyError) as exc:
            warnings.warn(f"ignoring cached {path}: {exc}", RuntimeWarning, stacklevel=2)
    params = dict(ds.params)
    if isinstance(params.get("table"), str):
        params["table"] = load(params["table"], cache_dir)
    table = ds.func(**params, seed=ds.seed)
    table.meta["dataset"] = name
    table.meta["sha256"] = _verify(name, table)
    try:
        _save(path, table)
    except OSError as exc:
        warnings.warn(f"could not cache {name} in {path.parent}: {exc}", RuntimeWarning,
                      stacklevel=2)
    return table
