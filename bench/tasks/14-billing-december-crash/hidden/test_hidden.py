import unittest
from datetime import date

from billing import billing_dates, next_renewal
from calutils import add_months


class HiddenBillingTests(unittest.TestCase):
    def test_monthly_through_december(self):
        self.assertEqual(
            billing_dates(date(2024, 10, 31), 3),
            [date(2024, 10, 31), date(2024, 11, 30), date(2024, 12, 31)],
        )

    def test_across_year_end(self):
        self.assertEqual(
            billing_dates(date(2024, 11, 30), 4),
            [date(2024, 11, 30), date(2024, 12, 30), date(2025, 1, 30), date(2025, 2, 28)],
        )

    def test_quarterly(self):
        self.assertEqual(
            billing_dates(date(2024, 9, 30), 3, interval_months=3),
            [date(2024, 9, 30), date(2024, 12, 30), date(2025, 3, 30)],
        )

    def test_add_months_values(self):
        self.assertEqual(add_months(date(2024, 12, 31), 2), date(2025, 2, 28))
        self.assertEqual(add_months(date(2023, 12, 15), 12), date(2024, 12, 15))
        self.assertEqual(add_months(date(2024, 1, 10), 11), date(2024, 12, 10))
        self.assertEqual(add_months(date(2024, 5, 10), 0), date(2024, 5, 10))

    def test_next_renewal_in_december(self):
        self.assertEqual(next_renewal(date(2024, 1, 20), date(2024, 11, 25)), date(2024, 12, 20))


if __name__ == "__main__":
    unittest.main()
