import unittest

from csvish import read_records, split_row


class HiddenCsvishTests(unittest.TestCase):
    def test_quoted_comma(self):
        self.assertEqual(split_row('1,"Smith, John",42'), ["1", "Smith, John", "42"])

    def test_doubled_quote(self):
        self.assertEqual(split_row('"He said ""hi""",x'), ['He said "hi"', "x"])

    def test_empty_quoted_field(self):
        self.assertEqual(split_row('a,"",b'), ["a", "", "b"])

    def test_custom_sep(self):
        self.assertEqual(split_row('x;"a;b";y', sep=";"), ["x", "a;b", "y"])

    def test_read_records_with_quotes(self):
        recs = read_records('id,name,age\n1,"Smith, John",42\n2,Ann,7\n')
        self.assertEqual(recs, [
            {"id": "1", "name": "Smith, John", "age": "42"},
            {"id": "2", "name": "Ann", "age": "7"},
        ])

    def test_plain_unchanged(self):
        self.assertEqual(split_row("a,b,,c"), ["a", "b", "", "c"])


if __name__ == "__main__":
    unittest.main()
