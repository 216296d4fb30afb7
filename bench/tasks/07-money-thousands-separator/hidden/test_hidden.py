import unittest
from decimal import Decimal

from money import format_amount, parse_amount, total


class HiddenMoneyTests(unittest.TestCase):
    def test_thousands(self):
        self.assertEqual(parse_amount("$1,234.50"), Decimal("1234.50"))
        self.assertEqual(parse_amount("-$1,000,000"), Decimal("-1000000"))
        self.assertEqual(parse_amount("999,999.99"), Decimal("999999.99"))

    def test_round_trip(self):
        for v in ["0.05", "1234.5", "-98765.43", "1000000"]:
            d = Decimal(v)
            self.assertEqual(parse_amount(format_amount(d)), d.quantize(Decimal("0.01")))

    def test_plain_still_works(self):
        self.assertEqual(parse_amount(" 1234.5 "), Decimal("1234.5"))
        self.assertEqual(total(["$1,000.00", "$2,500.25"]), "$3,500.25")

    def test_invalid_raises_value_error(self):
        for bad in ["abc", "", "12,34", "1,2345", "$", "1.2.3", ",100"]:
            with self.subTest(bad=bad):
                with self.assertRaises(ValueError):
                    parse_amount(bad)

    def test_message_mentions_input(self):
        with self.assertRaises(ValueError) as cm:
            parse_amount("abc")
        self.assertIn("invalid amount", str(cm.exception))
        self.assertIn("abc", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
