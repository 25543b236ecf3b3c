import sys
from pathlib import Path

# Let tests import the small builders in tests/ (doj.py) by name.
sys.path.insert(0, str(Path(__file__).parent))
