import unittest

from invoice import Invoice
from money import fmt


class InvoiceTests(unittest.TestCase):
    def test_simple_invoice(self):
        inv = Invoice(tax_percent="10")
        inv.add_line("pen", 2, "1.50")
        inv.add_line("pad", 1, "4.00")
        self.assertEqual(fmt(inv.subtotal()), "7.00")
        self.assertEqual(fmt(inv.tax()), "0.70")
        self.assertEqual(fmt(inv.total()), "7.70")

    def test_no_tax(self):
        inv = Invoice()
        inv.add_line("pen", 3, "0.99")
        self.assertEqual(fmt(inv.total()), "2.97")

    def test_bad_quantity(self):
        with self.assertRaises(ValueError):
            Invoice().add_line("pen", 0, "1.00")


if __name__ == "__main__":
    unittest.main()
