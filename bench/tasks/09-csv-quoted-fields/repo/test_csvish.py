import unittest

from csvish import column, read_records, split_row


class CsvishTests(unittest.TestCase):
    def test_split_plain(self):
        self.assertEqual(split_row("a,b,,c"), ["a", "b", "", "c"])
        self.assertEqual(split_row("a;b", sep=";"), ["a", "b"])

    def test_records(self):
        recs = read_records("id,name\n1,ann\n\n2,bob\n")
        self.assertEqual(column(recs, "name"), ["ann", "bob"])

    def test_field_count_checked(self):
        with self.assertRaises(ValueError):
            read_records("a,b\n1,2,3\n")


if __name__ == "__main__":
    unittest.main()
