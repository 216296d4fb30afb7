import unittest

from calc import evaluate
from tokenizer import tokenize


class CalcTests(unittest.TestCase):
    def test_tokenize(self):
        self.assertEqual(tokenize("2*(3.5+4)"), [2, "*", "(", 3.5, "+", 4, ")"])

    def test_single_operations(self):
        self.assertEqual(evaluate("1 + 2"), 3)
        self.assertEqual(evaluate("7 - 10"), -3)
        self.assertEqual(evaluate("9 / 2"), 4.5)

    def test_precedence_and_parens(self):
        self.assertEqual(evaluate("2 + 3 * 4"), 14)
        self.assertEqual(evaluate("(2 + 3) * 4"), 20)
        self.assertEqual(evaluate("-(1 + 2)"), -3)

    def test_errors(self):
        with self.assertRaises(SyntaxError):
            evaluate("2 +")
        with self.assertRaises(SyntaxError):
            evaluate("(1 + 2")


if __name__ == "__main__":
    unittest.main()
