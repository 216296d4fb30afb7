import unittest

from durations import format_duration, parse_duration


class HiddenDurationTests(unittest.TestCase):
    def test_compound(self):
        self.assertEqual(parse_duration("1h30m"), 5400)
        self.assertEqual(parse_duration("2m15s"), 135)
        self.assertEqual(parse_duration("1d2h"), 93600)
        self.assertEqual(parse_duration("1d1h1m1s"), 90061)

    def test_single_units_still_work(self):
        self.assertEqual(parse_duration("90s"), 90)
        self.assertEqual(parse_duration("5m"), 300)
        self.assertEqual(parse_duration(" 2H "), 7200)

    def test_round_trip(self):
        for secs in [0, 1, 59, 61, 3600, 5400, 86399, 93784]:
            self.assertEqual(parse_duration(format_duration(secs)), secs)

    def test_invalid(self):
        for bad in ["1h30", "h", "", "1x", "h1", "1 h"]:
            with self.subTest(bad=bad):
                with self.assertRaises(ValueError):
                    parse_duration(bad)


if __name__ == "__main__":
    unittest.main()
