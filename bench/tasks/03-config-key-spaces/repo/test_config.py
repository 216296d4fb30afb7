import unittest

from config import get_bool, get_int, parse_config

SAMPLE = """
# comment
name=demo
[server]
port=9000
debug=yes
"""


class ConfigTests(unittest.TestCase):
    def test_sections(self):
        cfg = parse_config(SAMPLE)
        self.assertEqual(cfg["default"], {"name": "demo"})
        self.assertEqual(get_int(cfg, "server", "port"), 9000)
        self.assertTrue(get_bool(cfg, "server", "debug"))

    def test_missing_uses_default(self):
        self.assertEqual(get_int(parse_config(SAMPLE), "server", "workers", 4), 4)

    def test_bad_line(self):
        with self.assertRaises(ValueError):
            parse_config("[a]\nnot a pair\n")


if __name__ == "__main__":
    unittest.main()
