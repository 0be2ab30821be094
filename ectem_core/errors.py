"""Exceptions with user-facing messages; the CLI turns them into one line and exit code 2."""


class EctemError(Exception):
    """Base class: the message names what is wrong and what to do."""


class InputError(EctemError, ValueError):
    """Bad user input (element, state, method, basis, config key, file)."""


class ConvergenceError(EctemError, RuntimeError):
    """A quantum-chemistry solver did not converge after all retries."""
