"""The experiment programs, importable as ``scripts.<name>`` from the repository root (the tests
import them so: ``from scripts import compare``); not part of the installed wheel.

Each is also run as a program, ``python scripts/<name>.py ...`` (the commands the committed results
record). A program that imports another one (``from scripts.aggregate import ...``) begins with the
same two lines, which put the repository root on the path when it is run that way::

    if __package__ in (None, ""):  # run as `python scripts/<name>.py`: the repository root on the path, for `scripts.*`
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
"""
