"""The click commands: thin layers over the library.

Each command imports the library inside its function, so that ``dossier --help`` and
``dossier COMMAND --help`` load click alone (about 70 ms instead of the 0.5 s or more that
WeasyPrint, pypdf and babel take to import).
"""
