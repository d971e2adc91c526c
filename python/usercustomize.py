"""Python imports `usercustomize` at start-up (module `site`) from sys.path, so
PYTHONPATH=/path/to/s2/python is all a user of the source tree needs for `import pyNN.s2`
(the finder is s2_pynn_finder.py; an installed s2 uses s2_pynn.pth instead)."""
import s2_pynn_finder  # noqa: F401
