import os
import sys

# The package lives at the repository root; make it importable from any working directory.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
