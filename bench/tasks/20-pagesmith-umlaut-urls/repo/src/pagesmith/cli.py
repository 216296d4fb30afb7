"""pagesmith build CONTENT_DIR OUTPUT_DIR"""

import argparse
import sys

from pagesmith.config import SiteConfig
from pagesmith.content.loader import load_directory
from pagesmith.site import Site


def main(argv=None):
    parser = argparse.ArgumentParser(prog="pagesmith")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build")
    build.add_argument("content")
    build.add_argument("output")
    build.add_argument("--base-url", default="http://localhost:8000")
    build.add_argument("--title", default="My blog")
    args = parser.parse_args(argv)
    site = Site(SiteConfig(title=args.title, base_url=args.base_url.rstrip("/")))
    for page in load_directory(args.content):
        site.add_page(page)
    written = site.write(args.output)
    print(f"wrote {len(written)} files to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
