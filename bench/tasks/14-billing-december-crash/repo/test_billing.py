import unittest
from datetime import date

from billing import billing_dates, next_renewal
from calutils import days_in_month, month_end


class BillingTests(unittest.TestCase):
    def test_clamps_short_months(self):
        self.assertEqual(
            billing_dates(date(2024, 1, 31), 3),
            [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)],
        )

    def test_next_renewal(self):
        self.assertEqual(next_renewal(date(2024, 1, 15), date(2024, 3, 15)), date(2024, 4, 15))

    def test_calendar(self):
        self.assertEqual(days_in_month(2023, 2), 28)
        self.assertEqual(days_in_month(2024, 12), 31)
        self.assertEqual(month_end(date(2024, 4, 3)), date(2024, 4, 30))


if __name__ == "__main__":
    unittest.main()
