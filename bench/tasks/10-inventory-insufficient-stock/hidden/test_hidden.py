import unittest

from inventory import Inventory


class HiddenInventoryTests(unittest.TestCase):
    def test_remove_too_many(self):
        inv = Inventory()
        inv.add("apple", 3)
        with self.assertRaises(ValueError) as cm:
            inv.remove("apple", 5)
        self.assertEqual(
            str(cm.exception), "insufficient stock for 'apple': have 3, requested 5"
        )
        self.assertEqual(inv.quantity("apple"), 3)

    def test_remove_unknown_sku(self):
        inv = Inventory()
        with self.assertRaises(ValueError) as cm:
            inv.remove("kiwi", 1)
        self.assertIn("have 0", str(cm.exception))
        self.assertEqual(inv.quantity("kiwi"), 0)

    def test_remove_exactly_all(self):
        inv = Inventory()
        inv.add("apple", 3)
        inv.remove("apple", 3)
        self.assertEqual(inv.quantity("apple"), 0)

    def test_fulfil_is_all_or_nothing(self):
        inv = Inventory()
        inv.add("apple", 3)
        inv.add("pear", 2)
        with self.assertRaises(ValueError):
            inv.fulfil({"apple": 1, "pear": 10})
        self.assertEqual(inv.quantity("apple"), 3)
        self.assertEqual(inv.quantity("pear"), 2)

    def test_fulfil_ok(self):
        inv = Inventory()
        inv.add("apple", 3)
        inv.fulfil({"apple": 3})
        self.assertEqual(inv.quantity("apple"), 0)


if __name__ == "__main__":
    unittest.main()
