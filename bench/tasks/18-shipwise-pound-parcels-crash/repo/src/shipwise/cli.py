"""shipwise WEIGHT UNIT COUNTRY [POSTCODE] [--carrier NAME] [--dims LxWxH] [--dim-unit cm|in]"""

import argparse
import sys

from shipwise.models.address import Address
from shipwise.models.parcel import Parcel
from shipwise.quotes.builder import build_quote
from shipwise.quotes.compare import all_quotes


def parse_dims(text):
    parts = text.lower().split("x")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError("dimensions look like 30x20x10")
    return tuple(float(p) for p in parts)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="shipwise")
    parser.add_argument("weight", type=float)
    parser.add_argument("unit")
    parser.add_argument("country")
    parser.add_argument("postcode", nargs="?", default="")
    parser.add_argument("--carrier")
    parser.add_argument("--origin", default="US")
    parser.add_argument("--dims", type=parse_dims, default=(0.0, 0.0, 0.0))
    parser.add_argument("--dim-unit", default="cm")
    args = parser.parse_args(argv)
    length, width, height = args.dims
    parcel = Parcel(args.weight, args.unit, length, width, height, args.dim_unit)
    destination = Address(args.country, args.postcode)
    if args.carrier:
        quotes = [build_quote(parcel, destination, args.carrier, args.origin)]
    else:
        quotes = all_quotes(parcel, destination, args.origin)
    for quote in quotes:
        print(quote)
    return 0 if quotes else 1


if __name__ == "__main__":
    sys.exit(main())
