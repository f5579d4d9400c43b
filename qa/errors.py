"""Errors a user can act on. Each message says what went wrong and what to do next."""


class QAError(Exception):
    """Base class: the message is meant for the user, as is."""


class InvalidQuestion(QAError):
    """The question is empty, too long or otherwise unusable."""


class NoArticles(QAError):
    """The corpus folder holds no readable article."""


class IndexProblem(QAError):
    """The index on disk is corrupt, incomplete or was built with other settings."""


class ModelProblem(QAError):
    """A model could not be loaded (missing folder, no internet for a hub id, ...)."""


class InvalidInput(QAError):
    """A file given to qa (batch questions, an upload) cannot be used."""
