import unittest

from invoice import Invoice
from money import fmt


class HiddenInvoiceTests(unittest.TestCase):
    def make(self):
        inv = Invoice(tax_percent="6.25")
        inv.add_line("bolts", 3, "1.115")
        inv.add_line("nuts", 7, "0.145")
        inv.add_line("service", 1, "10.00")
        return inv

    def test_line_totals_round_half_up(self):
        inv = self.make()
        self.assertEqual([fmt(inv.line_total(i)) for i in range(3)],
                         ["3.35", "1.02", "10.00"])

    def test_totals(self):
        inv = self.make()
        self.assertEqual(fmt(inv.subtotal()), "14.37")
        self.assertEqual(fmt(inv.tax()), "0.90")
        self.assertEqual(fmt(inv.total()), "15.27")

    def test_tax_half_cent(self):
        inv = Invoice(tax_percent="6.25")
        inv.add_line("service", 1, "10.00")
        self.assertEqual(fmt(inv.tax()), "0.63")
        self.assertEqual(fmt(inv.total()), "10.63")

    def test_single_half_cent_price(self):
        inv = Invoice()
        inv.add_line("widget", 1, "2.675")
        self.assertEqual(fmt(inv.total()), "2.68")

    def test_many_small_lines(self):
        inv = Invoice()
        for _ in range(10):
            inv.add_line("sticker", 1, "0.10")
        self.assertEqual(fmt(inv.total()), "1.00")


if __name__ == "__main__":
    unittest.main()
