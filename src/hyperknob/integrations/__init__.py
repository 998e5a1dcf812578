"""Integrations with frameworks (Keras, scikit-learn); imported only when a framework is in use."""
