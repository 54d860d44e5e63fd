"""Vendors' sealed executables: ``exec`` runs a program speaking a JSON-lines protocol
(``docs/sealed.md``) through :mod:`detectors.sealed.process`; :mod:`detectors.sealed.example`
is a working example program.
"""
