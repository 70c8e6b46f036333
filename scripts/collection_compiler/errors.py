"""The compiler's errors for people, and the exit codes of the `collection` command.

A `CollectionError` is a mistake of the user or of the environment (a missing file, a busy port, a runtime not
installed): the CLI prints it as one line on stderr (what went wrong, where, what to do) without a traceback.
Anything else that escapes a command is a bug: the CLI prints its traceback and asks for a report.
"""

from __future__ import annotations

import errno

EXIT_DONE = 0  # the command did all it was asked, and nothing failed
EXIT_FAILURES = 1  # it ran, but something failed (a check, a source), or it built nothing
EXIT_USAGE = 2  # the command line or a setting is wrong: nothing was done
EXIT_INTERRUPTED = 130  # Ctrl-C

REPORT_URL = "https://github.com/bioimage-io/collection/issues"
MODELS_EXTRA = "pip install 'collection-compiler[models]'"


class CollectionError(Exception):
    """What went wrong, where (a file, `file:line:column` or `file: field`), and what to do about it."""

    exit_code = EXIT_FAILURES

    def __init__(self, what: str, where: str = "", hint: str = "") -> None:
        super().__init__(what)
        self.what, self.where, self.hint = what, where, hint

    def line(self) -> str:
        text = f"{self.where}: {self.what}" if self.where else self.what
        return f"{text} ({self.hint})" if self.hint else text

    def __reduce__(self) -> tuple[object, ...]:  # whole across processes (a worker's error reaches the CLI)
        return _restore, (type(self), self.args, dict(self.__dict__))


def _restore(cls: type[CollectionError], args: tuple[object, ...], state: dict[str, object]) -> CollectionError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class UsageError(CollectionError):
    """A wrong command line, option or setting: nothing was done."""

    exit_code = EXIT_USAGE


class ContentError(CollectionError, ValueError):
    """A file whose content cannot be used: `where` names the file and the field. A ValueError too, for the
    callers that collect bad input and go on."""


class MissingRuntime(CollectionError):
    """A model runtime (onnxruntime, torch) that a test needs is not installed."""

    def __init__(self, module: str) -> None:
        super().__init__(f"the model runtime {module!r} is not installed", hint=f"install it: {MODELS_EXTRA}")
        self.module = module


def from_environment_error(error: BaseException) -> CollectionError | None:
    """Known failures of the environment raised by the standard library, as a `CollectionError`; None for others."""
    if isinstance(error, ModuleNotFoundError) and error.name in ("onnxruntime", "torch"):
        return MissingRuntime(error.name)
    if isinstance(error, OSError) and error.errno == errno.EADDRINUSE:
        return CollectionError("address already in use", hint="another server runs there; try another --port")
    if type(error).__name__ == "GitCommandError":  # GitPython, not imported here (it is slow to import)
        return CollectionError(" ".join(str(getattr(error, "stderr", "") or error).split())[:300],
                               where=f"git {_git_verb(error)}", hint="check the remote, the branch and your access")
    if isinstance(error, OSError) and error.filename is not None:
        reason = error.strerror or type(error).__name__
        return CollectionError(reason, where=str(error.filename), hint="check the path and its permissions")
    return None


def _git_verb(error: BaseException) -> str:
    command = getattr(error, "command", None)
    return str(command[1]) if isinstance(command, list | tuple) and len(command) > 1 else "command"
