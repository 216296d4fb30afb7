import unittest

from calc import evaluate


class HiddenCalcTests(unittest.TestCase):
    def test_subtraction_chain(self):
        self.assertEqual(evaluate("10 - 3 - 2"), 5)
        self.assertEqual(evaluate("2 - 1 + 1"), 2)
        self.assertEqual(evaluate("1 - 2 - 3 - 4"), -8)

    def test_division_chain(self):
        self.assertEqual(evaluate("8 / 4 / 2"), 1.0)
        self.assertEqual(evaluate("100 / 10 * 2"), 20.0)
        self.assertEqual(evaluate("2 * 6 / 3"), 4.0)

    def test_mixed(self):
        self.assertEqual(evaluate("10 - 2 * 3 - 1"), 3)
        self.assertEqual(evaluate("(10 - 3) - 2"), 5)
        self.assertEqual(evaluate("10 - (3 - 2)"), 9)
        self.assertEqual(evaluate("2 + 3 * 4"), 14)

    def test_errors_still_raised(self):
        with self.assertRaises(SyntaxError):
            evaluate("1 - - ")
        with self.assertRaises(SyntaxError):
            evaluate("4 / 2 )")


if __name__ == "__main__":
    unittest.main()
