"""One exception base for everything storyline raises on purpose.

Library code raises these; only the CLI turns them into a one-paragraph message and an exit code.
"""

from __future__ import annotations


class StorylineError(Exception):
    """Base class. ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class InputError(StorylineError):
    """A user-supplied file, directory or option cannot be used."""

    exit_code = 2


class ModelUnavailableError(StorylineError):
    """No model file can be found or fetched."""

    exit_code = 2


class PromptTooLongError(StorylineError):
    """A prompt leaves no room for a reply in the model's context window. The run handles it for
    the one call (a chunk is split, a summary left out); the CLI reports it if it ends a command.

    Carries the prompt's tokens and the window.
    """

    exit_code = 2

    def __init__(self, message: str, *, prompt_tokens: int | None = None, context_window: int | None = None):
        super().__init__(message)
        self.prompt_tokens = prompt_tokens
        self.context_window = context_window


class TemplateError(StorylineError):
    """A prompt or output template is broken; the message names its file and line."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line


class ExtractionRetryError(StorylineError):
    """The model's output failed validation on every attempt.

    Carries the raw output of the last attempt, the number of attempts made and the last
    validation error (a pydantic ``ValidationError``).
    """

    def __init__(self, message: str, *, raw_output: str, attempts: int, last_error: Exception | None = None):
        super().__init__(message)
        self.raw_output = raw_output
        self.attempts = attempts
        self.last_error = last_error


class TruncatedOutputError(StorylineError):
    """The model's reply was cut off by the token limit, even after the limit was raised once.

    Carries the partial output and the limit it reached.
    """

    def __init__(self, message: str, *, raw_output: str, max_tokens: int):
        super().__init__(message)
        self.raw_output = raw_output
        self.max_tokens = max_tokens


class UnreliableAdjudicatorError(StorylineError):
    """The adjudicator got wrong the control pairs the merge is sure of without it, so its
    answers would make the timeline worse than the articles' words alone.

    Carries how many control questions it was asked of the failing kind and how many it got wrong.
    """

    def __init__(self, message: str, *, asked: int, wrong: int):
        super().__init__(message)
        self.asked = asked
        self.wrong = wrong
