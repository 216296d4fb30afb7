import unittest

from inventory import Inventory


class InventoryTests(unittest.TestCase):
    def test_add_remove(self):
        inv = Inventory()
        inv.add("apple", 3)
        inv.remove("apple", 2)
        self.assertEqual(inv.quantity("apple"), 1)

    def test_fulfil(self):
        inv = Inventory()
        inv.add("apple", 3)
        inv.add("pear", 2)
        inv.fulfil({"apple": 1, "pear": 2})
        self.assertEqual((inv.quantity("apple"), inv.quantity("pear")), (2, 0))
        self.assertEqual(inv.low_stock(), ["apple", "pear"])

    def test_positive_quantity(self):
        with self.assertRaises(ValueError):
            Inventory().add("apple", 0)


if __name__ == "__main__":
    unittest.main()
