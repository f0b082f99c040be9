"""NLU additions to the Rasa pipeline: the m3e-small encoder as features, and the intent classifier.

``encoder`` (numpy) and ``linear`` (scikit-learn to train, numpy to predict) import no Rasa and are
tested in the app environment; ``featurizer`` and ``classifier`` are the thin Rasa graph
components, loaded only by the Rasa environment; ``export`` runs in the app environment, where
PyTorch can read the model's weights, and writes them as a numpy archive.
"""
