import unittest

from intervals import free_slots, merge_intervals, total_covered


class IntervalTests(unittest.TestCase):
    def test_overlap(self):
        self.assertEqual(merge_intervals([(10, 12), (9, 11)]), [(9, 12)])

    def test_disjoint(self):
        self.assertEqual(merge_intervals([(5, 6), (1, 2)]), [(1, 2), (5, 6)])

    def test_total(self):
        self.assertEqual(total_covered([(1, 3), (2, 5), (7, 8)]), 5)

    def test_free(self):
        self.assertEqual(free_slots([(9, 10)], 8, 12), [(8, 9), (10, 12)])

    def test_invalid(self):
        with self.assertRaises(ValueError):
            merge_intervals([(3, 1)])


if __name__ == "__main__":
    unittest.main()
