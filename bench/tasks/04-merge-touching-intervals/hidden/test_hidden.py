import unittest

from intervals import free_slots, merge_intervals, total_covered


class HiddenIntervalTests(unittest.TestCase):
    def test_touching_merge(self):
        self.assertEqual(merge_intervals([(9, 10), (10, 11)]), [(9, 11)])

    def test_touching_unsorted_chain(self):
        self.assertEqual(merge_intervals([(3, 4), (1, 2), (2, 3)]), [(1, 4)])

    def test_free_slots_no_zero_length(self):
        self.assertEqual(free_slots([(9, 10), (10, 11)], 8, 12), [(8, 9), (11, 12)])

    def test_gap_kept(self):
        self.assertEqual(merge_intervals([(1, 2), (3, 4)]), [(1, 2), (3, 4)])
        self.assertEqual(total_covered([(1, 2), (2, 4)]), 3)


if __name__ == "__main__":
    unittest.main()
