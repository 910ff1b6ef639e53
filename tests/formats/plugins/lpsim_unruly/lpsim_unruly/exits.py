"""A plugin module that ends the process while it is imported, as a careless script would."""

import sys

sys.exit(3)

FORMAT = None
