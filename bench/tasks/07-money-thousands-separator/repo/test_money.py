import unittest
from decimal import Decimal

from money import format_amount, parse_amount, total


class MoneyTests(unittest.TestCase):
    def test_parse_simple(self):
        self.assertEqual(parse_amount("$12.50"), Decimal("12.50"))
        self.assertEqual(parse_amount("-3"), Decimal("-3"))

    def test_format(self):
        self.assertEqual(format_amount(Decimal("1234.5")), "$1,234.50")
        self.assertEqual(format_amount(Decimal("-0.125")), "-$0.13")

    def test_total(self):
        self.assertEqual(total(["$1.10", "2.20", "-$0.30"]), "$3.00")


if __name__ == "__main__":
    unittest.main()
