def c_to_f(celsius):
    return None if celsius is None else celsius * 9 / 5 + 32


def kmh_to_ms(kmh):
    return None if kmh is None else kmh / 3.6


def mm_to_in(mm):
    return None if mm is None else mm / 25.4
