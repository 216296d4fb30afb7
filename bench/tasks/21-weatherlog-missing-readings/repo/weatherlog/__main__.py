import sys

from weatherlog.cli import main

sys.exit(main())
