"""Exceptions raised by rtmcore, and the Win32 status -> exception table.

Every exception rtmcore raises on purpose derives from :class:`RtmError`.
Each subclass also derives from the builtin a caller would naturally catch
(``KeyError`` for "not found", ``ValueError`` for "invalid parameter", ...)
and carries the RTMv2 / Win32 status code in ``.winerror``.

The core speaks status codes only; this module is the one place where a code
becomes an exception (:func:`raise_for_status`).
"""
from __future__ import annotations

NO_ERROR = 0
ERROR_SUCCESS = 0
ERROR_FILE_NOT_FOUND = 2
ERROR_ACCESS_DENIED = 5
ERROR_INVALID_HANDLE = 6
ERROR_NOT_ENOUGH_MEMORY = 8
ERROR_INVALID_DATA = 13
ERROR_NOT_SUPPORTED = 50
ERROR_INVALID_PARAMETER = 87
ERROR_INSUFFICIENT_BUFFER = 122
ERROR_ALREADY_EXISTS = 183
ERROR_NO_MORE_ITEMS = 259
ERROR_NOT_FOUND = 1168
ERROR_NO_SYSTEM_RESOURCES = 1450
ERROR_BAD_CONFIGURATION = 1610

STATUS_NAMES = {
    NO_ERROR: "NO_ERROR",
    ERROR_FILE_NOT_FOUND: "ERROR_FILE_NOT_FOUND",
    ERROR_ACCESS_DENIED: "ERROR_ACCESS_DENIED",
    ERROR_INVALID_HANDLE: "ERROR_INVALID_HANDLE",
    ERROR_NOT_ENOUGH_MEMORY: "ERROR_NOT_ENOUGH_MEMORY",
    ERROR_INVALID_DATA: "ERROR_INVALID_DATA",
    ERROR_NOT_SUPPORTED: "ERROR_NOT_SUPPORTED",
    ERROR_INVALID_PARAMETER: "ERROR_INVALID_PARAMETER",
    ERROR_INSUFFICIENT_BUFFER: "ERROR_INSUFFICIENT_BUFFER",
    ERROR_ALREADY_EXISTS: "ERROR_ALREADY_EXISTS",
    ERROR_NO_MORE_ITEMS: "ERROR_NO_MORE_ITEMS",
    ERROR_NOT_FOUND: "ERROR_NOT_FOUND",
    ERROR_NO_SYSTEM_RESOURCES: "ERROR_NO_SYSTEM_RESOURCES",
    ERROR_BAD_CONFIGURATION: "ERROR_BAD_CONFIGURATION",
}


class RtmError(Exception):
    """Base of every error rtmcore raises on purpose.

    ``winerror`` is the Win32 status code RTMv2 would return for the failure
    (0 where no RTMv2 code applies, e.g. a damaged input file).
    """

    winerror: int = 0

    def __init__(self, message: str = "", winerror: int | None = None):
        if winerror is not None:
            self.winerror = winerror
        super().__init__(message or STATUS_NAMES.get(self.winerror, "RtmError"))

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.winerror, str(self.winerror))

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else self.status_name


class InvalidHandle(RtmError, ValueError):
    """A stale, released, forged, wrong-kind or other-manager handle."""

    winerror = ERROR_INVALID_HANDLE


class AccessDenied(RtmError, PermissionError):
    """The object belongs to another entity."""

    winerror = ERROR_ACCESS_DENIED


class NotFound(RtmError, KeyError):
    """No such destination, route, next hop or item."""

    winerror = ERROR_NOT_FOUND


class InvalidParameter(RtmError, ValueError):
    """An argument is malformed or out of range; the table is unchanged."""

    winerror = ERROR_INVALID_PARAMETER


class AlreadyExists(RtmError, ValueError):
    """An entity with this identity is already registered."""

    winerror = ERROR_ALREADY_EXISTS


class NotSupported(RtmError, ValueError):
    """A view (or feature) the manager does not support."""

    winerror = ERROR_NOT_SUPPORTED


class NoSystemResources(RtmError, OSError):
    """A configured limit (registrations, opaque slots, ...) is exhausted."""

    winerror = ERROR_NO_SYSTEM_RESOURCES


class NotEnoughMemory(RtmError, MemoryError):
    """An allocation failed."""

    winerror = ERROR_NOT_ENOUGH_MEMORY


class InsufficientBuffer(RtmError, ValueError):
    """The caller's capacity is smaller than the number of items."""

    winerror = ERROR_INSUFFICIENT_BUFFER


class NoMoreItems(RtmError, LookupError):
    """An enumeration or change queue is exhausted."""

    winerror = ERROR_NO_MORE_ITEMS


class InvalidData(RtmError, ValueError):
    """Input data is damaged or not in the expected format."""

    winerror = ERROR_INVALID_DATA


class BadConfiguration(RtmError, ValueError):
    """The manager's configuration is invalid."""

    winerror = ERROR_BAD_CONFIGURATION


_BY_STATUS: dict[int, type[RtmError]] = {
    ERROR_INVALID_HANDLE: InvalidHandle,
    ERROR_ACCESS_DENIED: AccessDenied,
    ERROR_NOT_FOUND: NotFound,
    ERROR_INVALID_PARAMETER: InvalidParameter,
    ERROR_ALREADY_EXISTS: AlreadyExists,
    ERROR_NOT_SUPPORTED: NotSupported,
    ERROR_NO_SYSTEM_RESOURCES: NoSystemResources,
    ERROR_NOT_ENOUGH_MEMORY: NotEnoughMemory,
    ERROR_INSUFFICIENT_BUFFER: InsufficientBuffer,
    ERROR_NO_MORE_ITEMS: NoMoreItems,
    ERROR_INVALID_DATA: InvalidData,
    ERROR_BAD_CONFIGURATION: BadConfiguration,
    ERROR_FILE_NOT_FOUND: BadConfiguration,
}


def error_for_status(status: int, message: str = "") -> RtmError:
    """Return (do not raise) the exception for a non-zero Win32 status."""
    cls = _BY_STATUS.get(status, RtmError)
    err = cls(message or STATUS_NAMES.get(status, f"status {status}"))
    err.winerror = status
    return err


def raise_for_status(status: int, message: str = "") -> None:
    """Raise the exception for ``status``; do nothing for ``NO_ERROR``."""
    if status:
        raise error_for_status(status, message)
