"""The codes the plan stores per invoice: its kind, the extra last line of an order, and
the features forced onto orders of small files."""

from __future__ import annotations

from lgs.generate import calibration as real
from lgs.generate.calibration import ExtraLine


class Kind:
    """Invoice kinds (the letters are the calibration tables' names)."""

    ORDER = 0  # R: a customer's order
    DOTCOM_ORDER = 1  # D: an order of the dotcom shop, without customer
    WRITE_OFF = 2  # W: stock write-off (negative quantity, price 0, no customer)
    ZERO_PRICE = 3  # Z: zero-price stock line
    NON_PRODUCT = 4  # X: one non-product line (manual, postage, bank charges ...)
    NON_PRODUCT_CANCEL = 5  # CS: cancellation of a non-product line
    ADJUSTMENT = 6  # A: bad-debt adjustment
    ORDER_CANCEL = 7  # CR: cancellation reversing lines of an earlier order


# Invoice numbers of these kinds start with a letter.
NUMBER_PREFIX = {Kind.ORDER_CANCEL: "C", Kind.NON_PRODUCT_CANCEL: "C", Kind.ADJUSTMENT: "A"}


class Extra:
    """The extra last line of an order or dotcom order (0: none)."""

    NONE = 0
    POSTAGE = 1
    CARRIAGE = 2
    MANUAL = 3
    PADS = 4
    DOTCOM_POSTAGE = 5  # priced per line of its invoice
    MANUAL_LOWER = 6  # code "m"
    BANK_CHARGES = 7


class Forced:
    """Features forced onto orders of small files (flags)."""

    DUPLICATE = 1  # a line repeated exactly
    COMMA = 2  # a description with a comma (the first line)
    QUOTE = 4  # a description with a double quote (the last product line)


EXTRA_LINES: dict[int, ExtraLine] = {
    Extra.POSTAGE: real.EXTRA_LINES["postage"],
    Extra.CARRIAGE: real.EXTRA_LINES["carriage"],
    Extra.MANUAL: real.EXTRA_LINES["manual"],
    Extra.PADS: real.EXTRA_LINES["pads"],
    Extra.DOTCOM_POSTAGE: real.EXTRA_LINES["dotcom_postage"],
    Extra.MANUAL_LOWER: real.EXTRA_LINES["manual_lower"],
    Extra.BANK_CHARGES: real.EXTRA_LINES["bank_charges"],
}
