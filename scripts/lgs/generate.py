"""Synthetic "Online Retail II" data for London Gift Shop (LGS).

`generate()` writes a CSV file in exactly the layout of the widespread CSV form of
the UCI "Online Retail II" workbook (header
``Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country``),
filled with invented invoices whose shape is calibrated on the real data set:
seasonality, invoice sizes, customers and their repeat behaviour, cancellations,
adjustments, stock write-offs, non-product stock codes, exact duplicate lines,
awkward descriptions, countries, trading hours and days, and the two overlapping
workbook extracts. Only aggregate figures of the real file are used (tables below);
no row of it is copied. Stock codes, descriptions, customers and prices are invented.

How it works, in two stages:

1. *Plan* (one row per invoice, about 1/20 of the output): invoice timestamps drawn
   from a day-by-day intensity (month rate x weekday x holiday closures x hours),
   invoice kinds by month, line counts, customers (acquisition, heavy-tailed activity,
   churn), countries, cancellations (each reversing lines of an earlier invoice of the
   same customer after a lag drawn from the real one: the same day, days or months
   later; some reverse orders before the data or not in it), adjustments; then the line
   counts are nudged so that the file has exactly ``rows`` rows, and invoice numbers are
   assigned in time order.
2. *Lines*, block by block (each block a run of whole days, about half a million lines):
   products, quantities, prices, descriptions, duplicates, special lines, and the lines
   of cancellations; the block is formatted with table look-ups and streamed to the
   file. Rows of the overlap between extracts are spooled and written a second time at
   the start of the next extract, so memory stays bounded at any size.

Everything is drawn from generators seeded from ``seed`` (the catalogue and the
customer base from a fixed seed, so that every file describes the same shop), so the
same arguments always give a byte-identical file (gzip headers carry no time stamp).
"""

from __future__ import annotations

import functools
import gzip
import itertools
import math
import queue
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
BoolA = NDArray[np.bool_]
IntA = NDArray[np.signedinteger[Any]]

HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
FIRST_CUSTOMER_ID = 12346
MAX_CUSTOMERS = 99999 - FIRST_CUSTOMER_ID + 1  # customer ids stay five-digit
REAL_ROWS = 1_067_370
REAL_CUSTOMERS = 5_942
REAL_SPAN_DAYS = 738 + (12 * 60 + 50) / 1440  # 2009-12-01 00:00 .. 2011-12-09 12:50
REAL_OVERLAP_DAYS = 9  # 2010-12-01 .. 2010-12-09 is in both workbook sheets
BLOCK_LINES = 250_000  # lines generated, formatted and written at a time

# Invoice kinds of the plan.
K_R, K_D, K_W, K_Z, K_X, K_CS, K_A, K_CR = range(8)
# R: customer order; D: order of the dotcom shop without customer; W: stock write-off
# (negative quantity, zero price, no customer); Z: zero-price stock line; X: single
# non-product line (manual, postage, adjustment, bank charges ...); CS: cancellation
# of a non-product line; A: bad-debt adjustment; CR: cancellation reversing lines of
# an earlier R invoice of the same customer (or, without original in the plan, of an
# order before the data or not in the file).

# ---------------------------------------------------------------------------------
# Calibration tables: aggregate figures measured on the real file (deduplicated over
# the overlapping extracts).
# ---------------------------------------------------------------------------------
# fmt: off

# (year, month): invoices of kind R, D, W, Z, X, CS, CR; mean lines of R and D invoices.
_REAL_MONTHS: dict[tuple[int, int], tuple[float, ...]] = {
    (2009, 12): (1497, 169, 90, 157, 16, 22, 379, 20.54, 78.13),
    (2010, 1): (959, 90, 128, 100, 56, 59, 241, 22.65, 98.43),
    (2010, 2): (1093, 96, 448, 80, 12, 21, 219, 21.37, 51.21),
    (2010, 3): (1509, 139, 190, 89, 33, 56, 351, 21.4, 58.04),
    (2010, 4): (1315, 120, 75, 50, 27, 41, 263, 20.7, 50.22),
    (2010, 5): (1365, 120, 369, 142, 15, 20, 387, 20.98, 43.18),
    (2010, 6): (1479, 134, 140, 74, 32, 39, 318, 21.08, 57.84),
    (2010, 7): (1362, 145, 88, 55, 22, 30, 314, 19.83, 37.72),
    (2010, 8): (1276, 129, 93, 86, 20, 31, 242, 20.67, 47.74),
    (2010, 9): (1659, 130, 93, 72, 50, 52, 319, 20.84, 49.94),
    (2010, 10): (2108, 140, 118, 69, 53, 70, 406, 23.5, 59.13),
    (2010, 11): (2570, 149, 225, 121, 28, 32, 544, 23.46, 108.38),
    (2010, 12): (1394, 158, 70, 70, 7, 25, 301, 18.76, 97.8),
    (2011, 1): (983, 98, 96, 34, 5, 13, 247, 21.6, 133.5),
    (2011, 2): (992, 103, 48, 26, 5, 28, 191, 20.08, 70.2),
    (2011, 3): (1312, 129, 134, 77, 13, 37, 281, 20.71, 67.11),
    (2011, 4): (1139, 96, 186, 72, 11, 20, 220, 19.87, 67.23),
    (2011, 5): (1544, 126, 117, 50, 11, 47, 267, 18.34, 62.82),
    (2011, 6): (1390, 136, 107, 43, 7, 30, 299, 19.56, 64.87),
    (2011, 7): (1321, 131, 117, 65, 23, 34, 236, 20.3, 90.15),
    (2011, 8): (1267, 73, 50, 46, 20, 38, 240, 21.31, 102.7),
    (2011, 9): (1739, 79, 98, 59, 19, 34, 299, 23.01, 116.86),
    (2011, 10): (1903, 102, 146, 89, 35, 54, 308, 26.02, 95.5),
    (2011, 11): (2642, 109, 137, 115, 18, 45, 396, 24.42, 172.81),
    (2011, 12): (776, 40, 30, 20, 3, 9, 137, 22.3, 195.22),
}
_REAL_START = "2009-12-01 00:00"
_REAL_END = "2011-12-09 12:50"
_R_MEAN = 21.61
_D_MEAN = 77.89

# Invoices by weekday (Monday = 0) and hour 6..21.
_WEEKDAY_HOURS: tuple[tuple[int, ...], ...] = (
    (0, 20, 185, 620, 968, 980, 1295, 1224, 1046, 1117, 749, 348, 43, 0, 0, 0),
    (0, 17, 230, 803, 1157, 1267, 1503, 1379, 1123, 1091, 801, 665, 156, 87, 20, 0),
    (0, 12, 231, 695, 1087, 1136, 1527, 1372, 1251, 1054, 853, 351, 25, 2, 1, 0),
    (22, 22, 239, 691, 1120, 1178, 1426, 1245, 1208, 1217, 952, 863, 588, 483, 80, 1),
    (0, 39, 265, 699, 1109, 1148, 1262, 1045, 1141, 916, 544, 313, 14, 9, 1, 0),
    (0, 0, 0, 0, 6, 1, 6, 8, 4, 5, 2, 0, 0, 0, 0, 0),
    (0, 0, 0, 12, 583, 918, 1078, 890, 746, 768, 266, 4, 0, 0, 0, 0),
)
_FIRST_HOUR = 6

# Lines per R invoice: cumulative distribution at these line counts.
_R_GRID = (*range(1, 31), 35, 40, 45, 50, 60, 70, 80, 100, 120, 150, 200, 250, 300, 400, 550)
_R_CDF = (
    0.073154, 0.111822, 0.145871, 0.1791, 0.212494, 0.24392, 0.274307, 0.304176, 0.335246,
    0.362983, 0.391949, 0.418511, 0.446303, 0.472837, 0.500738, 0.528803, 0.553615, 0.578592,
    0.60335, 0.627425, 0.649451, 0.668607, 0.687135, 0.703558, 0.71826, 0.731814, 0.744958,
    0.757228, 0.770645, 0.781959, 0.826993, 0.860715, 0.88867, 0.910067, 0.941794, 0.961387,
    0.973493, 0.986965, 0.992813, 0.997349, 0.999044, 0.999426, 0.999672, 0.999836, 1.0,
)
# Lines per D (dotcom) invoice.
_D_GRID = (
    *range(1, 11),
    12,
    15,
    20,
    25,
    30,
    40,
    50,
    70,
    100,
    150,
    200,
    250,
    300,
    400,
    500,
    700,
    900,
    1120,
)
_D_CDF = (
    0.143149, 0.227814, 0.275077, 0.310439, 0.33356, 0.353281, 0.369942, 0.383883, 0.398164,
    0.410065, 0.430806, 0.459368, 0.49949, 0.538252, 0.569534, 0.616457, 0.655559, 0.700782,
    0.730364, 0.792928, 0.878273, 0.921115, 0.942197, 0.960218, 0.980619, 0.9983, 0.99966, 1.0,
)
# Lines per CR invoice (capped by the product lines of the original).
_CR_PMF = {
    1: 3880, 2: 1618, 3: 808, 4: 355, 5: 231, 6: 109, 7: 85, 8: 56, 9: 46, 10: 32, 11: 37,
    12: 18, 13: 12, 14: 9, 15: 16, 16: 10, 17: 6, 18: 6, 19: 5, 20: 5, 25: 30, 40: 20, 70: 8,
}

# Days from an original invoice to its cancellation: bins [edge, next edge) of whole
# days and the number of real C lines of a customer in each (the original of a C line
# being the latest earlier line of the customer at the same code and price, as
# `lgs.profile` matches them), for cancellations of 1..3 lines and of 4 or more lines
# (later: a median of 18 days against 8). Only 52 % fall in the original's month.
_CANCEL_LAG_EDGES = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 17, 21, 28, 35, 45, 60, 75, 90, 120, 150, 180, 240,
    300, 365, 450, 540, 600,
)
_CANCEL_LAG_SMALL = (
    585, 292, 350, 393, 453, 470, 539, 604, 788, 397, 390, 478, 382, 441, 267, 307, 314, 178,
    142, 183, 101, 78, 85, 51, 22, 20, 10, 1,
)
_CANCEL_LAG_LARGE = (
    974, 128, 248, 161, 208, 237, 280, 322, 420, 255, 276, 318, 515, 443, 249, 513, 432, 222,
    142, 227, 154, 135, 147, 65, 77, 43, 11, 12,
)
CANCEL_LARGE_LINES = 4
# The profile's matching shortens the lags it sees (a later purchase of the same line
# is taken for the original; a price change in between loses the match): lags beyond
# a week are drawn this much longer than the table's, so that they measure as it.
CANCEL_LAG_STRETCH = (7, 1.15)
ORPHAN_WINDOW_DAYS = 28  # orders before the data are of customers of the first four weeks

# Quantities of customer lines by price band (< 1, 1..4, >= 4), and of dotcom lines;
# the rest of the mass goes to rarer values between 11 and ~1000.
_QTY_BANDS: tuple[tuple[float, dict[int, int]], ...] = (
    (
        0.9632,
        {
            12: 38391, 24: 24981, 1: 20192, 2: 13939, 25: 9210, 3: 7830, 6: 7802, 10: 6951,
            4: 6882, 48: 6194, 36: 3867, 5: 3841, 8: 3718, 16: 2392, 20: 2183, 96: 1448,
            72: 1441, 144: 858, 30: 835, 7: 801, 120: 785, 50: 744, 100: 723, 9: 569,
        },
    ),
    (
        0.9825,
        {
            1: 82303, 12: 74453, 6: 60717, 2: 56182, 4: 34531, 10: 28867, 3: 26440, 24: 18268,
            8: 15815, 5: 11470, 20: 5788, 48: 5024, 16: 3582, 36: 3143, 18: 2431, 100: 2381,
            72: 2134, 96: 1817, 32: 1611, 40: 1530, 9: 1524, 30: 1409, 7: 1394, 144: 1055,
        },
    ),
    (
        0.9915,
        {
            1: 46123, 2: 45113, 3: 20063, 4: 19557, 6: 10144, 12: 5021, 8: 3488, 10: 2969,
            24: 2507, 5: 1709, 16: 1369, 9: 606, 48: 600, 20: 499, 18: 478, 36: 283, 50: 282,
            60: 240, 32: 217, 7: 213, 72: 168, 30: 164, 15: 144, 96: 122,
        },
    ),
)
_QTY_DOT = (
    0.9894,
    {
        1: 134088, 2: 40271, 3: 16155, 4: 9712, 5: 5373, 6: 4810, 7: 2209, 8: 2190, 12: 1809,
        10: 1659, 9: 1229, 11: 871, 13: 501, 24: 494, 15: 492, 14: 449, 16: 427, 20: 368,
        18: 307, 17: 259, 19: 195, 25: 173, 21: 158, 22: 150, 30: 134,
    },
)
# Share of lines sold at the bulk price, by quantity (thresholds) on customer lines.
_BULK_QTY = (12, 24, 36, 48, 72)
_BULK_P = (0.03, 0.07, 0.14, 0.35, 0.5, 0.72)
# |Quantity| of write-offs and quantity of zero-price stock lines.
_W_GRID = (1, 2, 8, 26, 82, 240, 600, 3142, 9600)
_W_CDF = (0.07, 0.10, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)
_Z_GRID = (1, 2, 8, 15, 44, 150, 315, 2560, 12540)
_Z_CDF = (0.22, 0.25, 0.5, 0.6, 0.75, 0.9, 0.95, 0.99, 1.0)

# Modal unit price of products (number of products at each price point); 3.3 % of
# products have another price (log-normal).
_PRICE_POINTS = {
    1.25: 590, 2.95: 341, 0.85: 340, 0.42: 280, 1.65: 275, 3.75: 259, 2.1: 200, 2.55: 198,
    1.95: 183, 4.95: 179, 5.95: 130, 4.25: 119, 7.95: 93, 0.65: 90, 1.45: 78, 9.95: 72,
    12.75: 68, 0.39: 57, 8.5: 53, 0.29: 49, 2.08: 49, 0.19: 45, 6.75: 45, 0.83: 45, 1.69: 44,
    0.38: 43, 4.65: 34, 4.15: 31, 6.95: 29, 0.21: 27, 0.55: 26, 16.95: 25, 8.95: 24, 2.89: 24,
    8.25: 24, 7.5: 23, 0.79: 22, 6.35: 22, 3.95: 22, 14.95: 19, 12.5: 19, 3.25: 17, 5.45: 14,
    1.49: 13, 0.12: 11, 3.35: 11, 6.25: 11, 0.75: 10, 2.25: 10, 10.75: 10, 39.95: 9, 2.49: 9,
    19.95: 8, 29.95: 7, 24.95: 6, 7.49: 6, 0.1: 5, 1.05: 5, 2.12: 5, 3.45: 5,
}
# Product codes: first two digits of the five-digit part (number of codes).
_PREFIX2 = {
    10: 15, 11: 1, 15: 22, 16: 96, 17: 70, 18: 15, 20: 292, 21: 863, 22: 940, 23: 605, 30: 1,
    35: 204, 37: 96, 40: 9, 44: 19, 45: 6, 46: 27, 47: 107, 48: 20, 49: 1, 51: 9, 62: 10, 70: 3,
    71: 26, 72: 157, 75: 8, 77: 3, 78: 6, 79: 89, 81: 7, 82: 54, 84: 690, 85: 349, 90: 422,
}
# Number of codes sharing a five-digit base (colour/size variants A, B, C ...).
_FAMILY = {1: 3753, 2: 195, 3: 101, 4: 80, 5: 19, 6: 28, 7: 9, 8: 2, 10: 4, 11: 3, 14: 2}
N_PRODUCTS = 5_250
N_DCGS = 44

# Countries of customers (number of customers) and of invoices without customer.
_CUSTOMER_COUNTRIES = {
    "United Kingdom": 5410, "Germany": 106, "France": 95, "Spain": 38, "Belgium": 28,
    "Portugal": 24, "Netherlands": 23, "Switzerland": 22, "Sweden": 19, "Italy": 17,
    "Finland": 15, "Australia": 14, "Channel Islands": 14, "Norway": 13, "Austria": 12,
    "Japan": 10, "Cyprus": 9, "Denmark": 9, "USA": 9, "Unspecified": 7, "Poland": 6,
    "Greece": 5, "Canada": 5, "Israel": 4, "United Arab Emirates": 4, "EIRE": 4, "Bahrain": 2,
    "RSA": 2, "Brazil": 2, "Korea": 2, "Malta": 2, "Iceland": 1, "Thailand": 1,
    "Saudi Arabia": 1, "Singapore": 1, "Lebanon": 1, "Czech Republic": 1,
    "European Community": 1, "Lithuania": 1, "Nigeria": 1, "West Indies": 1,
}
_DOTCOM_COUNTRIES = {
    "United Kingdom": 2842, "EIRE": 53, "Hong Kong": 9, "France": 8, "Unspecified": 8,
    "Bahrain": 6, "United Arab Emirates": 3, "Israel": 3, "Switzerland": 3, "Portugal": 2,
    "Bermuda": 1, "Sweden": 1, "Lebanon": 1, "RSA": 1,
}
_OTHER_NOCUST_COUNTRIES = {
    "United Kingdom": 5761, "EIRE": 26, "Hong Kong": 12, "United Arab Emirates": 5, "RSA": 2,
    "Bahrain": 2,
}
# The heaviest customers of the real shop are mostly British, two Irish, one Dutch.
_HEAVY_COUNTRIES = (
    "EIRE", "United Kingdom", "United Kingdom", "United Kingdom", "United Kingdom",
    "United Kingdom", "EIRE", "United Kingdom", "Netherlands",
)

# Descriptions of write-offs (W) and zero-price lines (Z): share of each note.
_W_NOTES = {
    "": 0.776, "check": 0.036, "damages": 0.025, "?": 0.024, "damaged": 0.023, "missing": 0.008,
    "sold as set on dotcom": 0.006, "Damaged": 0.005, "smashed": 0.003, "thrown away": 0.003,
    "Unsaleable, destroyed.": 0.003, "dotcom": 0.0024, "damages?": 0.0021, "??": 0.0021,
    "crushed": 0.0018, "given away": 0.0018, "MIA": 0.0015, "counted": 0.0015,
    "wet damaged": 0.0015, "ebay": 0.0015, "No Stock": 0.001, "broken": 0.001,
    "wet pallet": 0.001, "lost": 0.0006, "Printing smudges/thrown away": 0.0006,
    'water damaged, "wet"': 0.0005,
}
_Z_NOTES = {
    "": 0.854, "check": 0.02, "found": 0.015, "adjustment": 0.007, "?": 0.005, "Found": 0.005,
    "amazon": 0.004, "Amazon": 0.0036, "mailout": 0.003, "had been put aside": 0.0026,
    "temp": 0.002, "dotcom": 0.002, "update": 0.001,
}
_Z_PRODUCT_DESC = 0.09  # share of zero-price lines showing the product's description

# Non-product lines: code, description, weight among X invoices, weight among CS
# invoices, share without customer (X, CS), price (median in pounds, log-sd; or
# fixed choices), quantity (max |q| of a geometric-like draw).
_SPECIALS: tuple[tuple[str, str, int, int, float, float, tuple[float, float], int], ...] = (
    ("M", "Manual", 290, 414, 0.3, 0.26, (12.75, 2.4), 3),
    ("POST", "POSTAGE", 150, 146, 0.05, 0.2, (18.0, 0.0), 8),
    ("ADJUST", "Adjustment by john on 26/01/2010 16", 24, 20, 0.09, 0.06, (49.35, 1.4), 1),
    ("ADJUST", "Adjustment by john on 26/01/2010 17", 12, 11, 0.09, 0.06, (49.35, 1.4), 1),
    ("ADJUST2", "Adjustment by Peter on Jun 25 2010 ", 3, 0, 0.0, 0.0, (300.0, 0.6), 1),
    ("BANK CHARGES", "Bank Charges", 33, 60, 0.3, 0.9, (15.0, 1.5), 1),
    ("TEST001", "This is a test product.", 9, 4, 0.0, 0.0, (4.5, 0.0), 10),
    ("TEST002", "This is a test product.", 1, 0, 0.5, 0.0, (1.0, 0.0), 1),
    ("C2", "CARRIAGE", 7, 4, 0.08, 0.0, (50.0, 0.0), 1),
    ("D", "Discount", 5, 139, 0.02, 0.02, (18.42, 1.5), 1),
    ("S", "SAMPLES", 3, 34, 1.0, 1.0, (29.99, 1.0), 1),
    ("AMAZONFEE", "AMAZON FEE", 3, 33, 1.0, 1.0, (5942.57, 0.6), 1),
    ("CRUK", "CRUK Commission", 0, 16, 0.0, 0.0, (471.77, 0.9), 1),
)
# Extra (last) line of an R or D invoice: code, description, price (median, log-sd).
SP_NONE, SP_POST, SP_C2, SP_M, SP_PADS, SP_DOT, SP_M_LOWER, SP_BANK = range(8)
_EXTRA_LINES: dict[int, tuple[str, str, tuple[float, float]]] = {
    SP_POST: ("POST", "POSTAGE", (18.0, 0.0)),
    SP_C2: ("C2", "CARRIAGE", (50.0, 0.0)),
    SP_M: ("M", "Manual", (2.5, 1.2)),
    SP_PADS: ("PADS", "PADS TO MATCH ALL CUSHIONS", (0.001, 0.0)),
    SP_DOT: ("DOT", "DOTCOM POSTAGE", (1.53, 0.45)),  # per line of the invoice
    SP_M_LOWER: ("m", "Manual", (2.55, 0.3)),
    SP_BANK: ("BANK CHARGES", "Bank Charges", (15.0, 0.0)),
}

# Behaviour parameters (chosen so that the profile of a generated file matches the
# real one; see scripts/tests/test_generate.py).
P_CANCEL_OTHER_PRICE = 0.04  # cancelled lines at the product's other (bulk/base) price
# cancellations of orders not in the file although in its time (bought on another
# account or invoice): the real file's C lines of 2011 with no earlier line of the
# customer at that stock code, 1.8 %
P_CANCEL_NOT_IN_FILE = 0.02
P_CANCEL_FULL_QTY = 0.36  # cancelled quantity equals the ordered one
P_DOT_LINE = 0.48  # dotcom invoices with a DOTCOM POSTAGE line
P_POST_FOREIGN = 0.62  # foreign (non-Irish) customer invoices with a POSTAGE line
P_C2_EIRE = 0.34  # Irish customer invoices with a CARRIAGE line
P_PADS_UK = 0.00065  # British invoices with a PADS line at 0.001 (real: 17 lines)
P_ZERO_PRICE_LINE = 0.0007  # product lines given away at price 0
P_GIFT_LINE = 0.0004  # dotcom lines that are gift vouchers
P_DCGS_LINE = 0.0006  # dotcom lines with a DCGS product
P_SPLIT = 0.006  # invoices of 20+ lines whose last lines run a minute or more later
DUP_MAX, DUP_SCALE, DUP_POWER = 0.03, 60.0, 1.6  # exact duplicate lines by invoice size
P_INVOICE_GAP = 0.095  # invoice numbers skipped between consecutive invoices
CUSTOMER_SIGMA = 1.2  # log-sd of customer activity
CUSTOMER_LIFE_MONTHS = 40.0  # mean months a customer keeps buying
ACQ_FIRST_SHARE = 0.16  # customers whose first invoice is in the first month
ACQ_DECAY_MONTHS = 17.0  # the rate of new customers halves in ~a year
A_PER_ROW = 4 / REAL_ROWS  # bad-debt adjustment events per row
A_TRIPLE_SHARE = 0.25  # of them written +x, -x, -x (the real file: one of four)
SHARE_COMMA = 0.0140  # lines whose description has a comma (real 1.45 %)
SHARE_QUOTE = 0.0022  # ... a double quote (real 0.23 %)
SHARE_TRAILING_SPACE = 0.186  # ... a trailing space (with leading: real 20.0 %)
SHARE_LEADING_SPACE = 0.0025
# fmt: on


@dataclass(frozen=True)
class GenerateResult:
    """What `generate()` wrote."""

    path: Path
    rows: int  # data rows (without header), overlap rows counted twice
    invoices: int  # distinct invoice numbers
    customers: int  # distinct customer ids
    extracts: int
    seconds: float
    last_invoice_no: int  # highest invoice number (digits); use +1 to continue


# ---------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------


def _parse_minutes(text: str, *, end: bool = False) -> int:
    """Minutes since 1970 of ``YYYY-MM-DD[ HH:MM[:SS]]``; a bare date as ``end`` is its
    last minute."""
    s = text.strip().replace("T", " ")
    value = int(np.datetime64(s.replace(" ", "T"), "m").astype(np.int64))
    if end and len(s) <= 10:
        value += 1439
    return value


def _sample_cdf(
    rng: np.random.Generator, size: int, grid: Sequence[float], cdf: Sequence[float]
) -> I64:
    """Integers from a cumulative table; between distant grid points log-uniform.
    (Drawn in chunks of a million: the same numbers, less memory.)"""
    if size > 1_000_000:
        parts = [
            _sample_cdf(rng, min(1_000_000, size - i), grid, cdf) for i in range(0, size, 1_000_000)
        ]
        return np.concatenate(parts)
    g = np.asarray(grid, dtype=np.float64)
    c = np.asarray(cdf, dtype=np.float64)
    u = rng.random(size)
    k = np.minimum(np.searchsorted(c, u, side="left"), len(g) - 1)
    hi = g[k]
    lo = np.where(k > 0, g[np.maximum(k - 1, 0)], 0.0)
    c_lo = np.where(k > 0, c[np.maximum(k - 1, 0)], 0.0)
    frac = np.clip((u - c_lo) / np.maximum(c[k] - c_lo, 1e-12), 0.0, 1.0)
    val = np.exp(np.log(lo + 0.5) + frac * (np.log(hi + 0.5) - np.log(lo + 0.5)))
    out = np.clip(np.rint(val), lo + 1, hi)
    return np.where(hi - lo <= 1, hi, out).astype(np.int64)


def _sample_pmf(
    rng: np.random.Generator,
    size: int,
    table: tuple[float, dict[int, int]],
    rest_hi: float = 1000.0,
) -> I64:
    """Values from a frequency table; the mass outside it is log-uniform in 11..rest_hi."""
    top_share, freq = table
    vals = np.array(list(freq), dtype=np.int64)
    p = np.array(list(freq.values()), dtype=np.float64)
    cum = np.cumsum(p) / p.sum()
    u = rng.random(size)
    out = vals[np.minimum(np.searchsorted(cum, u / top_share, side="right"), len(vals) - 1)]
    rest = u >= top_share
    if rest.any():
        k = int(rest.sum())
        out[rest] = np.rint(np.exp(rng.uniform(math.log(11), math.log(rest_hi), k)))
    return out


def _choice_index(rng: np.random.Generator, size: int, weights: Sequence[float]) -> I64:
    """Indices drawn with the given (unnormalised) weights."""
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    return np.searchsorted(cum, rng.random(size) * cum[-1], side="right").astype(np.int64)


def _cents_lognormal(rng: np.random.Generator, size: int, median: float, sigma: float) -> I64:
    """Prices in mils (1/1000 pound) from a log-normal, rounded to pennies."""
    if sigma <= 0:
        return np.full(size, round(median * 1000), dtype=np.int64)
    v = median * np.exp(sigma * rng.standard_normal(size))
    return (np.maximum(np.rint(v * 100), 1) * 10).astype(np.int64)


def _csv_field(text: str) -> str:
    """RFC-4180 minimal quoting, as Python's csv module (and the real file) does."""
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _easter(year: int) -> int:
    """Day number (days since 1970) of Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ll = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ll) // 451
    month = (h + ll - 7 * m + 114) // 31
    day = (h + ll - 7 * m + 114) % 31 + 1
    return int(np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D").astype(np.int64))


def _closed_days(days: I64) -> BoolA:
    """UK shop closures seen in the real data: Christmas to New Year, bank holidays."""
    d64 = days.astype("datetime64[D]")
    months = d64.astype("datetime64[M]").astype(np.int64)
    year = months // 12 + 1970
    month = months % 12 + 1
    dom = (d64 - d64.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    wd = (days + 3) % 7
    md = month * 100 + dom
    closed = (md >= 1224) | (md == 101)
    jan1_wd = (days - dom + 1 + 3) % 7  # weekday of the 1st of the month
    closed |= ((md == 102) | (md == 103)) & (wd == 6)
    closed |= (wd == 0) & (((md == 103) & (jan1_wd == 5)) | ((md == 102) & (jan1_wd == 6)))
    closed |= (month == 5) & (wd == 0) & ((dom <= 7) | (dom >= 25))
    closed |= (month == 8) & (wd == 0) & (dom >= 25)
    for y in np.unique(year).tolist():
        e = _easter(int(y))
        closed |= (days == e - 2) | (days == e) | (days == e + 1)
    closed |= days == int(np.datetime64("2011-04-29", "D").astype(np.int64))
    return closed


@functools.lru_cache(maxsize=1)
def _minute_cdf() -> F64:
    """Per weekday the cumulative share of invoices by minute of day (7 x 1441)."""
    out = np.zeros((7, 1441))
    for w, hours in enumerate(_WEEKDAY_HOURS):
        per_min = np.zeros(1440)
        for i, cnt in enumerate(hours):
            h = _FIRST_HOUR + i
            per_min[h * 60 : (h + 1) * 60] = cnt / 60.0
        out[w, 1:] = np.cumsum(per_min) / per_min.sum()
    return out


# ---------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------


class _Calendar:
    """Days of a date range with their invoice intensity."""

    def __init__(
        self,
        start_min: int,
        end_min: int,
        rates: dict[int, float] | None = None,
        dow_factor: F64 | None = None,
    ) -> None:
        self.start_min, self.end_min = start_min, end_min
        self.day0 = start_min // 1440
        self.days = np.arange(self.day0, end_min // 1440 + 1, dtype=np.int64)
        self.weekday = (self.days + 3) % 7
        self.month_id = self.days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        self.closed = _closed_days(self.days)
        self.lo = np.maximum(start_min - self.days * 1440, 0)
        self.hi = np.minimum(end_min - self.days * 1440, 1439)
        mc = _minute_cdf()
        self.coverage = mc[self.weekday, self.hi + 1] - mc[self.weekday, self.lo]
        # December trade tails off in the week before the Christmas closure.
        first = self.days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]")
        dom = self.days - first.astype(np.int64) + 1
        december = (self.month_id % 12) == 11
        taper = np.where(december, 1.3 - 0.95 * np.clip((dom - 8) / 14.0, 0.0, 1.0), 1.0)
        self.open_weight = np.where(self.closed, 0.0, self.coverage * taper)
        if rates is None or dow_factor is None:
            self.intensity = self.day_weight = self.open_weight
            return
        rate = np.array([rates.get(int(m), 0.0) for m in self.month_id.tolist()])
        self.intensity = self.open_weight * dow_factor[self.weekday] * rate
        if self.intensity.sum() <= 0:  # only closed days: trade anyway
            self.intensity = self.coverage * dow_factor[self.weekday] * rate
        if self.intensity.sum() <= 0:  # outside trading hours: spread evenly
            self.intensity = (self.hi - self.lo + 1).astype(np.float64)
        # the intensity without the month's rate (weekday, hours, closures)
        self.day_weight = self.intensity / np.maximum(rate, 1e-12)

    def sample_minutes(
        self, rng: np.random.Generator, day_idx: I64, after: I64 | None = None
    ) -> I64:
        """Timestamps (minutes since 1970) on the given days, by the hour profile;
        later than minute-of-day ``after`` when given."""
        w = self.weekday[day_idx]
        lo, hi = self.lo[day_idx], self.hi[day_idx]
        if after is not None:
            lo = np.minimum(np.maximum(lo, after + 1), hi)
        mc = _minute_cdf()
        c_lo, c_hi = mc[w, lo], mc[w, hi + 1]
        u = 1.0 - rng.random(len(day_idx))
        x = c_lo + u * (c_hi - c_lo)
        flat = (mc + np.arange(7)[:, None] * 2.0).ravel()
        minute = np.searchsorted(flat, x + w * 2.0, side="left") - 1 - w * 1441
        uniform = lo + np.floor(u * (hi - lo + 1)).astype(np.int64)
        minute = np.where(c_hi - c_lo > 1e-12, np.clip(minute, lo, hi), np.minimum(uniform, hi))
        return self.days[day_idx] * 1440 + minute


@functools.lru_cache(maxsize=1)
def _real_rates() -> tuple[dict[int, float], F64, dict[int, float]]:
    """Invoices per weighted open day by month, weekday factors, and by calendar month."""
    real = _Calendar(_parse_minutes(_REAL_START), _parse_minutes(_REAL_END))
    totals = np.array([sum(h) for h in _WEEKDAY_HOURS], dtype=np.float64)
    open_days = np.array([((real.weekday == w) & ~real.closed).sum() for w in range(7)])
    dow = totals / np.maximum(open_days, 1)
    dow = dow / dow[:5].mean()
    rates: dict[int, float] = {}
    for (y, m), row in _REAL_MONTHS.items():
        mid = (y - 1970) * 12 + m - 1
        sel = real.month_id == mid
        weight = float((real.open_weight[sel] * dow[real.weekday[sel]]).sum())
        rates[mid] = float(sum(row[:6])) / weight
    by_cal: dict[int, list[float]] = {}
    for mid, r in rates.items():
        by_cal.setdefault(mid % 12, []).append(r)
    seasonal = {k: float(np.mean(v)) for k, v in by_cal.items()}
    return rates, dow, seasonal


def _month_table(month_ids: I64) -> dict[str, F64]:
    """Per month: kind mix (R, D, W, Z, X, CS), CR per R, size factors of R and D."""
    rows = np.array(list(_REAL_MONTHS.values()), dtype=np.float64)
    keys = [(y - 1970) * 12 + m - 1 for (y, m) in _REAL_MONTHS]
    overall = rows[:, :7].sum(axis=0)
    mix = np.empty((len(month_ids), 6))
    cr = np.empty(len(month_ids))
    f_r = np.ones(len(month_ids))
    f_d = np.ones(len(month_ids))
    for i, mid in enumerate(month_ids.tolist()):
        if mid in keys:
            row = rows[keys.index(mid)]
            mix[i] = row[:6]
            cr[i] = row[6] / row[0]
            f_r[i] = row[7] / _R_MEAN
            f_d[i] = row[8] / _D_MEAN
        else:
            mix[i] = overall[:6]
            cr[i] = overall[6] / overall[0]
    mix /= mix.sum(axis=1, keepdims=True)
    return {"mix": mix, "cr": cr, "f_r": f_r, "f_d": f_d}


def _month_ids(start_min: int, end_min: int) -> list[int]:
    """Month numbers (months since 1970-01) from the month of start_min to end_min's."""
    first, last = (
        int(np.datetime64(v, "m").astype("datetime64[M]").astype(np.int64))
        for v in (start_min, end_min)
    )
    return list(range(first, last + 1))


def _extract_windows(start_min: int, end_min: int, extracts: int) -> list[tuple[int, int]]:
    """Overlap windows (first day, day after last; day numbers) between extracts.

    Extract i+1 starts on the first of a month near the i-th fraction of the range
    (never January, when the shop is closed over New Year); extract i ends a few days
    into that month (9 days for the real two-year range, scaled with the range)."""
    if extracts < 1:
        raise ValueError("extracts must be >= 1")
    if extracts == 1:
        return []
    span = (end_min - start_min) / 1440.0
    overlap = int(min(27, max(3, round(REAL_OVERLAP_DAYS * span / REAL_SPAN_DAYS))))
    first_day, last_day = start_min // 1440, end_min // 1440
    months = np.arange(
        np.datetime64(first_day, "D").astype("datetime64[M]").astype(np.int64),
        np.datetime64(last_day, "D").astype("datetime64[M]").astype(np.int64) + 2,
    )
    firsts = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    firsts = firsts[(months % 12) != 0]
    windows: list[tuple[int, int]] = []
    prev_end = first_day
    for i in range(1, extracts):
        target = (start_min + (end_min - start_min) * i / extracts) / 1440.0
        ok = (firsts >= prev_end + 1) & (firsts + overlap <= last_day)
        cands = firsts[ok]
        if len(cands) and abs(cands[np.argmin(np.abs(cands - target))] - target) < 20:
            cut = int(cands[np.argmin(np.abs(cands - target))])
        else:
            cut = round(target)
        if cut < prev_end + 1 or cut + overlap > last_day:
            raise ValueError(f"date range too short for {extracts} extracts")
        windows.append((cut, cut + overlap))
        prev_end = cut + overlap
    return windows


# ---------------------------------------------------------------------------------
# Catalogue and customer base (fixed: the same shop for every seed)
# ---------------------------------------------------------------------------------

# fmt: off
_COLOURS = (
    "RED", "PINK", "BLUE", "GREEN", "WHITE", "IVORY", "CREAM", "BLACK", "SILVER", "GOLD",
    "PURPLE", "YELLOW", "ORANGE", "LILAC", "TURQUOISE", "NATURAL", "ANTIQUE", "PASTEL", "BROWN",
    "GREY", "CHOCOLATE", "AQUA", "MINT", "ZINC",
)
_MOTIFS = (
    "RETROSPOT", "POLKADOT", "VINTAGE", "REGENCY", "SKULL", "PAISLEY", "STRAWBERRY", "HEART",
    "STAR", "BIRD", "OWL", "ROSE", "FLORAL", "SPACEBOY", "DOLLY GIRL", "WOODLAND", "CHRISTMAS",
    "REINDEER", "SNOWFLAKE", "BUTTERFLY", "GINGHAM", "UNION JACK", "PARIS", "LOVEBIRD",
    "CHERRY", "LEMON", "SPOTTY", "STRIPE", "ENGLISH ROSE", "JUNGLE", "CIRCUS PARADE", "FAIRY",
    "APPLE", "TEA PARTY", "GARDEN", "SEASIDE", "BAROQUE", "MOROCCAN", "SCANDINAVIAN", "KITTEN",
    "DOG", "DINOSAUR", "ROBOT", "TOADSTOOL", "CUPCAKE", "LADYBIRD", "HEN", "SWALLOW", "ORIGAMI",
    "FOLKART", "PANTRY", "GLASS", "WOODEN", "ENAMEL",
)
_ITEMS = (
    "MUG", "LUNCH BAG", "JUMBO BAG", "SHOPPER", "T-LIGHT HOLDER", "CAKE CASES", "DOORMAT",
    "WALL CLOCK", "CUSHION COVER", "PHOTO FRAME", "TEA TOWEL", "NOTEBOOK", "CANDLE", "LANTERN",
    "BUNTING", "PLATE", "BOWL", "CAKE STAND", "TRINKET BOX", "HOT WATER BOTTLE",
    "PAPER NAPKINS", "WRAP", "GREETING CARD", "WATER BOTTLE", "LUNCH BOX", "PICNIC BASKET",
    "STORAGE TIN", "JAM JAR", "EGG CUP", "TEAPOT", "CHALKBOARD", "KEY RING", "HAIR CLIP",
    "NECKLACE", "EARRINGS", "DECORATION", "ORNAMENT", "GARLAND", "PARTY BAG", "STICKERS",
    "PENCIL CASE", "RULER", "PURSE", "UMBRELLA", "APRON", "OVEN GLOVE", "CHOPPING BOARD",
    "COASTER", "PLACEMAT", "METAL SIGN", "DOORSTOP", "DRAWER KNOB", "COAT HANGER", "SOAP DISH",
    "SPONGE", "PARASOL", "WIND CHIME", "BIRD FEEDER", "PLANT POT", "CANDLEHOLDER", "SPOON",
    "BEAKER", "TUMBLER", "JUG", "TRAY", "MIRROR", "SHELF", "CABINET", "HOOK",
)
_SIZES = ("SMALL", "LARGE", "MINI", "JUMBO", "MEDIUM", "GIANT")
_QUOTE_WORDS = (
    "KEEP CLEAN", "HOME", "LOVE", "TEA FOR ONE", "GLAMOROUS", "WELCOME", "HAPPY EASTER",
    "BON APPETIT", "MERRY CHRISTMAS", "SALE",
)
# fmt: on


def _description(rng: np.random.Generator, kind: int) -> str:
    """An invented product description; kind 1 with a comma, 2 with a double quote."""
    u = rng.random(9)

    def pick(seq: Sequence[str], x: float) -> str:
        return seq[int(x * len(seq))]

    col, mot, item, size = (
        pick(_COLOURS, u[0]),
        pick(_MOTIFS, u[1]),
        pick(_ITEMS, u[2]),
        pick(_SIZES, u[3]),
    )
    n = (2, 3, 4, 6, 8, 10, 12, 20, 24, 60, 72)[int(u[4] * 11)]
    if kind == 1:
        forms = (
            f"{item} , {mot} DESIGN",
            f"{item}, {col}",
            f"{mot} {item}, {size}",
            f"{col} {mot} {item},{size}",
            f"SET OF {n} {item}S, {mot}",
        )
    elif kind == 2:
        word = pick(_QUOTE_WORDS, u[5])
        forms = (
            f'{mot} {item} {n}"',
            f'{col} "{word}" {item}',
            f'LETTER "{chr(65 + int(u[6] * 26))}" {item}',
            f'{item} "{word}"',
            f'{col} {item} {n}" {mot}',
        )
    else:
        forms = (
            f"{col} {mot} {item}",
            f"{mot} {item}",
            f"SET OF {n} {mot} {item}S",
            f"PACK OF {n} {mot} {item}",
            f"{size} {mot} {item}",
            f"{item} {mot} DESIGN",
            f"{size} {col} {item}",
            f"{mot} {col} {item}",
            f"SET/{n} {col} {mot} {item}",
        )
    text = forms[int(u[7] * len(forms))][:35]
    if kind == 0 and u[8] < 0.03:
        text = text.replace(" ", "  ", 1)
    elif kind == 0 and u[8] > 0.994:
        text = (text.rstrip() + f" pack/{n}")[:35]
    return text


@dataclass
class _Catalogue:
    """Stock codes, descriptions (CSV-escaped), prices and popularity of the shop."""

    codes: list[str]
    descs: list[str]  # CSV-escaped
    codes_c: list[str]  # the same with a leading comma
    descs_c: list[str]
    code: I64  # per product: index into codes
    desc_old: I64
    desc_new: I64
    desc_switch: I64  # minute from which desc_new is used
    price_old: I64  # mils
    price_new: I64
    price_switch: I64
    bulk_old: I64
    bulk_new: I64
    dot_old: I64
    dot_new: I64
    band: I64  # quantity band 0, 1, 2 by price
    prod_of_code: I64  # per code: its regular product, or -1
    cum: F64  # popularity of regular products (cumulative, normalised)
    n_regular: int
    comma: I64  # products whose description has a comma
    quote: I64  # products whose description has a double quote
    dcgs: I64  # products of the dotcom shop (DCGS codes)
    special_code: dict[str, int]
    special_desc: dict[str, int]
    gift_code: I64
    gift_desc: I64
    gift_price: I64
    w_notes: I64
    w_p: F64
    z_notes: I64
    z_p: F64
    empty_desc: int


@functools.lru_cache(maxsize=1)
def _catalogue() -> _Catalogue:
    rng = np.random.default_rng(20091201)
    codes: list[str] = []
    descs: list[str] = []
    code_ix: dict[str, int] = {}
    desc_ix: dict[str, int] = {}

    def c_ix(s: str) -> int:
        if s not in code_ix:
            code_ix[s] = len(codes)
            codes.append(s)
        return code_ix[s]

    def d_ix(s: str) -> int:
        if s not in desc_ix:
            desc_ix[s] = len(descs)
            descs.append(_csv_field(s))
        return desc_ix[s]

    # Regular products in families sharing a five-digit base.
    fam_sizes = np.array(list(_FAMILY), dtype=np.int64)
    fam_p = np.array(list(_FAMILY.values()), dtype=np.float64)
    pre = np.array(list(_PREFIX2), dtype=np.int64)
    pre_p = np.array(list(_PREFIX2.values()), dtype=np.float64)
    used: set[int] = set()
    p_code: list[int] = []
    p_desc: list[str] = []
    p_price: list[float] = []
    pts = np.array(list(_PRICE_POINTS), dtype=np.float64)
    pts_p = np.array(list(_PRICE_POINTS.values()), dtype=np.float64)
    fam_cum, pre_cum, pts_cum = (np.cumsum(x) / x.sum() for x in (fam_p, pre_p, pts_p))
    while len(p_code) < N_PRODUCTS:
        size = int(fam_sizes[np.searchsorted(fam_cum, rng.random(), side="right")])
        size = min(size, N_PRODUCTS - len(p_code))
        while True:
            base = int(pre[np.searchsorted(pre_cum, rng.random(), side="right")]) * 1000 + int(
                rng.random() * 1000
            )
            if base not in used:
                used.add(base)
                break
        stem = _description(rng, 0)
        if rng.random() < 0.967:
            price = float(pts[np.searchsorted(pts_cum, rng.random(), side="right")])
        else:
            price = round(min(295.0, max(0.04, 6.45 * math.exp(1.3 * rng.standard_normal()))), 2)
        lower = rng.random() < 0.08
        for j in range(size):
            if size == 1:
                suffix = "" if rng.random() > 0.03 else "A"
                text = stem
            else:
                suffix = chr(65 + j) if j < 26 else "Z"
                colour = _COLOURS[(j * 7 + int(base)) % len(_COLOURS)]
                words = stem.split(" ")
                at = [k for k, w in enumerate(words) if w in _COLOURS]
                if at:
                    words[at[0]] = colour
                text = " ".join(words) if j else stem
                if j and text == stem:
                    text = (stem.rstrip() + " " + colour)[:35]
            if lower:
                suffix = suffix.lower()
            if size > 1 and rng.random() < 0.005:
                suffix += "L"
            p_code.append(c_ix(f"{base:05d}{suffix}"))
            p_desc.append(text)
            p_price.append(price)
    n_regular = len(p_code)
    # Popularity (cheap lines sell a little more often).
    rank = np.arange(n_regular)
    weights = np.exp(-((rank / 300.0) ** 0.6)) * np.exp(0.3 * rng.standard_normal(n_regular))
    weights = weights[rng.permutation(n_regular)] * np.array(p_price) ** -0.1
    share = weights / weights.sum()
    cum = np.cumsum(share)
    # Awkward descriptions on products selling the real share of lines.
    taken = np.zeros(n_regular, dtype=bool)

    def by_share(target: float) -> list[int]:
        order = rng.permutation(n_regular)
        order = order[~taken[order]]
        k = int(np.searchsorted(np.cumsum(share[order]), target)) + 1
        taken[order[:k]] = True
        return [int(i) for i in order[:k]]

    for i in by_share(SHARE_COMMA):
        p_desc[i] = _description(rng, 1)
    for i in by_share(SHARE_QUOTE):
        p_desc[i] = _description(rng, 2)
    taken[:] = False
    for i in by_share(SHARE_TRAILING_SPACE):
        p_desc[i] = p_desc[i].rstrip()[:34] + " "
    for i in by_share(SHARE_LEADING_SPACE):
        p_desc[i] = " " + p_desc[i][:34]
    # DCGS products of the dotcom shop.
    dcgs_codes = [
        f"DCGS{i:04d}" for i in rng.choice(np.arange(1, 80), N_DCGS - 4, replace=False).tolist()
    ]
    dcgs_codes += ["DCGSSBOY", "DCGSSGIRL", "DCGSLBOY", "DCGSLGIRL"]
    for c in dcgs_codes:
        p_code.append(c_ix(c))
        p_desc.append("" if rng.random() < 0.45 else _description(rng, 0))
        p_price.append(float(rng.choice([0.83, 1.25, 2.5, 3.29, 4.95, 8.5])))
    n_all = len(p_code)
    code = np.array(p_code, dtype=np.int64)
    desc_old = np.array([d_ix(t) for t in p_desc], dtype=np.int64)
    # Some descriptions and prices change once during 2010-2011.
    lo_t, hi_t = _parse_minutes("2010-02-01"), _parse_minutes("2011-11-01")
    never = np.iinfo(np.int64).max
    new_desc = []
    for t in p_desc:
        r = rng.random()
        if not t or r > 0.12:
            new_desc.append(t)
        elif r < 0.05:
            new_desc.append(t.rstrip() if t.endswith(" ") else (t[:34] + " "))
        elif r < 0.08:
            new_desc.append(
                t.replace("CHRISTMAS", "XMAS").replace("SET OF ", "SET/").replace(" AND ", " & ")
                or t
            )
        else:
            new_desc.append((t.strip() + " " + _SIZES[int(rng.integers(len(_SIZES)))])[:35])
    desc_new = np.array([d_ix(t) for t in new_desc], dtype=np.int64)
    desc_switch = np.where(desc_new != desc_old, rng.integers(lo_t, hi_t, n_all), never)
    price_old = np.rint(np.array(p_price) * 100).astype(np.int64) * 10
    rise = rng.uniform(1.03, 1.25, n_all)
    price_new = np.where(
        price_old >= 1000, np.rint(price_old * rise / 50) * 50, np.rint(price_old * rise / 10) * 10
    ).astype(np.int64)
    changes = rng.random(n_all) < 0.25
    price_new = np.where(changes, np.maximum(price_new, price_old + 10), price_old)
    price_switch = np.where(changes, rng.integers(lo_t, hi_t, n_all), never)

    def bulk(p: I64) -> I64:
        return (np.maximum(np.rint(p * 0.085), 1) * 10).astype(np.int64)

    dot_factor = rng.uniform(1.95, 2.05, n_all)

    def dot(p: I64) -> I64:
        return (np.rint(p * dot_factor / 10 + 1) * 10).astype(np.int64)

    price_f = price_old / 1000.0
    band = np.where(price_f < 1.0, 0, np.where(price_f < 4.0, 1, 2)).astype(np.int64)
    texts = np.array([descs[i] for i in desc_old[:n_regular].tolist()], dtype=object)
    comma = np.array([i for i, t in enumerate(texts) if "," in t and '""' not in t], dtype=np.int64)
    quote = np.array([i for i, t in enumerate(texts) if '""' in t], dtype=np.int64)
    special_code: dict[str, int] = {}
    special_desc: dict[str, int] = {}
    for c, d, *_ in _SPECIALS:
        special_code[c + "|" + d] = c_ix(c)
        special_desc[c + "|" + d] = d_ix(d)
    for c, d, _ in _EXTRA_LINES.values():
        special_code[c + "|" + d] = c_ix(c)
        special_desc[c + "|" + d] = d_ix(d)
    special_code["B"] = c_ix("B")
    special_desc["B"] = d_ix("Adjust bad debt")
    gift_code, gift_desc, gift_price = [], [], []
    for v in range(10, 100, 10):
        gift_code.append(c_ix(f"gift_0001_{v}"))
        gift_desc.append(d_ix(f"Dotcomgiftshop Gift Voucher £{v}.00" if v <= 50 else ""))
        gift_price.append(round(v * 0.851 * 100) * 10)
    w_notes = np.array([d_ix(t) for t in _W_NOTES], dtype=np.int64)
    z_notes = np.array([d_ix(t) for t in _Z_NOTES], dtype=np.int64)
    prod_of_code = np.full(len(codes), -1, dtype=np.int64)
    prod_of_code[code[:n_regular]] = np.arange(n_regular)
    return _Catalogue(
        codes=codes,
        descs=descs,
        codes_c=["," + c for c in codes],
        descs_c=["," + d for d in descs],
        code=code,
        desc_old=desc_old,
        desc_new=desc_new,
        desc_switch=desc_switch,
        price_old=price_old,
        price_new=price_new,
        price_switch=price_switch,
        bulk_old=bulk(price_old),
        bulk_new=bulk(price_new),
        dot_old=dot(price_old),
        dot_new=dot(price_new),
        band=band,
        prod_of_code=prod_of_code,
        cum=cum,
        n_regular=n_regular,
        comma=comma,
        quote=quote,
        dcgs=np.arange(n_regular, n_all, dtype=np.int64),
        special_code=special_code,
        special_desc=special_desc,
        gift_code=np.array(gift_code, dtype=np.int64),
        gift_desc=np.array(gift_desc, dtype=np.int64),
        gift_price=np.array(gift_price, dtype=np.int64),
        w_notes=w_notes,
        w_p=np.array(list(_W_NOTES.values())),
        z_notes=z_notes,
        z_p=np.array(list(_Z_NOTES.values())),
        empty_desc=d_ix(""),
    )


def _countries() -> list[str]:
    names = list(_CUSTOMER_COUNTRIES)
    for table in (_DOTCOM_COUNTRIES, _OTHER_NOCUST_COUNTRIES):
        names += [c for c in table if c not in names]
    return names


COUNTRIES = _countries()
_COUNTRY_IX = {c: i for i, c in enumerate(COUNTRIES)}
UK = _COUNTRY_IX["United Kingdom"]
EIRE = _COUNTRY_IX["EIRE"]


def _customer_statics(pool: int) -> tuple[I64, F64]:
    """Country and activity of customers 0..pool-1.

    Fixed for the shop (independent of the seed and of the pool size: customer i keeps
    its country and activity). Countries are dealt in blocks of 1,000 customers by
    quota, foreign customers spread evenly over the activity ranks of their block, so
    that the share of lines by country is stable; countries too rare for a quota get
    fixed customers within the first ~5,900 ids (so the real-size pool has them all)."""
    block = 1000
    n = max(1, -(-pool // block)) * block
    z = np.random.default_rng(12346).standard_normal(n)
    activity = np.exp(CUSTOMER_SIGMA * z + 0.2 * np.maximum(z - 2.0, 0.0) ** 1.5)
    names = list(_CUSTOMER_COUNTRIES)
    counts = np.array(list(_CUSTOMER_COUNTRIES.values()), dtype=np.float64)
    rare = [i for i, c in enumerate(counts) if c < 10]
    common = [i for i in range(len(names)) if i not in rare and names[i] != "United Kingdom"]
    uk = names.index("United Kingdom")
    share = counts / counts[[uk, *common]].sum() * block
    quota = {i: int(share[i]) for i in common}
    left = block - int(share[uk]) - sum(quota.values())
    for i in sorted(common, key=lambda i: share[i] - int(share[i]), reverse=True)[:left]:
        quota[i] += 1
    foreign = np.array([i for i in common for _ in range(quota[i])], dtype=np.int64)
    country = np.full(n, uk, dtype=np.int64)
    for b in range(n // block):
        rng = np.random.default_rng([12346, b])
        ranks = np.argsort(-activity[b * block : (b + 1) * block], kind="stable")
        slots = np.floor(
            (np.arange(len(foreign)) + rng.random(len(foreign))) * block / len(foreign)
        ).astype(np.int64)
        country[b * block + ranks[slots]] = rng.permutation(foreign)
    rare_idx = {
        41 + 131 * j + 2903 * k: ci for j, ci in enumerate(rare) for k in range(int(counts[ci]))
    }
    # The heaviest customers, like the real ones, are mostly British.
    top = np.argsort(-activity[: min(n, REAL_CUSTOMERS)], kind="stable")
    top = [int(i) for i in top if int(i) not in rare_idx][: len(_HEAVY_COUNTRIES)]
    for k, idx in enumerate(top):
        country[idx] = names.index(_HEAVY_COUNTRIES[k])
    for idx, ci in rare_idx.items():
        if idx < n:
            country[idx] = ci
    country_global = np.array([_COUNTRY_IX[c] for c in names], dtype=np.int64)[country]
    return country_global[:pool], activity[:pool]


# ---------------------------------------------------------------------------------
# Plan: one row per invoice
# ---------------------------------------------------------------------------------


@dataclass
class _Plan:
    ts: I64  # invoice minute
    kind: IntA
    n: IntA  # lines
    cust: IntA  # customer index or -1
    country: IntA
    num: I64  # invoice number
    special: IntA  # extra line of R/D invoices (SP_*) or special index of X/CS
    amount: IntA  # price of A invoices (mils)
    split_pos: IntA  # first line running later (n when none)
    split_off: IntA  # minutes later
    cr: IntA  # index of the cancellation reversing this invoice, or -1
    cr_n: IntA  # lines of that cancellation
    orig: IntA  # for CR: index of the original, else (and for an order not in the file) -1
    force: IntA  # 1: duplicate line, 2: description with comma, 4: with double quote
    windows: list[tuple[int, int]]
    pool: int


def _assign_customers(rng: np.random.Generator, slot_month: I64, pool: int) -> I64:
    """Customer of each customer-invoice slot (slots sorted by time; month index).

    Customers are acquired over time (a bump in the first month: the existing base),
    buy with a heavy-tailed activity until they churn, and each buys at least once."""
    n_slots = len(slot_month)
    out = np.empty(n_slots, dtype=np.int64)
    if n_slots == 0 or pool == 0:
        return np.full(n_slots, -1, dtype=np.int64)
    _, activity = _customer_statics(pool)
    n_months = int(slot_month.max()) + 1
    slots_m = np.bincount(slot_month, minlength=n_months).astype(np.float64)
    if n_slots < pool:  # fewer invoices than customers: no acquisition schedule
        cum = np.cumsum(activity)
        return np.searchsorted(cum, rng.random(n_slots) * cum[-1], side="right")
    q = slots_m * np.exp(-np.arange(n_months) / ACQ_DECAY_MONTHS)
    if n_months > 1:
        q[0] = 0.0
        q = q / max(q.sum(), 1e-12) * (1 - ACQ_FIRST_SHARE)
        q[0] = ACQ_FIRST_SHARE
    new_m = rng.multinomial(pool, q / q.sum()).astype(np.int64)
    cap = np.bincount(slot_month, minlength=n_months)
    carry = 0
    for m in range(n_months):  # no month acquires more customers than it has slots
        new_m[m] += carry
        carry = max(0, int(new_m[m] - cap[m]))
        new_m[m] -= carry
    for m in range(n_months - 1, -1, -1):
        if carry == 0:
            break
        room = int(cap[m] - new_m[m])
        take = min(room, carry)
        new_m[m] += take
        carry -= take
    order = rng.permutation(pool)
    acq = np.empty(pool, dtype=np.int64)
    acq[order] = np.repeat(np.arange(n_months), new_m)
    last = acq + rng.exponential(CUSTOMER_LIFE_MONTHS, pool)
    last[activity > np.exp(2 * CUSTOMER_SIGMA)] = np.inf  # big accounts stay
    starts = np.concatenate([[0], np.cumsum(cap)])
    for m in range(n_months):
        s0, s1 = int(starts[m]), int(starts[m + 1])
        if s1 == s0:
            continue
        perm = s0 + rng.permutation(s1 - s0)
        newbies = order[int(new_m[:m].sum()) : int(new_m[: m + 1].sum())]
        out[perm[: len(newbies)]] = newbies
        rest = perm[len(newbies) :]
        if len(rest):
            active = np.flatnonzero((acq <= m) & (last >= m))
            if len(active) == 0:
                active = np.flatnonzero(acq <= m)
            if len(active) == 0:
                active = np.arange(pool)
            cum = np.cumsum(activity[active])
            pick = np.searchsorted(cum, rng.random(len(rest)) * cum[-1], side="right")
            out[rest] = active[np.minimum(pick, len(active) - 1)]
    return out


def _make_plan(
    rows: int,
    seed: int,
    start_min: int,
    end_min: int,
    extracts: int,
    customers: int | None,
    first_invoice_no: int,
) -> _Plan:
    rng = np.random.default_rng([seed, 1])
    rates, dow, seasonal = _real_rates()
    windows = _extract_windows(start_min, end_min, extracts)
    probe = _Calendar(start_min, end_min)
    month_rates = {
        int(m): rates.get(int(m), seasonal[int(m) % 12]) for m in np.unique(probe.month_id).tolist()
    }
    cal = _Calendar(start_min, end_min, month_rates, dow)
    n_days = len(cal.days)
    months_u, day_month = np.unique(cal.month_id, return_inverse=True)
    table = _month_table(months_u)
    in_window = np.zeros(n_days, dtype=bool)
    for a, b in windows:
        in_window[(cal.days >= a) & (cal.days < b)] = True
    cap = max(5, rows // 40)

    # Expected rows per day-level invoice, to size the invoice count.
    mc = np.random.default_rng(7)
    e_r = float(np.minimum(_sample_cdf(mc, 20000, _R_GRID, _R_CDF), cap).mean())
    e_d = float(np.minimum(_sample_cdf(mc, 20000, _D_GRID, _D_CDF), cap).mean())
    mix, crr = table["mix"], table["cr"]
    e_month = (
        mix[:, 0] * (e_r * table["f_r"] + crr * 2.3)
        + mix[:, 1] * e_d * table["f_d"]
        + mix[:, 2:].sum(axis=1)
    )
    p_day = cal.intensity / cal.intensity.sum()
    e_day = e_month[day_month] * (1 + in_window)
    n_inv = max(8, round(rows / float((p_day * e_day).sum())))

    # Day-level invoices: day, time, kind.
    day_idx = np.repeat(np.arange(n_days), rng.multinomial(n_inv, p_day))
    ts = cal.sample_minutes(rng, day_idx)
    cum_mix = np.cumsum(mix, axis=1)
    u = rng.random(n_inv)
    inv_month = day_month[day_idx]
    kind = np.empty(n_inv, dtype=np.int64)
    for m in range(len(months_u)):
        sel = inv_month == m
        kind[sel] = np.searchsorted(cum_mix[m], u[sel], side="left")
    del u, inv_month
    kind = np.minimum(kind, K_CS)
    order = np.argsort(ts, kind="stable")
    ts, kind, day_idx = ts[order], kind[order], day_idx[order]

    # Guarantee the edge cases in small files.
    def convert(to_kind: int, need: int) -> None:
        have = int((kind == to_kind).sum())
        cands = np.flatnonzero((kind == K_R) & ~in_window[day_idx])
        if have < need and len(cands) > 3 + need:
            pick = rng.choice(cands, need - have, replace=False)
            kind[pick] = to_kind

    convert(K_W, 1)
    convert(K_D, 1)
    convert(K_Z, 1)
    for a, b in windows:  # each overlap holds invoices on its first and last open day
        sel = np.flatnonzero((cal.days[day_idx] >= a) & (cal.days[day_idx] < b))
        open_days = np.flatnonzero((cal.days >= a) & (cal.days < b) & (cal.open_weight > 0))
        if len(open_days) < 2:
            open_days = np.flatnonzero((cal.days >= a) & (cal.days < b))
        first_d, last_d = int(open_days[0]), int(open_days[-1])
        if len(sel) and ts[sel].max() - ts[sel].min() > 1440 + 60:
            continue
        movable = np.flatnonzero((kind == K_R) & ~in_window[day_idx])
        if len(movable) < 4:
            movable = np.flatnonzero(~in_window[day_idx])
        pick = rng.choice(movable, 2, replace=False)
        for p_i, d_i, minute in ((pick[0], first_d, 9 * 60 + 30), (pick[1], last_d, 16 * 60)):
            day_idx[p_i] = d_i
            ts[p_i] = cal.days[d_i] * 1440 + int(np.clip(minute, cal.lo[d_i], cal.hi[d_i]))
            kind[p_i] = K_R
    order = np.argsort(ts, kind="stable")
    ts, kind, day_idx = ts[order], kind[order], day_idx[order]
    n_day_inv = len(ts)

    # Lines per invoice.
    n = np.ones(n_day_inv, dtype=np.int64)
    is_r, is_d = kind == K_R, kind == K_D
    f_r, f_d = table["f_r"][day_month[day_idx]], table["f_d"][day_month[day_idx]]
    raw = _sample_cdf(rng, n_day_inv, _R_GRID, _R_CDF)
    n = np.where(is_r, np.where(raw > 1, np.maximum(2, np.rint(raw * f_r)), 1), n)
    raw = _sample_cdf(rng, n_day_inv, _D_GRID, _D_CDF)
    n = np.where(is_d, np.where(raw > 1, np.maximum(2, np.rint(raw * f_d)), 1), n)
    n = np.minimum(n, min(cap, _D_GRID[-1])).astype(np.int64)
    del raw, f_r, f_d

    # Special codes of X and CS invoices; which of them have a customer.
    special = np.zeros(n_day_inv, dtype=np.int64)
    has_cust = is_r.copy()
    for k_kind, col, ncol in ((K_X, 2, 4), (K_CS, 3, 5)):
        sel = np.flatnonzero(kind == k_kind)
        if len(sel):
            w = [s[col] for s in _SPECIALS]
            special[sel] = _choice_index(rng, len(sel), w)
            p_nc = np.array([s[ncol] for s in _SPECIALS])[special[sel]]
            has_cust[sel] = rng.random(len(sel)) >= p_nc

    # Customers.
    month_of = day_month[day_idx]
    slots = np.flatnonzero(has_cust)
    if customers is None:
        # invoices per customer grow with the span (6.3 over the real two years)
        span = max((end_min - start_min) / 1440.0, 1.0) / REAL_SPAN_DAYS
        per_cust = 1 + 5.3 * span**0.8
        pool = round(REAL_CUSTOMERS * rows / REAL_ROWS * 6.3 / float(per_cust))
        pool = max(1, min(pool, len(slots), MAX_CUSTOMERS))
    else:
        if not 1 <= customers <= MAX_CUSTOMERS:
            raise ValueError(f"customers must be within 1..{MAX_CUSTOMERS}")
        pool = customers
    cust = np.full(n_day_inv, -1, dtype=np.int64)
    cust[slots] = _assign_customers(rng, month_of[slots], pool)
    cust_country, _ = _customer_statics(pool)
    country = np.full(n_day_inv, UK, dtype=np.int64)
    country[slots] = cust_country[cust[slots]]
    for k_kind, tab in (
        (K_D, _DOTCOM_COUNTRIES),
        (K_X, _OTHER_NOCUST_COUNTRIES),
        (K_CS, _OTHER_NOCUST_COUNTRIES),
    ):
        sel = np.flatnonzero((kind == k_kind) & ~has_cust)
        if len(sel):
            names = list(tab)
            country[sel] = np.array([_COUNTRY_IX[c] for c in names])[
                _choice_index(rng, len(sel), list(tab.values()))
            ]
    sel_d = np.flatnonzero(is_d & (country == UK))
    if len(sel_d) >= 1000:  # at the real size every country of the shop appears
        missing = [c for c in _DOTCOM_COUNTRIES if not (country == _COUNTRY_IX[c]).any()]
        small = sel_d[n[sel_d] <= 10] if (n[sel_d] <= 10).sum() >= len(missing) else sel_d
        for c, i in zip(
            missing, rng.choice(small, len(missing), replace=False).tolist(), strict=True
        ):
            country[i] = _COUNTRY_IX[c]

    # Dotcom orders from abroad are small.
    abroad_d = is_d & (country != UK) & (n > 1)
    n = np.where(abroad_d, np.maximum(1, np.rint(n * 0.4)), n).astype(np.int64)

    # Extra last line of R and D invoices (postage, carriage, manual, ...).
    u = rng.random(n_day_inv)
    multi = n >= 2
    foreign = (country != UK) & (country != EIRE)
    r_extra = np.select(
        [
            foreign & (u < P_POST_FOREIGN),
            (country == EIRE) & (u < P_C2_EIRE),
            (country == UK) & (u < 0.002),
            (country == UK) & (u > 0.987),
            (country == UK) & (u > 0.987 - P_PADS_UK) & (u <= 0.987),
        ],
        [SP_POST, SP_C2, SP_C2, SP_M, SP_PADS],
        SP_NONE,
    )
    d_extra = np.select(
        [u < P_DOT_LINE, u > 0.98, (u > 0.978) & (u <= 0.98), (u > 0.976) & (u <= 0.978)],
        [SP_DOT, SP_M, SP_M_LOWER, SP_POST],
        SP_NONE,
    )
    special = np.where(is_r & multi, r_extra, special)
    special = np.where(is_d & multi, d_extra, special)
    del u, multi, foreign, r_extra, d_extra
    n_prod = n - ((is_r | is_d) & (special > 0))

    # Forced features of small files: duplicate line, comma and quote descriptions.
    force = np.zeros(n_day_inv, dtype=np.int64)
    cands = np.flatnonzero(is_r & ~in_window[day_idx])
    if len(cands) == 0:
        cands = np.flatnonzero(is_r)
    if len(cands):
        pick = rng.choice(cands, min(3, len(cands)), replace=False)
        for j, flag in enumerate((1, 2, 4)):
            i = int(pick[j % len(pick)])
            force[i] |= flag
        need = np.where(
            force > 0, np.bitwise_count(force.astype(np.uint64)).astype(np.int64) + 1, 0
        )
        grow = np.maximum(need - n_prod, 0)
        n += grow
        n_prod += grow

    # Cancellations reversing lines of an R invoice of the same customer.
    size_w = np.minimum(n_prod, 80).astype(np.float64) ** 0.75
    size_w = size_w / max(float(size_w[is_r].mean()) if is_r.any() else 1.0, 1e-9)
    p_cr = np.minimum(crr[month_of] * size_w, 0.9) * is_r
    chosen = rng.random(n_day_inv) < p_cr
    if not chosen.any() and is_r.any():
        chosen[int(rng.choice(np.flatnonzero(is_r)))] = True
    orig_idx = np.flatnonzero(chosen)

    def sizes(origs: I64) -> I64:
        size = np.minimum(_sample_pmf(rng, len(origs), (1.0, _CR_PMF)), n_prod[origs])
        return np.maximum(size, 1)

    cr_size = sizes(orig_idx)
    cr_ts = _cancel_times(rng, cal, ts[orig_idx], day_idx[orig_idx], cr_size)
    ok = cr_ts >= 0
    if not ok.any() and len(orig_idx):  # tiny files: take the earliest R invoice
        orig_idx = np.flatnonzero(is_r)[:1]
        cr_size = sizes(orig_idx)
        cr_ts = _cancel_times(rng, cal, ts[orig_idx], day_idx[orig_idx], cr_size, force_ok=True)
        ok = cr_ts >= 0
    orig_idx, cr_ts, cr_size = orig_idx[ok], cr_ts[ok], cr_size[ok]
    # Cancellations of orders placed before the data starts (their originals are not in
    # the file, as in the real file's first months): orders of the days before, at the
    # rate of their months (the real file starts after the November peak), each of a
    # customer of the first weeks and cancelled after its own lag.
    back_days = int(_cancel_lag_edges()[-1])
    before_min = start_min - back_days * 1440
    before_rates = {
        m: rates.get(m, seasonal[m % 12]) for m in _month_ids(before_min, start_min - 1)
    }
    before = _Calendar(before_min, start_min - 1, before_rates, dow)
    rate_ratio = np.mean([before_rates[m] for m in before.month_id.tolist()]) / np.mean(
        [month_rates[m] for m in cal.month_id.tolist()]
    )
    per_day = float(chosen.sum()) / max((end_min - start_min + 1) / 1440.0, 1.0)
    n_before = int(rng.poisson(per_day * len(before.days) * rate_ratio))
    donors = np.flatnonzero(chosen & (day_idx < min(ORPHAN_WINDOW_DAYS, n_days)))
    if not len(donors):
        n_before = 0
    src = donors[rng.integers(0, max(len(donors), 1), n_before)]
    o_day = before.days[_choice_index(rng, n_before, before.intensity)] - cal.day0  # < 0
    o_size = sizes(src)
    o_ts = _cancel_times(rng, cal, (cal.day0 + o_day) * 1440, o_day, o_size)
    o_ok = o_ts >= 0
    is_orphan = np.r_[
        rng.random(len(orig_idx)) < P_CANCEL_NOT_IN_FILE, np.ones(int(o_ok.sum()), dtype=bool)
    ]
    orig_idx = np.r_[orig_idx, src[o_ok]]
    cr_ts = np.r_[cr_ts, o_ts[o_ok]]
    cr_size = np.r_[cr_size, o_size[o_ok]]
    del size_w, p_cr, chosen, donors, src, o_day, o_size, o_ts, o_ok
    cr_day = cr_ts // 1440 - cal.day0
    cr_in_window = in_window[cr_day]

    # A: bad-debt adjustments (a single one, or +x, -x, -x in three minutes).
    n_events = max(1, round(rows * A_PER_ROW))
    ev_day = _choice_index(rng, n_events, cal.intensity)
    ev_ts = cal.sample_minutes(rng, ev_day)
    ev_amount = np.rint(30000 * np.exp(0.6 * rng.standard_normal(n_events)) * 100) * 10
    can_triple = np.flatnonzero((ev_ts % 1440 < 1400) & (ev_ts + 2 <= end_min))
    triple = np.zeros(n_events, dtype=bool)
    triple[rng.permutation(can_triple)[: round(n_events * A_TRIPLE_SHARE)]] = True
    a_ts, a_amount = [], []
    for t, amt, tr in zip(
        ev_ts.tolist(), ev_amount.astype(np.int64).tolist(), triple.tolist(), strict=True
    ):
        if tr:
            a_ts += [t, t + 1, t + 2]
            a_amount += [amt, -amt, -amt]
        else:
            a_ts.append(t)
            a_amount.append(-amt)
    a_ts_arr = np.array(a_ts, dtype=np.int64)
    a_in_window = in_window[a_ts_arr // 1440 - cal.day0]

    # Exact number of rows: nudge R/D line counts outside the overlap windows.
    weight = 1 + in_window[day_idx].astype(np.int64)
    total = int((n * weight).sum() + (cr_size * (1 + cr_in_window)).sum() + (1 + a_in_window).sum())
    is_orig = np.zeros(n_day_inv, dtype=bool)
    is_orig[orig_idx] = True
    adjustable = (is_r | is_d) & (weight == 1) & ~is_orig & (force == 0)
    n_min = np.where((is_r | is_d) & (special > 0), 2, 1)
    diff = rows - total
    adj = np.flatnonzero(adjustable)
    if diff > 0 and len(adj):
        w = n[adj].astype(np.float64)
        n[adj] += rng.multinomial(diff, w / w.sum())
    elif diff < 0:
        need = -diff
        while need > 0 and len(adj):
            room = n[adj] - n_min[adj]
            if room.sum() <= 0:
                break
            take = np.minimum(rng.multinomial(need, room / room.sum()), room)
            n[adj] -= take
            need -= int(take.sum())
        if need > 0:  # remove whole single-line invoices
            single = np.flatnonzero(
                (n == 1) & (weight == 1) & ~is_orig & (force == 0) & (kind != K_A)
            )
            drop = rng.permutation(single)[:need]
            keep = np.ones(n_day_inv, dtype=bool)
            keep[drop] = False
            remap = np.cumsum(keep) - 1
            orig_idx = remap[orig_idx]
            ts, kind, n, cust, country, special, force, day_idx = (
                a[keep] for a in (ts, kind, n, cust, country, special, force, day_idx)
            )
            n_day_inv = len(ts)
    n_prod = n - (((kind == K_R) | (kind == K_D)) & (special > 0))
    del weight, is_orig, adjustable, n_min

    # Lines of 20+ line invoices that run a minute (or a few) later.
    split_off = np.where(rng.random(n_day_inv) < 0.96, 1, rng.integers(2, 10, n_day_inv))
    day_end = (ts // 1440) * 1440 + 1439
    can_split = (
        ((kind == K_R) | (kind == K_D))
        & (n >= 20)
        & (ts + split_off <= np.minimum(day_end, end_min))
    )
    split = can_split & (rng.random(n_day_inv) < P_SPLIT)
    split_pos = np.where(
        split,
        n_prod
        - np.maximum(1, np.floor(n_prod * rng.uniform(0.05, 0.4, n_day_inv)).astype(np.int64)),
        n,
    )
    split_off = np.where(split, split_off, 0)
    del day_end, can_split, split, month_of, has_cust, is_r, is_d

    # Merge cancellations and adjustments, sort by time, number the invoices.
    n_cr, n_a = len(orig_idx), len(a_ts_arr)
    all_ts = np.concatenate([ts, cr_ts, a_ts_arr])
    tot = len(all_ts)
    base_kind = np.concatenate([kind, np.full(n_cr, K_CR), np.full(n_a, K_A)])
    order = np.lexsort((rng.random(tot), all_ts))
    rank = np.empty(tot, dtype=np.int64)
    rank[order] = np.arange(tot)

    def cat(a: I64, cr_vals: I64 | int, a_vals: I64 | int, dtype: Any = np.int32) -> IntA:
        """Day-level, cancellation and adjustment values in final order (narrow dtype:
        the plan is the only part whose memory grows with the file)."""
        full = np.concatenate(
            [
                a,
                np.broadcast_to(np.asarray(cr_vals, dtype=np.int64), n_cr),
                np.broadcast_to(np.asarray(a_vals, dtype=np.int64), n_a),
            ]
        )
        return full[order].astype(dtype)

    cr_field = np.full(n_day_inv, -1, dtype=np.int64)
    cr_field[orig_idx[~is_orphan]] = rank[n_day_inv + np.flatnonzero(~is_orphan)]
    cr_n_field = np.zeros(n_day_inv, dtype=np.int64)
    cr_n_field[orig_idx[~is_orphan]] = cr_size[~is_orphan]
    orig_field = np.where(is_orphan, -1, rank[orig_idx])
    # Numbers skip a few now and then (mean gap 1.72 as in the real file), less when
    # that keeps them six-digit (up to ~10 M rows from the default first number).
    p_gap = P_INVOICE_GAP
    room = 999_999 - first_invoice_no
    if tot * (1 + p_gap * 7.6) > room:
        p_gap = max(0.0, (room / max(tot, 1) - 1) / 7.6)
    gaps = np.where(rng.random(tot) < p_gap, 2 + rng.geometric(1 / 7.6, tot) - 1, 1)
    gaps[0] = 0
    plan = _Plan(
        ts=all_ts[order],
        kind=base_kind[order].astype(np.int8),
        n=cat(n, cr_size, 1),
        cust=cat(cust, cust[orig_idx], -1),
        country=cat(country, country[orig_idx], UK, np.int8),
        num=first_invoice_no + np.cumsum(gaps),
        special=cat(special, 0, 0, np.int8),
        amount=cat(
            np.zeros(n_day_inv, dtype=np.int64), 0, np.array(a_amount, dtype=np.int64), np.int64
        ),
        split_pos=cat(split_pos, cr_size, 1),
        split_off=cat(split_off, 0, 0, np.int8),
        cr=cat(cr_field, -1, -1),
        cr_n=cat(cr_n_field, 0, 0),
        orig=cat(np.full(n_day_inv, -1, dtype=np.int64), orig_field, -1),
        force=cat(force, 0, 0, np.int8),
        windows=windows,
        pool=pool,
    )
    return plan


def _cancel_lag_edges() -> I64:
    """Bin edges (days) the lags are drawn from: the table's, stretched beyond
    `CANCEL_LAG_STRETCH` (a factor >= 1, so that the bins keep at least a day)."""
    edges = np.asarray(_CANCEL_LAG_EDGES, dtype=np.int64)
    start, factor = CANCEL_LAG_STRETCH
    stretched = np.rint(start + (edges - start) * max(factor, 1.0)).astype(np.int64)
    return np.where(edges > start, stretched, edges)


@functools.lru_cache(maxsize=1)
def _cancel_lag_weights() -> tuple[F64, F64]:
    """Weights of the lag bins for small and large cancellations.

    The real counts are what a window of `REAL_SPAN_DAYS` lets one see: a lag of L days
    is observed only for originals in the first span - L days (the others' cancellations
    fall after the end, or their originals before the start). Dividing by span - L gives
    the lags themselves; the generator's own window then cuts them as the real one did."""
    edges = np.asarray(_CANCEL_LAG_EDGES, dtype=np.float64)
    seen = REAL_SPAN_DAYS - (edges[:-1] + edges[1:] - 1) / 2
    return (
        np.asarray(_CANCEL_LAG_SMALL, dtype=np.float64) / seen,
        np.asarray(_CANCEL_LAG_LARGE, dtype=np.float64) / seen,
    )


def _cancel_times(
    rng: np.random.Generator,
    cal: _Calendar,
    orig_ts: I64,
    orig_day: I64,
    size: I64,
    force_ok: bool = False,
) -> I64:
    """Time of the cancellation of each original (-1 when outside the data).

    The lag in whole days follows the real table (`_CANCEL_LAG_EDGES`) for the
    cancellation's number of lines (``size``: larger ones come later), so that
    cancellations reverse orders of the same day, of the days before and of earlier
    months alike. Each original weighs the lag bins by the trading weight of their days
    (weekday, hours, closures: no cancellation on a closed day), the table being
    divided by each bin's mean weight so that over all originals the lags are the
    table's; the day within the bin by its weight, the time of day by the hour profile
    (lag 0: later on the original's day). ``orig_day`` may be negative (an original
    before the data); days outside the data weigh as a mean day, and a cancellation
    that falls there is -1."""
    k = len(orig_ts)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    n_days = len(cal.days)
    edges = _cancel_lag_edges()
    small_w, large_w = _cancel_lag_weights()
    weight = cal.day_weight / max(float(cal.day_weight.max()), 1e-12)
    pad = int(edges[-1]) + 1
    ext = np.r_[np.full(pad, weight.mean()), weight, np.full(pad, weight.mean())]
    cw = np.r_[0.0, np.cumsum(ext)]  # cw[pad + d]: weight of the days before day d
    d0 = np.clip(orig_day, 0, n_days - 1)
    minute = np.clip(orig_ts - cal.days[d0] * 1440, 0, 1439)  # exact where orig_day >= 0
    mc = _minute_cdf()
    rest = mc[cal.weekday[d0], cal.hi[d0] + 1] - mc[cal.weekday[d0], np.minimum(minute + 1, 1440)]
    can_today = (orig_day >= 0) & (minute < cal.hi[d0]) & (cal.intensity[d0] > 0) & (rest > 0)
    # mean weight of each original's bins (k x bins); lag 0 only when trading goes on
    a = np.clip(orig_day[:, None] + edges[None, :-1] + pad, 0, len(ext))
    z = np.clip(orig_day[:, None] + edges[None, 1:] + pad, 0, len(ext))
    w_bins = (cw[z] - cw[a]) / (edges[1:] - edges[:-1])[None, :]
    w_bins[:, 0] = np.where(can_today, weight[d0], 0.0)
    mean_w = w_bins.mean(axis=0)
    table = (
        np.where((size >= CANCEL_LARGE_LINES)[:, None], large_w[None, :], small_w[None, :])
        / np.where(mean_w > 0, mean_w, np.inf)[None, :]
    )
    cum = np.cumsum(table * w_bins, axis=1)
    b = np.minimum((cum < rng.random(k)[:, None] * cum[:, -1:]).sum(axis=1), len(edges) - 2)
    rows = np.arange(k)
    lo_c, hi_c = cw[a[rows, b]], cw[z[rows, b]]
    x = lo_c + (1.0 - rng.random(k)) * (hi_c - lo_c)
    day = np.searchsorted(cw, x, side="left") - 1 - pad
    day = np.where(b == 0, orig_day, day)
    ok = (cum[:, -1] > 0) & (day >= 0) & (day < n_days)
    out = np.full(k, -1, dtype=np.int64)
    today = np.flatnonzero(ok & (b == 0))
    if len(today):
        out[today] = cal.sample_minutes(rng, orig_day[today], after=minute[today])
    later = np.flatnonzero(ok & (b > 0))
    if len(later):
        out[later] = cal.sample_minutes(rng, day[later])
    out = np.where(out > orig_ts, out, -1)
    if force_ok:
        still = (out < 0) & (orig_ts + 1 <= cal.end_min)
        out[still] = orig_ts[still] + 1
    return out


# ---------------------------------------------------------------------------------
# Lines, block by block
# ---------------------------------------------------------------------------------


@dataclass
class _Lines:
    inv: I64  # plan index
    pos: I64
    ts: I64
    code: I64
    desc: I64
    qty: I64
    price: I64  # mils

    @staticmethod
    def concat(parts: list[_Lines]) -> _Lines:
        return _Lines(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                if parts
                else np.zeros(0, dtype=np.int64)
                for f in ("inv", "pos", "ts", "code", "desc", "qty", "price")
            )
        )

    def take(self, idx: I64 | BoolA) -> _Lines:
        return _Lines(
            self.inv[idx],
            self.pos[idx],
            self.ts[idx],
            self.code[idx],
            self.desc[idx],
            self.qty[idx],
            self.price[idx],
        )


def _special_price(rng: np.random.Generator, spec: tuple[float, float], size: int) -> I64:
    median, sigma = spec
    if median < 0.01:
        return np.full(size, round(median * 1000), dtype=np.int64)
    return _cents_lognormal(rng, size, median, sigma)


def _product_lines(rng: np.random.Generator, plan: _Plan, cat: _Catalogue, sel: I64) -> _Lines:
    """Lines of R and D invoices."""
    n = plan.n[sel]
    total = int(n.sum())
    starts = np.cumsum(n) - n
    inv = np.repeat(sel, n)
    pos = np.arange(total) - np.repeat(starts, n)
    special = np.repeat(plan.special[sel], n)
    n_rep = np.repeat(n, n)
    n_prod = n_rep - (special > 0)
    is_d = np.repeat(plan.kind[sel] == K_D, n)
    ts = np.repeat(plan.ts[sel], n)
    ts = ts + np.where(
        pos >= np.repeat(plan.split_pos[sel], n), np.repeat(plan.split_off[sel], n), 0
    )

    prod = np.minimum(np.searchsorted(cat.cum, rng.random(total), side="right"), cat.n_regular - 1)
    # dotcom orders list each product once: redraw repeats uniformly
    key = inv * np.int64(cat.n_regular + 1) + prod
    order = np.argsort(key, kind="stable")
    rep = np.zeros(total, dtype=bool)
    rep[order[1:]] = key[order[1:]] == key[order[:-1]]
    rep &= is_d
    if rep.any():
        prod[rep] = rng.integers(0, cat.n_regular, int(rep.sum()))
    dcgs = is_d & (rng.random(total) < P_DCGS_LINE)
    prod = np.where(dcgs, cat.dcgs[rng.integers(0, len(cat.dcgs), total)], prod)
    # forced features (small files): comma, double quote
    force = np.repeat(plan.force[sel], n)
    f_comma = ((force & 2) > 0) & (pos == 0)
    f_quote = ((force & 4) > 0) & (pos == n_prod - 1)
    if f_comma.any() and len(cat.comma):
        prod[f_comma] = cat.comma[rng.integers(0, len(cat.comma), int(f_comma.sum()))]
    if f_quote.any() and len(cat.quote):
        prod[f_quote] = cat.quote[rng.integers(0, len(cat.quote), int(f_quote.sum()))]

    band = cat.band[prod]
    qty = _sample_pmf(rng, total, _QTY_DOT, 200.0)
    for b in range(3):
        m = ~is_d & (band == b)
        if m.any():
            qty[m] = _sample_pmf(rng, int(m.sum()), _QTY_BANDS[b], 1200.0)
    new_p = ts >= cat.price_switch[prod]
    base = np.where(new_p, cat.price_new[prod], cat.price_old[prod])
    bulk_p = np.asarray(_BULK_P)[np.searchsorted(np.asarray(_BULK_QTY), qty, side="right")]
    use_bulk = rng.random(total) < bulk_p
    price = np.where(use_bulk, np.where(new_p, cat.bulk_new[prod], cat.bulk_old[prod]), base)
    price = np.where(is_d, np.where(new_p, cat.dot_new[prod], cat.dot_old[prod]), price)
    price = np.where(rng.random(total) < P_ZERO_PRICE_LINE, 0, price)
    desc = np.where(ts >= cat.desc_switch[prod], cat.desc_new[prod], cat.desc_old[prod])
    code = cat.code[prod]
    gift = is_d & ~dcgs & (rng.random(total) < P_GIFT_LINE)
    if gift.any():
        g = rng.integers(0, len(cat.gift_code), int(gift.sum()))
        code[gift], desc[gift], price[gift] = cat.gift_code[g], cat.gift_desc[g], cat.gift_price[g]
        qty[gift] = 1

    # Exact duplicates: a later line repeats an earlier one of the same invoice.
    p_dup = DUP_MAX * (1 - np.exp(-((n_rep / DUP_SCALE) ** DUP_POWER)))
    p_dup = np.where(is_d, p_dup * 0.05, p_dup)  # dotcom orders rarely repeat a line
    is_dup = (pos >= 1) & (pos < n_prod) & (rng.random(total) < p_dup)
    is_dup |= ((force & 1) > 0) & (pos == 1) & (n_prod >= 2)
    src = np.arange(total)
    back = 1 + np.floor(rng.random(total) * np.maximum(pos, 1)).astype(np.int64)
    src = np.where(is_dup, src - back, src)
    for _ in range(64):
        nxt = src[src]
        if np.array_equal(nxt, src):
            break
        src = nxt
    same_ts = ts[src] == ts
    src = np.where(same_ts, src, np.arange(total))
    code, desc, qty, price = code[src], desc[src], qty[src], price[src]

    # The extra last line (postage, carriage, manual, pads, dotcom postage).
    last = (special > 0) & (pos == n_rep - 1)
    if last.any():
        li = np.flatnonzero(last)
        sp = special[li]
        for key, (c, d, spec) in _EXTRA_LINES.items():
            m = sp == key
            if not m.any():
                continue
            k = li[m]
            code[k] = cat.special_code[c + "|" + d]
            desc[k] = cat.special_desc[c + "|" + d]
            qty[k] = 1
            if key == SP_DOT:
                per = _special_price(rng, spec, len(k))
                price[k] = np.maximum(10, np.rint(per * n_rep[k] / 10) * 10).astype(np.int64)
            else:
                price[k] = _special_price(rng, spec, len(k))
            if key == SP_POST:
                qty[k] = np.minimum(rng.geometric(0.4, len(k)), 8)
    return _Lines(inv, pos, ts, code, desc, qty, price)


def _single_lines(rng: np.random.Generator, plan: _Plan, cat: _Catalogue, sel: I64) -> _Lines:
    """Lines of W, Z, X, CS and A invoices (one line each)."""
    k = len(sel)
    kind = plan.kind[sel]
    ts = plan.ts[sel]
    prod = np.minimum(np.searchsorted(cat.cum, rng.random(k), side="right"), cat.n_regular - 1)
    code = cat.code[prod].copy()
    desc = np.full(k, cat.empty_desc, dtype=np.int64)
    qty = np.ones(k, dtype=np.int64)
    price = np.zeros(k, dtype=np.int64)
    w = kind == K_W
    if w.any():
        desc[w] = cat.w_notes[_choice_index(rng, int(w.sum()), cat.w_p)]
        qty[w] = -_sample_cdf(rng, int(w.sum()), _W_GRID, _W_CDF)
    z = kind == K_Z
    if z.any():
        zi = np.flatnonzero(z)
        desc[zi] = cat.z_notes[_choice_index(rng, len(zi), cat.z_p)]
        show = rng.random(len(zi)) < _Z_PRODUCT_DESC
        desc[zi[show]] = cat.desc_old[prod[zi[show]]]
        qty[zi] = _sample_cdf(rng, len(zi), _Z_GRID, _Z_CDF)
    for k_kind, sign in ((K_X, 1), (K_CS, -1)):
        m = np.flatnonzero(kind == k_kind)
        if not len(m):
            continue
        sp = plan.special[sel[m]]
        for s_i in np.unique(sp).tolist():
            c, d, _, _, _, _, spec, qmax = _SPECIALS[s_i]
            mm = m[sp == s_i]
            code[mm] = cat.special_code[c + "|" + d]
            desc[mm] = cat.special_desc[c + "|" + d]
            price[mm] = _special_price(rng, spec, len(mm))
            q = np.where(rng.random(len(mm)) < 0.85, 1, rng.integers(1, max(qmax, 1) + 1, len(mm)))
            qty[mm] = sign * q
    a = kind == K_A
    if a.any():
        code[a] = cat.special_code["B"]
        desc[a] = cat.special_desc["B"]
        price[a] = plan.amount[sel[a]]
        qty[a] = 1
    return _Lines(sel.astype(np.int64), np.zeros(k, dtype=np.int64), ts, code, desc, qty, price)


def _cancel_lines(
    rng: np.random.Generator,
    plan: _Plan,
    cat: _Catalogue,
    lines: _Lines,
    origs: I64,
    first_line: I64,
) -> _Lines:
    """Lines of the cancellations of the given originals (generated with them): a run
    of the original's product lines, reversed in full or in part; a few at the
    product's other price of the cancellation's day (bulk for base or base for bulk,
    as the real file's C lines at 0.85 or 1.18 times the ordered price), and at the new
    price when the product's price changed since the order."""
    k = plan.cr_n[origs]
    n_prod = plan.n[origs] - (plan.special[origs] > 0)
    offset = rng.integers(0, np.maximum(n_prod, 1))
    total = int(k.sum())
    starts = np.cumsum(k) - k
    j = np.arange(total) - np.repeat(starts, k)
    src = np.repeat(first_line, k) + (np.repeat(offset, k) + j) % np.repeat(n_prod, k)
    qty = lines.qty[src]
    full = rng.random(total) < P_CANCEL_FULL_QTY
    part = 1 + np.floor(rng.random(total) * np.maximum(qty, 1)).astype(np.int64)
    cqty = -np.where(full, qty, np.minimum(part, qty))
    cr = np.repeat(plan.cr[origs], k)
    price = lines.price[src]
    prod = cat.prod_of_code[lines.code[src]]
    # refunded at the price of the day when the product's price changed in between
    p = np.maximum(prod, 0)
    crossed = (prod >= 0) & (lines.ts[src] < cat.price_switch[p])
    crossed &= plan.ts[cr] >= cat.price_switch[p]
    price = np.where(crossed & (price == cat.price_old[p]), cat.price_new[p], price)
    price = np.where(crossed & (price == cat.bulk_old[p]), cat.bulk_new[p], price)
    other = (rng.random(total) < P_CANCEL_OTHER_PRICE) & (prod >= 0) & (price > 0)
    if other.any():
        p, when = prod[other], plan.ts[cr[other]]
        new_p = when >= cat.price_switch[p]
        base = np.where(new_p, cat.price_new[p], cat.price_old[p])
        bulk = np.where(new_p, cat.bulk_new[p], cat.bulk_old[p])
        price[other] = np.where(price[other] == base, bulk, base)
    return _Lines(cr, j, plan.ts[cr], lines.code[src], lines.desc[src], cqty, price)


def _orphan_cancel_lines(
    rng: np.random.Generator, plan: _Plan, cat: _Catalogue, sel: I64
) -> _Lines:
    """Lines of cancellations whose original is before the data (not in the file):
    products as customers order them, at their price of the day, reversed."""
    k = plan.n[sel].astype(np.int64)
    total = int(k.sum())
    inv = np.repeat(sel, k)
    pos = np.arange(total) - np.repeat(np.cumsum(k) - k, k)
    ts = plan.ts[inv]
    prod = np.minimum(np.searchsorted(cat.cum, rng.random(total), side="right"), cat.n_regular - 1)
    band = cat.band[prod]
    qty = np.ones(total, dtype=np.int64)
    for b in range(3):
        m = band == b
        if m.any():
            qty[m] = _sample_pmf(rng, int(m.sum()), _QTY_BANDS[b], 1200.0)
    new_p = ts >= cat.price_switch[prod]
    bulk_p = np.asarray(_BULK_P)[np.searchsorted(np.asarray(_BULK_QTY), qty, side="right")]
    price = np.where(
        rng.random(total) < bulk_p,
        np.where(new_p, cat.bulk_new[prod], cat.bulk_old[prod]),
        np.where(new_p, cat.price_new[prod], cat.price_old[prod]),
    )
    desc = np.where(ts >= cat.desc_switch[prod], cat.desc_new[prod], cat.desc_old[prod])
    full = rng.random(total) < P_CANCEL_FULL_QTY
    part = 1 + np.floor(rng.random(total) * qty).astype(np.int64)
    cqty = -np.where(full, qty, np.minimum(part, qty))
    return _Lines(inv, pos, ts, cat.code[prod], desc, cqty, price)


# ---------------------------------------------------------------------------------
# Formatting and writing
# ---------------------------------------------------------------------------------


def _lookup_strings(values: I64, fmt: Any) -> tuple[list[str], I64]:
    uniq, inv = np.unique(values, return_inverse=True)
    return [fmt(v) for v in uniq.tolist()], inv


def _fmt_ts(minutes: int) -> str:
    s = str(np.datetime64(minutes, "m"))
    return f"{s[:10]} {s[11:16]}:00"


def _fmt_price(mils: int) -> str:
    return repr(mils / 1000)


def _invoice_strings(plan: _Plan, idx: I64) -> tuple[list[str], list[str]]:
    """Invoice number text and the row ending (customer, country, newline) of invoices."""
    prefix = {K_CR: "C", K_CS: "C", K_A: "A"}
    inv_s = [
        prefix.get(k, "") + str(v)
        for k, v in zip(plan.kind[idx].tolist(), plan.num[idx].tolist(), strict=True)
    ]
    tails = [
        f",{FIRST_CUSTOMER_ID + c}.0,{COUNTRIES[k]}\n" if c >= 0 else f",,{COUNTRIES[k]}\n"
        for c, k in zip(plan.cust[idx].tolist(), plan.country[idx].tolist(), strict=True)
    ]
    return inv_s, tails


def _format(cat: _Catalogue, plan: _Plan, lines: _Lines) -> str:
    """CSV text of lines (already in file order): seven look-ups per row, every table
    entry but the invoice number carrying its leading comma."""
    ts_s, ts_i = _lookup_strings(lines.ts, lambda v: "," + _fmt_ts(v))
    q_s, q_i = _lookup_strings(lines.qty, lambda v: f",{v}")
    p_s, p_i = _lookup_strings(lines.price, lambda v: "," + _fmt_price(v))
    inv_u, inv_i = np.unique(lines.inv, return_inverse=True)
    inv_s, tail_s = _invoice_strings(plan, inv_u)
    n = len(lines.inv)
    tokens: list[str] = [""] * (7 * n)
    inv_list = inv_i.tolist()
    tokens[0::7] = map(inv_s.__getitem__, inv_list)
    tokens[1::7] = map(cat.codes_c.__getitem__, lines.code.tolist())
    tokens[2::7] = map(cat.descs_c.__getitem__, lines.desc.tolist())
    tokens[3::7] = map(q_s.__getitem__, q_i.tolist())
    tokens[4::7] = map(ts_s.__getitem__, ts_i.tolist())
    tokens[5::7] = map(p_s.__getitem__, p_i.tolist())
    tokens[6::7] = map(tail_s.__getitem__, inv_list)
    return "".join(tokens)


class _Sink:
    """Output file, written by a background thread (gzip, which releases the GIL, then
    compresses one block while the next is generated). Gzip when the name ends in .gz,
    with no time stamp or file name in the header, so output is reproducible."""

    def __init__(self, out: Path) -> None:
        self.raw: IO[bytes] = open(out, "wb")  # noqa: SIM115 (closed in close())
        self.fh: IO[bytes] = (
            gzip.GzipFile(filename="", mode="wb", compresslevel=1, fileobj=self.raw, mtime=0)
            if out.name.endswith(".gz")
            else self.raw
        )
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="lgs-generate-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.fh.write(item)
                except BaseException as exc:  # reported by write() / close()
                    self.error = exc

    def write(self, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(data)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        try:
            if self.fh is not self.raw:
                self.fh.close()
        finally:
            self.raw.close()
        if self.error is not None:
            raise self.error


def _blocks(plan: _Plan) -> list[tuple[int, int]]:
    """Invoice ranges of whole days, about BLOCK_LINES lines each, cut at the overlap
    window boundaries."""
    day = plan.ts // 1440
    # a row's day is its invoice's day (later lines stay on the same day)
    bounds = {0, len(day)}
    for a, b in plan.windows:
        bounds.add(int(np.searchsorted(day, a, side="left")))
        bounds.add(int(np.searchsorted(day, b, side="left")))
    cum = np.cumsum(plan.n)
    target = BLOCK_LINES
    while target < (cum[-1] if len(cum) else 0):
        i = int(np.searchsorted(cum, target, side="left"))
        if i < len(day):
            bounds.add(int(np.searchsorted(day, day[i], side="left")))
            bounds.add(int(np.searchsorted(day, day[i], side="right")))
        target += BLOCK_LINES
    b = sorted(bounds)
    return [(x, y) for x, y in itertools.pairwise(b) if y > x]


def generate(
    rows: int,
    seed: int,
    out: Path,
    *,
    start: str = "2009-12-01",
    end: str = "2011-12-09 12:50",
    extracts: int = 2,
    first_invoice_no: int = 489434,
    customers: int | None = None,
    progress: bool = False,
) -> GenerateResult:
    """Write ``rows`` synthetic invoice lines (plus header) to ``out``.

    Args:
        rows: data rows of the file, the overlap between extracts included (>= 100).
        seed: random seed; the same arguments always give a byte-identical file.
        out: output path; gzip-compressed when it ends in ``.gz``.
        start, end: first and last minute of the data (``YYYY-MM-DD[ HH:MM]``; a bare
            ``end`` date means the end of that day).
        extracts: number of overlapping extracts the file is the concatenation of
            (the real file: 2, overlapping 2010-12-01..09).
        first_invoice_no: number of the first invoice; numbers increase with time.
        customers: size of the customer pool (default: scaled on the real
            5,942 customers per 1,067,370 rows over two years).
        progress: report progress on stderr.
    """
    t0 = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if rows < 100:
        raise ValueError("rows must be >= 100")
    start_min = _parse_minutes(start)
    end_min = _parse_minutes(end, end=True)
    if end_min <= start_min:
        raise ValueError("end must be after start")
    plan = _make_plan(rows, seed, start_min, end_min, extracts, customers, first_invoice_no)
    cat = _catalogue()
    blocks = _blocks(plan)
    window_end_idx = {
        int(np.searchsorted(plan.ts // 1440, b, side="left")): a for a, b in plan.windows
    }
    window_ranges = [
        (
            int(np.searchsorted(plan.ts // 1440, a, side="left")),
            int(np.searchsorted(plan.ts // 1440, b, side="left")),
        )
        for a, b in plan.windows
    ]
    sink = _Sink(out)
    stash: list[_Lines] = []
    written = shown = 0
    spool: IO[bytes] | None = None
    try:
        sink.write(HEADER.encode())
        for b_no, (i0, i1) in enumerate(blocks):
            rng = np.random.default_rng([seed, 2, b_no])
            sel = np.arange(i0, i1)
            kinds = plan.kind[sel]
            prod_sel = sel[(kinds == K_R) | (kinds == K_D)]
            single_sel = sel[(kinds != K_R) & (kinds != K_D) & (kinds != K_CR)]
            orphan_sel = sel[(kinds == K_CR) & (plan.orig[sel] < 0)]
            pl = _product_lines(rng, plan, cat, prod_sel)
            parts = [pl, _single_lines(rng, plan, cat, single_sel)]
            if len(orphan_sel):
                parts.append(_orphan_cancel_lines(rng, plan, cat, orphan_sel))
            origs = prod_sel[plan.cr[prod_sel] >= 0]
            if len(origs):
                first_line = np.searchsorted(pl.inv, origs, side="left")
                stash.append(_cancel_lines(rng, plan, cat, pl, origs, first_line))
            if stash:
                pending = _Lines.concat(stash)
                here = pending.inv < i1
                parts.append(pending.take(here))
                rest = pending.take(~here)
                stash = [rest] if len(rest.inv) else []
            lines = _Lines.concat(parts)
            order = np.lexsort((lines.pos, lines.inv, lines.ts))
            lines = lines.take(order)
            data = _format(cat, plan, lines).encode()
            in_window = any(a <= i0 and i1 <= b for a, b in window_ranges)
            sink.write(data)
            written += len(lines.inv)
            if in_window:
                if spool is None:
                    spool = tempfile.SpooledTemporaryFile(max_size=64 << 20)  # noqa: SIM115
                spool.write(data)
                written += len(lines.inv)
            if i1 in window_end_idx and spool is not None:
                spool.seek(0)
                while chunk := spool.read(16 << 20):
                    sink.write(chunk)
                spool.close()
                spool = None
            if progress and (written * 10 // rows > shown or i1 == len(plan.ts)):
                shown = written * 10 // rows
                print(f"lgs generate: {written:,}/{rows:,} rows", file=sys.stderr)
    finally:
        sink.close()
        if spool is not None:
            spool.close()
    n_cust = len(np.unique(plan.cust[plan.cust >= 0]))
    return GenerateResult(
        path=out,
        rows=written,
        invoices=len(plan.ts),
        customers=n_cust,
        extracts=len(plan.windows) + 1,
        seconds=time.perf_counter() - t0,
        last_invoice_no=int(plan.num[-1]) if len(plan.num) else first_invoice_no - 1,
    )
