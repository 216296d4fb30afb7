from shipwise import Address
from shipwise.zones.resolver import is_remote, zone_for


def test_zones_from_the_us():
    assert zone_for("US", Address("us")) == 1
    assert zone_for("US", Address("CA")) == 2
    assert zone_for("US", Address("DE")) == 3


def test_zones_inside_the_eu():
    assert zone_for("DE", Address("FR")) == 2
    assert zone_for("de", Address("DE")) == 1


def test_remote_postcodes():
    assert is_remote(Address("US", "99501"))
    assert not is_remote(Address("US", "10001"))
    assert not is_remote(Address("FR", ""))
