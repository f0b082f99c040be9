"""Text normalisation shared by every part (knowledge base, retrieval, NLU, dialogue, safety): a leaf package.

``normalize`` folds script, width and whitespace; ``Dialect`` rewrites Hubei / south-western Mandarin words
and common voice-typing errors into the standard words the documents use (data: ``data/dialect.yml``).
"""

from textnorm.dialect import Dialect, standardise
from textnorm.script import clean_display, normalize, strip_scrape_noise, to_simplified

__all__ = ["Dialect", "clean_display", "normalize", "standardise", "strip_scrape_noise", "to_simplified"]
