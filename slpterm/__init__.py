"""slpterm: point-of-care documentation and coding for speech-language pathologists."""

__version__ = "0.1.0"
