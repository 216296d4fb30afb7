import unittest

from config import get, get_bool, get_int, parse_config


class HiddenConfigTests(unittest.TestCase):
    def test_spaces_around_equals(self):
        cfg = parse_config("[server]\nport = 9000\n")
        self.assertEqual(cfg["server"], {"port": "9000"})
        self.assertEqual(get_int(cfg, "server", "port", default=8080), 9000)

    def test_tabs_and_default_section(self):
        cfg = parse_config("name\t=  demo\n[x]\n  debug =on\n")
        self.assertEqual(get(cfg, "default", "name"), "demo")
        self.assertTrue(get_bool(cfg, "x", "debug"))

    def test_value_keeps_inner_equals(self):
        cfg = parse_config("[db]\nurl = a=b\n")
        self.assertEqual(get(cfg, "db", "url"), "a=b")


if __name__ == "__main__":
    unittest.main()
