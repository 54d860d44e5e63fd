"""Rules and classical models: the stage ``lexicon``, ``tfidf_lr`` and the ``random`` and
``constant`` controls. Light: numpy, and scikit-learn inside ``tfidf_lr``."""
