"""Evaluations of what users get: answers and conversations through the real stack, and Rasa's test reports."""
