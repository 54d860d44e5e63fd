"""Comparing detectors on the same items: exact McNemar, DeLong for correlated AUCs, Holm and
Benjamini–Hochberg adjustment (:mod:`.compare`), and the ``groombench-compare`` command
(:mod:`.cli`)."""
